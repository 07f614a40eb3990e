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
	focus    string // for the bio: "children's fevers, growth checks and vaccinations"
}

var specialties = []specialty{
	{"General Practice", "general practitioner", "general practice, gp, family medicine, family doctor, fever, cold, flu, cough, check-up, primary care",
		"", []string{"Persistent cough for two weeks", "Annual health check-up", "Fever and sore throat", "Feeling tired all the time"},
		"From what you describe this is most likely a common, self-limiting problem. Rest, drink plenty of fluids and watch for warning signs such as a fever above 39°C, trouble breathing or symptoms lasting more than a week; if they appear, book an appointment.",
		"fevers, coughs, chronic conditions and annual check-ups"},
	{"Paediatrics", "paediatrician", "paediatrics, pediatrics, paediatrician, pediatrician, children, child, kids, baby, infant, newborn, vaccination, growth",
		"%s Children's Hospital", []string{"Child has a fever and rash", "Vaccination schedule for my baby", "Toddler not eating well", "Newborn check-up"},
		"Children often recover from this quickly, but keep your child well hydrated, note their temperature and appetite, and bring them in if they become drowsy, stop drinking or the symptoms last more than three days.",
		"children's fevers, growth checks and vaccinations"},
	{"Cardiology", "cardiologist", "cardiology, cardiologist, heart, blood pressure, hypertension, chest pain, palpitations, cholesterol",
		"", []string{"High blood pressure readings", "Chest tightness when climbing stairs", "Heart palpitations at night", "Cholesterol results follow-up"},
		"Keep a blood pressure and pulse diary twice a day for a week, cut down on salt and bring the readings to an appointment. Chest pain at rest or with breathlessness needs emergency care straight away.",
		"high blood pressure, chest pain and heart rhythm problems"},
	{"Dermatology", "dermatologist", "dermatology, dermatologist, skin, acne, eczema, rash, allergy, mole, psoriasis",
		"", []string{"Acne that does not improve", "Itchy eczema on my hands", "A mole that changed shape", "Skin allergy after new cream"},
		"Use a gentle fragrance-free moisturiser and stop any new product that might be the cause. If the problem spreads, bleeds or changes shape, it should be examined in person.",
		"acne, eczema, skin allergies and mole checks"},
	{"Obstetrics and Gynaecology", "obstetrician", "obstetrics, gynaecology, gynecology, pregnancy, prenatal, antenatal, women's health, fertility",
		"%s Maternal and Child Health Hospital", []string{"First prenatal visit", "Irregular periods", "Pregnancy nausea", "Fertility consultation"},
		"This is common and usually manageable. Keep a note of dates and symptoms; we can review them together at an appointment, and please seek care at once for heavy bleeding or severe pain.",
		"pregnancy care, menstrual problems and fertility"},
	{"Orthopaedics", "orthopaedic surgeon", "orthopaedics, orthopedics, bone, joint, knee, back pain, fracture, sports injury, shoulder",
		"", []string{"Knee pain after running", "Lower back pain", "Shoulder injury from basketball", "Follow-up on wrist fracture"},
		"Rest the painful area, use ice for twenty minutes three times a day and avoid the activity that triggers it for two weeks. Pain or swelling that persists needs an examination and possibly an X-ray.",
		"joint pain, back pain, fractures and sports injuries"},
	{"Ophthalmology", "ophthalmologist", "ophthalmology, eye, eyes, vision, glasses, myopia, dry eye, cataract",
		"%s Eye Hospital", []string{"Blurred vision", "Child's myopia check", "Dry eyes from screen work", "Cataract assessment"},
		"Take regular breaks from screens and use preservative-free lubricating drops. An eye exam will clarify the cause; sudden loss of vision or a painful red eye is an emergency.",
		"vision problems, myopia, dry eyes and cataracts"},
	{"ENT", "ENT specialist", "ent, ear, nose, throat, sinus, hearing, tonsils, otolaryngology",
		"", []string{"Blocked nose for a month", "Ear pain", "Recurring sore throat", "Hearing loss in one ear"},
		"Saline rinses and steam often ease these symptoms. If they last more than a few weeks, or you notice hearing loss or bleeding, we should examine you in person.",
		"ear, nose and throat problems, sinus trouble and hearing loss"},
	{"Psychiatry", "psychiatrist", "psychiatry, mental health, anxiety, depression, stress, insomnia, sleep, counselling",
		"%s Mental Health Centre", []string{"Trouble sleeping", "Feeling anxious at work", "Low mood for weeks", "Medication review"},
		"Thank you for reaching out. Keep a regular sleep schedule, stay active and talk to people you trust. If this lasts more than two weeks or you have thoughts of harming yourself, please seek help immediately.",
		"anxiety, low mood, stress and sleep problems"},
	{"Dentistry", "dentist", "dentistry, dentist, dental, tooth, teeth, toothache, cleaning, braces, orthodontics",
		"%s Stomatological Hospital", []string{"Toothache", "Teeth cleaning", "Braces consultation for my child", "Bleeding gums"},
		"Rinse with warm salt water, brush gently twice a day and avoid very hot or cold food. Pain lasting more than two days or swelling needs a dental exam.",
		"toothache, cleaning, braces and gum care"},
	{"Endocrinology", "endocrinologist", "endocrinology, diabetes, blood sugar, thyroid, hormones, metabolism, weight",
		"", []string{"High blood sugar result", "Thyroid nodule follow-up", "Diabetes diet advice", "Unexplained weight gain"},
		"Cut sugary drinks, walk thirty minutes a day and bring your recent blood test results to an appointment; we may repeat the tests in three months to see the trend.",
		"diabetes, thyroid conditions and metabolism"},
	{"Gastroenterology", "gastroenterologist", "gastroenterology, stomach, digestion, acid reflux, heartburn, bloating, gastritis, liver",
		"", []string{"Heartburn after meals", "Stomach pain and bloating", "Gastroscopy consultation", "Liver function results"},
		"Avoid late and spicy meals and alcohol for a few weeks and note what makes it worse. Persistent symptoms, weight loss or black stools need further tests.",
		"reflux, stomach pain, digestion and liver health"},
	{"Neurology", "neurologist", "neurology, headache, migraine, dizziness, numbness, stroke, seizure, nerves",
		"", []string{"Frequent migraines", "Dizziness when standing", "Numbness in fingers", "Headache follow-up"},
		"Keep a diary of symptoms, sleep and possible triggers. A sudden severe headache, weakness on one side or slurred speech needs emergency care.",
		"headaches, migraines, dizziness and numbness"},
	{"Traditional Chinese Medicine", "TCM practitioner", "traditional chinese medicine, tcm, acupuncture, herbal medicine, cupping, tuina, qi",
		"%s Hospital of Traditional Chinese Medicine", []string{"Acupuncture for neck pain", "Herbal treatment for fatigue", "Cupping therapy", "Digestive issues"},
		"A course of treatment twice a week for four weeks, together with rest and a balanced diet, often helps. Bring any current medicines so we can check for interactions.",
		"acupuncture, herbal medicine and tuina massage"},
}

var generalHospitals = []string{"%s First People's Hospital", "%s Lakeside General Hospital", "%s Union Medical Centre", "%s Harmony Clinic", "%s Riverside Hospital", "%s University Hospital"}

// consultationSlotTimes are the minutes after midnight of a doctor's daily slots.
var consultationSlotTimes = []int{9 * 60, 9*60 + 30, 10 * 60, 10*60 + 30, 14 * 60, 14*60 + 30, 15 * 60, 15*60 + 30}
