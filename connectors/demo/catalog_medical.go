package demo

// specialty is one medical specialty with the words patients search for and
// the questions they ask.
type specialty struct {
	name     string
	title    string // what the doctor is called: "paediatrician"
	keywords string
	hospital string // "%s" is the city; empty picks a general hospital
	reasons  []string
	answer   string
}

var specialties = []specialty{
	{"General Practice", "general practitioner", "general practice, gp, family medicine, family doctor, fever, cold, flu, cough, check-up, primary care",
		"", []string{"Persistent cough for two weeks", "Annual health check-up", "Fever and sore throat", "Feeling tired all the time"},
		"Rest, drink plenty of fluids and monitor your temperature. If the fever lasts more than three days or you have trouble breathing, book an appointment."},
	{"Paediatrics", "paediatrician", "paediatrics, pediatrics, paediatrician, pediatrician, children, child, kids, baby, infant, newborn, vaccination, growth",
		"%s Children's Hospital", []string{"Child has a fever and rash", "Vaccination schedule for my baby", "Toddler not eating well", "Newborn check-up"},
		"Fever with a rash in young children is usually viral, but keep your child hydrated and come in if the rash does not fade when pressed."},
	{"Cardiology", "cardiologist", "cardiology, cardiologist, heart, blood pressure, hypertension, chest pain, palpitations, cholesterol",
		"", []string{"High blood pressure readings", "Chest tightness when climbing stairs", "Heart palpitations at night", "Cholesterol results follow-up"},
		"Keep a blood pressure diary twice a day for a week and reduce salt. Chest pain at rest needs emergency care straight away."},
	{"Dermatology", "dermatologist", "dermatology, dermatologist, skin, acne, eczema, rash, allergy, mole, psoriasis",
		"", []string{"Acne that does not improve", "Itchy eczema on my hands", "A mole that changed shape", "Skin allergy after new cream"},
		"Use a gentle fragrance-free moisturiser and avoid the new product. A mole that changes shape should be examined in person."},
	{"Obstetrics and Gynaecology", "obstetrician", "obstetrics, gynaecology, gynecology, pregnancy, prenatal, antenatal, women's health, fertility",
		"%s Maternal and Child Health Hospital", []string{"First prenatal visit", "Irregular periods", "Pregnancy nausea", "Fertility consultation"},
		"Mild nausea is common in the first trimester. Eat small frequent meals and take folic acid; we can review at your prenatal visit."},
	{"Orthopaedics", "orthopaedic surgeon", "orthopaedics, orthopedics, bone, joint, knee, back pain, fracture, sports injury, shoulder",
		"", []string{"Knee pain after running", "Lower back pain", "Shoulder injury from basketball", "Follow-up on wrist fracture"},
		"Rest the knee, use ice for twenty minutes three times a day and avoid running for two weeks. Swelling that persists needs an X-ray."},
	{"Ophthalmology", "ophthalmologist", "ophthalmology, eye, eyes, vision, glasses, myopia, dry eye, cataract",
		"%s Eye Hospital", []string{"Blurred vision", "Child's myopia check", "Dry eyes from screen work", "Cataract assessment"},
		"Take a break from screens every twenty minutes and use preservative-free eye drops. Sudden vision loss is an emergency."},
	{"ENT", "ENT specialist", "ent, ear, nose, throat, sinus, hearing, tonsils, otolaryngology",
		"", []string{"Blocked nose for a month", "Ear pain", "Recurring sore throat", "Hearing loss in one ear"},
		"A saline nasal rinse twice a day often helps sinus congestion. If it lasts more than twelve weeks we should examine the sinuses."},
	{"Psychiatry", "psychiatrist", "psychiatry, mental health, anxiety, depression, stress, insomnia, sleep, counselling",
		"%s Mental Health Centre", []string{"Trouble sleeping", "Feeling anxious at work", "Low mood for weeks", "Medication review"},
		"Keep a regular sleep schedule and avoid screens before bed. If low mood lasts more than two weeks, an appointment is worthwhile."},
	{"Dentistry", "dentist", "dentistry, dentist, dental, tooth, teeth, toothache, cleaning, braces, orthodontics",
		"%s Stomatological Hospital", []string{"Toothache", "Teeth cleaning", "Braces consultation for my child", "Bleeding gums"},
		"Rinse with warm salt water and avoid very hot or cold food. A toothache lasting more than two days needs a dental exam."},
	{"Endocrinology", "endocrinologist", "endocrinology, diabetes, blood sugar, thyroid, hormones, metabolism, weight",
		"", []string{"High blood sugar result", "Thyroid nodule follow-up", "Diabetes diet advice", "Unexplained weight gain"},
		"Your fasting glucose is borderline. Cut sugary drinks, walk thirty minutes a day and repeat the test with HbA1c in three months."},
	{"Gastroenterology", "gastroenterologist", "gastroenterology, stomach, digestion, acid reflux, heartburn, bloating, gastritis, liver",
		"", []string{"Heartburn after meals", "Stomach pain and bloating", "Gastroscopy consultation", "Liver function results"},
		"Avoid late meals, spicy food and alcohol, and raise the head of your bed. Persistent reflux may need a gastroscopy."},
	{"Neurology", "neurologist", "neurology, headache, migraine, dizziness, numbness, stroke, seizure, nerves",
		"", []string{"Frequent migraines", "Dizziness when standing", "Numbness in fingers", "Headache follow-up"},
		"Keep a headache diary with triggers and sleep times. A sudden severe headache or weakness on one side needs emergency care."},
	{"Traditional Chinese Medicine", "TCM practitioner", "traditional chinese medicine, tcm, acupuncture, herbal medicine, cupping, tuina, qi",
		"%s Hospital of Traditional Chinese Medicine", []string{"Acupuncture for neck pain", "Herbal treatment for fatigue", "Cupping therapy", "Digestive issues"},
		"A course of acupuncture twice a week for four weeks can ease chronic neck pain, combined with posture exercises."},
}

var generalHospitals = []string{"%s First People's Hospital", "%s Lakeside General Hospital", "%s Union Medical Centre", "%s Harmony Clinic", "%s Riverside Hospital", "%s University Hospital"}

// consultationSlotTimes are the minutes after midnight of a doctor's daily slots.
var consultationSlotTimes = []int{9 * 60, 9*60 + 30, 10 * 60, 10*60 + 30, 14 * 60, 14*60 + 30, 15 * 60, 15*60 + 30}
