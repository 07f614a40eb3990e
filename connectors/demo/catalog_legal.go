package demo

// practiceArea is one area of law with the words clients search for and the
// matters they bring.
type practiceArea struct {
	name     string
	keywords string
	topics   []string
	details  string
	focus    string // for the bio
}

var practiceAreas = []practiceArea{
	{"Family", "family law, divorce, child custody, custody, marriage, alimony, child support, prenuptial agreement, separation",
		[]string{"Divorce and division of property", "Child custody arrangement", "Prenuptial agreement", "Child support payments"},
		"We have been married eight years and own a flat together; I want to understand how a divorce would divide it and who keeps custody of our daughter.",
		"divorce, child custody and prenuptial agreements"},
	{"Labour", "labour law, labor law, employment, dismissal, unfair dismissal, wages, unpaid salary, overtime, labour contract, work injury, severance",
		[]string{"Unpaid overtime", "Dismissed without notice", "Severance pay negotiation", "Work injury compensation"},
		"My employer ended my contract without notice after five years and refuses to pay severance. What compensation am I entitled to?",
		"unfair dismissal, unpaid wages and severance"},
	{"Property", "property law, real estate, housing, tenancy, lease, landlord, rent deposit, home purchase, property title",
		[]string{"Landlord keeps rent deposit", "Reviewing a home purchase contract", "Property title transfer", "Lease termination"},
		"My landlord refuses to return a two-month deposit after I moved out, claiming wear and tear. How can I get it back?",
		"tenancy disputes, home purchases and title transfers"},
	{"Immigration", "immigration, visa, work permit, residence permit, green card, permanent residence, foreigner, passport",
		[]string{"Work permit for a foreign employee", "Residence permit renewal", "Permanent residence application", "Visa overstay"},
		"I am a foreign engineer changing employers; do I need a new work permit and residence permit before starting?",
		"work permits, residence permits and visas"},
	{"Business", "business law, company formation, corporate, startup, shareholder agreement, contracts, commercial contract, compliance, m&a",
		[]string{"Registering a limited company", "Shareholder agreement review", "Commercial contract dispute", "Compliance check for a startup"},
		"Three of us are founding a startup and want a shareholder agreement covering vesting, roles and exits.",
		"company formation, shareholder agreements and commercial contracts"},
	{"Intellectual Property", "intellectual property, ip, trademark, patent, copyright, infringement, brand, licensing",
		[]string{"Trademark registration", "Copyright infringement online", "Patent application", "Licensing agreement"},
		"Another shop on an e-commerce platform is selling products under our registered brand name. What can we do?",
		"trademarks, copyright and patents"},
	{"Criminal Defence", "criminal law, criminal defence, criminal defense, police, detention, bail, fraud, traffic offence",
		[]string{"Questioned by police", "Bail application", "Fraud accusation", "Drink-driving charge"},
		"A relative has been detained for questioning about a fraud case; what are his rights and can we apply for bail?",
		"police questioning, bail and fraud cases"},
	{"Consumer Protection", "consumer rights, consumer protection, refund, defective product, e-commerce dispute, warranty, scam",
		[]string{"Refund refused for defective product", "Online shopping dispute", "Misleading advertising", "Gym membership cancellation"},
		"I bought a washing machine that broke after two weeks and the shop refuses a refund or replacement.",
		"refunds, defective products and e-commerce disputes"},
	{"Inheritance", "inheritance, wills, will, estate, succession, probate, heirs",
		[]string{"Drafting a will", "Dividing a parent's estate", "Disputed inheritance", "Inheriting a flat"},
		"My father passed away without a will; how is his flat divided between my mother, my sister and me?",
		"wills, estates and inheritance disputes"},
	{"Traffic Accidents", "traffic accident, car accident, insurance claim, personal injury, compensation, road accident",
		[]string{"Car accident compensation", "Insurance claim rejected", "Injury from an e-bike collision", "Liability dispute"},
		"An e-bike hit me at a crossing and I broke my wrist; the rider's insurer offers very little. What can I claim?",
		"accident compensation and insurance claims"},
}

var firmPatterns = []string{"%s & %s Law Firm", "%s Partners", "%s Harmony Law Offices", "%s Justice Law Firm", "%s & Associates"}

// legalMeetingHours are the start hours offered for scheduled consultations.
var legalMeetingHours = []int{10, 14, 16}
