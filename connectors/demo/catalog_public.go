package demo

// serviceTemplate is one government service; each public-service provider
// offers every template in (most of) its cities.
type serviceTemplate struct {
	slug, name, category, desc string
	docs                       []string
	fee                        int64 // fen
	days                       int
	tags                       string
}

var serviceTemplates = []serviceTemplate{
	{"id-card-renewal", "ID Card Renewal", "Identity", "Renew a resident identity card that is expiring or has expired. Photo taken on site.",
		[]string{"Current ID card", "Household register (hukou booklet)"}, 2000, 20, "id card,identity card,renewal,expired id"},
	{"id-card-replacement", "Lost ID Card Replacement", "Identity", "Replace a lost or stolen resident identity card and get a temporary ID card meanwhile.",
		[]string{"Household register (hukou booklet)", "Loss report"}, 4000, 20, "id card,lost,stolen,temporary id"},
	{"residence-permit", "Residence Permit Application", "Identity", "Apply for a residence permit after living in the city for six months.",
		[]string{"ID card", "Proof of address", "Employment or study certificate"}, 0, 15, "residence permit,juzhuzheng,migrant,newcomer"},
	{"household-registration-transfer", "Household Registration Transfer", "Household", "Move your household registration (hukou) into or out of the city.",
		[]string{"ID card", "Household register (hukou booklet)", "Transfer approval letter", "Proof of address"}, 0, 30, "hukou,household registration,transfer,move"},
	{"newborn-household-registration", "Newborn Household Registration", "Household", "Register a newborn child in the parents' household register and obtain the child's ID number.",
		[]string{"Birth medical certificate", "Parents' ID cards", "Household register (hukou booklet)", "Marriage certificate"}, 0, 7, "newborn,birth registration,baby,hukou,household registration"},
	{"social-security-record", "Social Security Record", "Social Security", "Print an official record of your social insurance contributions, for visas, mortgages or job changes.",
		[]string{"ID card"}, 0, 1, "social security,social insurance,contribution record,pension,statement"},
	{"social-security-card", "Social Security Card Application", "Social Security", "Apply for or replace a social security card with medical insurance functions.",
		[]string{"ID card", "Photo"}, 0, 15, "social security card,medical insurance,shebao"},
	{"medical-insurance-registration", "Medical Insurance Registration", "Social Security", "Enrol in urban resident basic medical insurance.",
		[]string{"ID card", "Household register (hukou booklet)"}, 0, 5, "medical insurance,health insurance,enrolment"},
	{"pension-application", "Retirement Pension Application", "Social Security", "Start receiving the basic retirement pension on reaching retirement age.",
		[]string{"ID card", "Social security card", "Bank card", "Employment history record"}, 0, 20, "pension,retirement,elderly"},
	{"unemployment-benefit", "Unemployment Benefit Claim", "Social Security", "Claim unemployment insurance benefits after losing a job.",
		[]string{"ID card", "Termination certificate", "Bank card"}, 0, 10, "unemployment,benefits,job loss,dismissal"},
	{"housing-fund-withdrawal", "Housing Provident Fund Withdrawal", "Housing", "Withdraw from your housing provident fund for rent, a home purchase or retirement.",
		[]string{"ID card", "Bank card", "Rental contract or purchase contract"}, 0, 3, "housing fund,provident fund,gongjijin,rent,mortgage"},
	{"property-title-registration", "Property Title Registration", "Housing", "Register a property title after a purchase, inheritance or gift.",
		[]string{"ID card", "Purchase contract", "Tax payment receipt", "Previous title certificate"}, 8000, 10, "property,real estate,title deed,home purchase"},
	{"electricity-bill-payment", "Electricity Bill Payment", "Utilities", "Pay household electricity bills and arrears; set up automatic payment.",
		[]string{"Utility account number"}, 0, 0, "utility bill,electricity,power,bill payment"},
	{"water-bill-payment", "Water Bill Payment", "Utilities", "Pay household water bills and request a meter check.",
		[]string{"Utility account number"}, 0, 0, "utility bill,water,bill payment"},
	{"gas-bill-payment", "Gas Bill Payment", "Utilities", "Pay piped gas bills and book a safety inspection.",
		[]string{"Utility account number"}, 0, 0, "utility bill,gas,bill payment"},
	{"utility-account-transfer", "Utility Account Transfer", "Utilities", "Transfer electricity, water and gas accounts to a new owner or tenant.",
		[]string{"ID card", "Property title certificate or rental contract", "Utility account number"}, 0, 3, "utility bill,account transfer,moving house"},
	{"business-licence", "Business Licence Registration", "Business", "Register a new company or sole proprietorship and receive a business licence.",
		[]string{"ID card", "Articles of association", "Proof of business address", "Name pre-approval notice"}, 0, 5, "business licence,business license,company registration,startup,sole proprietor"},
	{"business-licence-amendment", "Business Licence Amendment", "Business", "Change a company's name, address, legal representative or scope of business.",
		[]string{"Business licence", "ID card", "Shareholder resolution"}, 0, 5, "business licence,business license,amendment,change of address"},
	{"business-deregistration", "Company Deregistration", "Business", "Close down a company and cancel its business licence.",
		[]string{"Business licence", "Liquidation report", "Tax clearance certificate"}, 0, 20, "company closure,deregistration,business licence"},
	{"food-business-permit", "Food Business Permit", "Business", "Apply for the permit required to sell food or run a restaurant.",
		[]string{"Business licence", "ID card", "Floor plan", "Health certificates of staff"}, 0, 15, "food permit,restaurant,catering,licence"},
	{"passport-application", "Passport Application", "Travel", "Apply for a first ordinary passport. Fingerprints and photo taken on site.",
		[]string{"ID card", "Household register (hukou booklet)", "Photo"}, 12000, 7, "passport,travel,going abroad,first passport"},
	{"passport-renewal", "Passport Renewal", "Travel", "Renew an expiring passport or replace a full one.",
		[]string{"ID card", "Current passport", "Photo"}, 12000, 7, "passport,renewal,travel"},
	{"hk-macau-travel-permit", "Hong Kong and Macau Travel Permit", "Travel", "Apply for or renew the exit-entry permit for travelling to Hong Kong and Macau, with endorsements.",
		[]string{"ID card", "Photo"}, 6000, 7, "travel permit,hong kong,macau,endorsement"},
	{"driving-licence-renewal", "Driving Licence Renewal", "Transport", "Renew a driving licence before it expires. Includes a basic health check.",
		[]string{"ID card", "Current driving licence", "Medical certificate", "Photo"}, 1000, 1, "driving licence,driving license,driver's license,renewal,car"},
	{"driving-test-registration", "Driving Test Registration", "Transport", "Book a theory or road driving test.",
		[]string{"ID card", "Driving school certificate", "Medical certificate"}, 0, 1, "driving test,driving licence,exam,learner"},
	{"vehicle-registration", "Vehicle Registration", "Transport", "Register a new or second-hand vehicle and receive number plates.",
		[]string{"ID card", "Vehicle purchase invoice", "Compulsory insurance certificate", "Vehicle certificate of conformity"}, 12500, 1, "vehicle registration,car,number plate,license plate"},
	{"vehicle-annual-inspection", "Vehicle Annual Inspection", "Transport", "Book the periodic safety inspection of a private vehicle.",
		[]string{"Vehicle registration certificate", "Compulsory insurance certificate"}, 20000, 1, "vehicle inspection,car,annual check"},
	{"marriage-registration", "Marriage Registration", "Family", "Register a marriage; both partners attend in person and receive marriage certificates.",
		[]string{"ID cards of both partners", "Household registers of both partners", "Photos of the couple"}, 900, 0, "marriage,wedding,marriage certificate,married"},
	{"divorce-registration", "Divorce Registration", "Family", "Register a divorce by mutual agreement, after the 30-day cooling-off period.",
		[]string{"ID cards of both partners", "Marriage certificates", "Divorce agreement"}, 0, 30, "divorce,separation,family"},
	{"birth-certificate", "Birth Certificate", "Family", "Obtain a birth medical certificate record for a newborn.",
		[]string{"Parents' ID cards", "Hospital discharge record"}, 0, 3, "birth,newborn,baby,birth certificate"},
	{"individual-income-tax-filing", "Individual Income Tax Filing", "Tax", "File the annual individual income tax reconciliation and claim deductions.",
		[]string{"ID card", "Income statements", "Bank card"}, 0, 15, "tax,income tax,tax return,tax filing,refund"},
	{"business-tax-filing", "Business Tax Filing", "Tax", "File VAT and corporate income tax returns for a business.",
		[]string{"Business licence", "Financial statements", "Invoices"}, 0, 10, "tax,vat,corporate tax,tax filing,business"},
	{"tax-clearance-certificate", "Tax Clearance Certificate", "Tax", "Obtain a certificate that all taxes are paid, for emigration or company closure.",
		[]string{"ID card"}, 0, 5, "tax,clearance,certificate"},
	{"criminal-record-certificate", "No Criminal Record Certificate", "Legal", "Obtain a certificate of no criminal record for jobs, visas or study abroad.",
		[]string{"ID card", "Household register (hukou booklet)"}, 0, 5, "criminal record,police certificate,background check,visa"},
	{"notarization", "Document Notarisation", "Legal", "Notarise degrees, contracts, powers of attorney and translations.",
		[]string{"ID card", "Original documents"}, 20000, 5, "notary,notarisation,notarization,certified copy,translation"},
	{"school-enrolment", "Primary School Enrolment", "Education", "Register a child for a public primary school place.",
		[]string{"Child's household register", "Parents' ID cards", "Proof of address", "Vaccination record"}, 0, 30, "school,enrolment,enrollment,children,education"},
	{"elderly-care-subsidy", "Elderly Care Subsidy", "Welfare", "Apply for a home-care or nursing subsidy for residents over 80 or with care needs.",
		[]string{"ID card", "Household register (hukou booklet)", "Care needs assessment"}, 0, 20, "elderly,senior,care,subsidy,welfare"},
	{"disability-certificate", "Disability Certificate", "Welfare", "Apply for a disability certificate for access to benefits and services.",
		[]string{"ID card", "Medical assessment", "Photo"}, 0, 30, "disability,welfare,benefits"},
}

// serviceCategories lists the categories in a fixed order.
var serviceCategories = []string{"Identity", "Household", "Social Security", "Housing", "Utilities", "Business", "Travel", "Transport", "Family", "Tax", "Legal", "Education", "Welfare"}

var officePatterns = []string{"%s %s District Citizen Service Centre", "%s %s Government Service Hall", "%s %s Administrative Service Centre"}

// officeSlotTimes are the minutes after midnight of an office's daily slots.
var officeSlotTimes = []int{9 * 60, 9*60 + 30, 10 * 60, 10*60 + 30, 11 * 60, 14 * 60, 14*60 + 30, 15 * 60, 15*60 + 30, 16 * 60}
