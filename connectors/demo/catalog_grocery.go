package demo

import "strings"

// productTemplate is one line of the grocery catalogue; stores sell variants
// of it ("Organic Whole Milk").
type productTemplate struct {
	name, category, unit string
	price                int64 // fen, before variant and store adjustments
	tags                 string
	origin               string
	desc                 string
	staple               bool // bought again and again: used for repeat orders
}

// productVariant is a range line applied to a template.
type productVariant struct {
	prefix, tag, blurb string
	factor             float64
}

var productVariants = []productVariant{
	{"", "", "", 1.0},
	{"Organic ", "organic", "Certified organic.", 1.6},
	{"Premium ", "premium", "Hand-selected premium grade.", 1.35},
	{"Value ", "value", "Everyday value pack.", 0.8},
	{"Family Pack ", "family pack", "Larger family-size pack.", 1.9},
}

var productTemplates = []productTemplate{
	// dairy
	{"Whole Milk", "dairy", "1 L", 1290, "milk,fresh milk,breakfast", "Inner Mongolia", "Fresh pasteurised whole milk, kept chilled.", true},
	{"Skimmed Milk", "dairy", "1 L", 1190, "milk,low fat,breakfast", "Inner Mongolia", "Low-fat skimmed milk for coffee and cereal.", false},
	{"Plain Yoghurt", "dairy", "500 g", 1590, "yoghurt,yogurt,probiotic", "Shanghai", "Thick set plain yoghurt with live cultures.", false},
	{"Strawberry Yoghurt Drink", "dairy", "6 x 100 g", 1890, "yoghurt,yogurt,kids,snack", "Hangzhou", "Drinkable yoghurt with strawberry, a lunchbox favourite.", false},
	{"Cheddar Cheese Slices", "dairy", "200 g", 2490, "cheese,sandwich", "New Zealand", "Mild cheddar slices for sandwiches.", false},
	{"Unsalted Butter", "dairy", "250 g", 2890, "butter,baking", "France", "Creamy unsalted butter for baking and toast.", false},
	{"Soy Milk", "dairy", "1 L", 890, "soy milk,dairy free,vegan,breakfast", "Heilongjiang", "Fresh soy milk made from non-GMO soybeans.", true},
	{"Oat Milk", "dairy", "1 L", 2290, "oat milk,milk alternative,dairy free,vegan", "Sweden", "Barista oat milk that froths well.", false},
	{"Free-Range Eggs", "dairy", "10 pcs", 1990, "eggs,egg,breakfast,protein", "Zhejiang", "Brown eggs from free-range hens.", true},
	// produce
	{"Bok Choy", "produce", "500 g", 590, "vegetables,greens,leafy", "Zhejiang", "Crisp baby bok choy, great stir-fried with garlic.", true},
	{"Tomatoes", "produce", "500 g", 790, "vegetables,salad", "Shandong", "Vine-ripened tomatoes.", true},
	{"Cucumber", "produce", "3 pcs", 490, "vegetables,salad", "Shandong", "Crunchy cucumbers for salads and smashed cucumber.", false},
	{"Potatoes", "produce", "1 kg", 690, "vegetables,root", "Inner Mongolia", "All-purpose potatoes.", false},
	{"Carrots", "produce", "500 g", 450, "vegetables,root,baby food", "Hebei", "Sweet carrots, good for purees.", false},
	{"Broccoli", "produce", "1 head", 890, "vegetables,greens", "Yunnan", "Fresh green broccoli.", false},
	{"Spinach", "produce", "300 g", 650, "vegetables,greens,leafy", "Jiangsu", "Tender young spinach leaves.", false},
	{"Shiitake Mushrooms", "produce", "250 g", 1290, "mushrooms,vegetables", "Fujian", "Fresh shiitake mushrooms with a deep savoury taste.", false},
	{"Ginger", "produce", "250 g", 590, "ginger,aromatics", "Shandong", "Fresh ginger root.", false},
	{"Garlic", "produce", "3 bulbs", 490, "garlic,aromatics", "Shandong", "Jinxiang purple garlic.", false},
	{"Spring Onions", "produce", "1 bunch", 290, "onion,aromatics", "Jiangsu", "Fresh spring onions.", false},
	{"Fuji Apples", "produce", "1 kg", 1590, "fruit,apple", "Shaanxi", "Sweet crunchy Fuji apples.", true},
	{"Bananas", "produce", "1 kg", 890, "fruit,banana,baby food", "Hainan", "Ripe bananas, a quick snack.", true},
	{"Mandarin Oranges", "produce", "1 kg", 1290, "fruit,citrus,orange,vitamin c", "Guangxi", "Easy-peel mandarins.", false},
	{"Strawberries", "produce", "500 g", 3990, "fruit,berries", "Dandong", "Sweet red strawberries.", false},
	{"Lychees", "produce", "500 g", 2990, "fruit,lychee,seasonal", "Guangdong", "Seasonal lychees from Guangdong.", false},
	{"Blueberries", "produce", "125 g", 2590, "fruit,berries,antioxidant", "Yunnan", "Plump blueberries.", false},
	{"Avocados", "produce", "2 pcs", 2490, "fruit,avocado,salad", "Mexico", "Hass avocados, ready to eat in two days.", false},
	// bakery
	{"White Sandwich Bread", "bakery", "400 g", 1290, "bread,toast,breakfast", "Shanghai", "Soft sliced white bread baked daily.", true},
	{"Wholemeal Bread", "bakery", "400 g", 1490, "bread,whole grain,high fibre", "Shanghai", "Sliced wholemeal loaf with whole grains.", false},
	{"Butter Croissants", "bakery", "4 pcs", 1990, "croissant,pastry,breakfast", "Shanghai", "Flaky all-butter croissants.", false},
	{"Steamed Buns", "bakery", "6 pcs", 990, "mantou,buns,breakfast", "Henan", "Fluffy steamed mantou buns.", false},
	{"Egg Tarts", "bakery", "4 pcs", 1590, "pastry,dessert,egg tart", "Guangdong", "Cantonese-style custard egg tarts.", false},
	{"Mooncakes", "bakery", "4 pcs", 6890, "mooncake,festival,gift", "Guangdong", "Lotus seed paste mooncakes with salted egg yolk.", false},
	// meat and seafood
	{"Pork Belly", "meat", "500 g", 2990, "pork,meat,braise", "Jiangxi", "Layered pork belly for red-braised pork.", false},
	{"Minced Pork", "meat", "400 g", 1990, "pork,meat,dumplings", "Zhejiang", "Lean minced pork for dumplings.", true},
	{"Chicken Breast", "meat", "500 g", 1890, "chicken,poultry,protein", "Shandong", "Skinless chicken breast fillets.", true},
	{"Chicken Wings", "meat", "500 g", 2490, "chicken,poultry,wings", "Shandong", "Chicken mid-wings for roasting.", false},
	{"Beef Brisket", "meat", "500 g", 4990, "beef,meat,stew", "Inner Mongolia", "Grass-fed beef brisket for slow stews.", false},
	{"Lamb Slices", "meat", "300 g", 4290, "lamb,mutton,hot pot", "Inner Mongolia", "Thin lamb slices for hot pot.", false},
	{"Atlantic Salmon Fillet", "seafood", "250 g", 5990, "salmon,fish,omega-3", "Norway", "Fresh Atlantic salmon fillet.", false},
	{"Whiteleg Shrimp", "seafood", "500 g", 4590, "shrimp,prawns,seafood", "Zhanjiang", "Whole shrimp, frozen at sea.", false},
	{"Yellow Croaker", "seafood", "1 fish", 3890, "fish,seafood,steamed fish", "Zhoushan", "Whole yellow croaker, cleaned.", false},
	{"Hairy Crab", "seafood", "2 pcs", 12800, "crab,seafood,seasonal", "Yangcheng Lake", "Yangcheng Lake hairy crabs in season.", false},
	// rice, grains and noodles
	{"Jasmine Rice", "rice & grains", "5 kg", 5990, "rice,jasmine rice,staple", "Thailand", "Fragrant Thai hom mali jasmine rice.", true},
	{"Northeast Rice", "rice & grains", "5 kg", 4990, "rice,staple,japonica", "Heilongjiang", "Wuchang short-grain rice, soft and sticky.", true},
	{"Brown Rice", "rice & grains", "2 kg", 3290, "rice,whole grain,high fibre", "Heilongjiang", "Whole-grain brown rice.", false},
	{"Glutinous Rice", "rice & grains", "1 kg", 1490, "rice,sticky rice,zongzi", "Jiangsu", "Sticky rice for zongzi and desserts.", false},
	{"Millet", "rice & grains", "1 kg", 1590, "grains,porridge,congee", "Shanxi", "Yellow millet for porridge.", false},
	{"Rolled Oats", "rice & grains", "1 kg", 2190, "oats,breakfast,porridge,whole grain", "Australia", "Rolled oats for breakfast porridge.", false},
	{"Wheat Noodles", "noodles", "1 kg", 1290, "noodles,staple", "Henan", "Dried wheat noodles.", true},
	{"Rice Noodles", "noodles", "500 g", 990, "noodles,rice noodles,gluten free", "Guangxi", "Guilin-style rice noodles.", false},
	{"Instant Ramen", "noodles", "5 packs", 1590, "noodles,instant,quick meal", "Taiwan", "Braised beef flavour instant noodles.", false},
	{"Frozen Pork Dumplings", "frozen", "1 kg", 3290, "dumplings,jiaozi,quick meal", "Beijing", "Pork and cabbage jiaozi, boil from frozen.", false},
	{"Frozen Soup Dumplings", "frozen", "500 g", 2890, "xiaolongbao,dumplings,breakfast", "Shanghai", "Xiaolongbao with rich pork broth.", false},
	{"Vanilla Ice Cream", "frozen", "1 L", 3990, "ice cream,dessert", "New Zealand", "Creamy vanilla ice cream.", false},
	{"Frozen Mixed Vegetables", "frozen", "1 kg", 1590, "vegetables,frozen vegetables", "Shandong", "Peas, corn and carrots.", false},
	// pantry
	{"Light Soy Sauce", "pantry", "500 ml", 1290, "soy sauce,sauce,seasoning", "Guangdong", "Naturally brewed light soy sauce.", true},
	{"Dark Soy Sauce", "pantry", "500 ml", 1390, "soy sauce,sauce,braise", "Guangdong", "Dark soy sauce for colour in braises.", false},
	{"Zhenjiang Black Vinegar", "pantry", "500 ml", 990, "vinegar,sauce,dumplings", "Jiangsu", "Aged black rice vinegar.", false},
	{"Oyster Sauce", "pantry", "510 g", 1590, "oyster sauce,sauce,stir fry", "Guangdong", "Rich oyster sauce for stir-fries.", false},
	{"Sichuan Chilli Oil", "pantry", "210 g", 1290, "chilli,spicy,sichuan,sauce", "Sichuan", "Crispy chilli oil with Sichuan pepper.", false},
	{"Doubanjiang Chilli Bean Paste", "pantry", "500 g", 1190, "chilli,sichuan,mapo tofu", "Pixian", "Fermented broad bean paste for mapo tofu.", false},
	{"Peanut Oil", "pantry", "5 L", 9990, "oil,cooking oil", "Shandong", "Pressed peanut cooking oil.", true},
	{"Extra Virgin Olive Oil", "pantry", "750 ml", 8990, "oil,olive oil,salad", "Spain", "Cold-pressed extra virgin olive oil.", false},
	{"Sesame Oil", "pantry", "250 ml", 1990, "oil,sesame,seasoning", "Henan", "Toasted sesame oil.", false},
	{"Sea Salt", "pantry", "500 g", 490, "salt,seasoning", "Hainan", "Fine sea salt.", false},
	{"Rock Sugar", "pantry", "500 g", 890, "sugar,baking,dessert", "Guangxi", "Yellow rock sugar for braises and tea.", false},
	{"Firm Tofu", "pantry", "400 g", 590, "tofu,vegan,protein,soy", "Anhui", "Firm tofu for stir-fries and mapo tofu.", true},
	{"Canned Tuna", "pantry", "3 x 185 g", 2990, "tuna,fish,canned", "Thailand", "Tuna chunks in spring water.", false},
	// beverages and tea
	{"Longjing Green Tea", "tea & coffee", "250 g", 16800, "tea,green tea,longjing,gift", "Hangzhou", "West Lake Longjing green tea, spring harvest.", false},
	{"Oolong Tea", "tea & coffee", "250 g", 9800, "tea,oolong,tieguanyin", "Fujian", "Anxi Tieguanyin oolong tea.", false},
	{"Pu'er Tea Cake", "tea & coffee", "357 g", 12800, "tea,pu'er,aged tea", "Yunnan", "Ripe pu'er tea pressed into a cake.", false},
	{"Jasmine Tea", "tea & coffee", "200 g", 5800, "tea,jasmine tea,flower tea", "Fujian", "Green tea scented with jasmine flowers.", false},
	{"Ground Coffee", "tea & coffee", "250 g", 6900, "coffee,arabica", "Yunnan", "Medium roast Yunnan arabica.", false},
	{"Mineral Water", "beverages", "12 x 550 ml", 2400, "water,drinks", "Changbai Mountain", "Natural mineral water.", true},
	{"Sparkling Water", "beverages", "6 x 330 ml", 2990, "water,sparkling,drinks", "Zhejiang", "Sugar-free sparkling water.", false},
	{"Orange Juice", "beverages", "1 L", 2290, "juice,orange,vitamin c,breakfast", "Brazil", "Not-from-concentrate orange juice.", false},
	{"Coconut Water", "beverages", "1 L", 1990, "coconut,drinks,hydration", "Hainan", "Pure coconut water.", false},
	{"Herbal Tea Drink", "beverages", "6 x 310 ml", 2190, "herbal tea,drinks,cooling", "Guangdong", "Cantonese cooling herbal tea.", false},
	// snacks
	{"Roasted Sunflower Seeds", "snacks", "500 g", 1590, "seeds,snack", "Inner Mongolia", "Spiced roasted sunflower seeds.", false},
	{"Mixed Nuts", "snacks", "500 g", 4990, "nuts,snack,healthy", "Xinjiang", "Walnuts, almonds and cashews.", false},
	{"Dark Chocolate", "snacks", "100 g", 1890, "chocolate,snack,sweets", "Belgium", "70% cocoa dark chocolate.", false},
	{"Seaweed Snack", "snacks", "10 packs", 1990, "seaweed,snack,kids", "Shandong", "Crispy roasted seaweed sheets.", false},
	{"Rice Crackers", "snacks", "400 g", 1290, "rice crackers,snack,kids", "Fujian", "Light puffed rice crackers.", false},
	{"Dried Mango", "snacks", "200 g", 1690, "dried fruit,mango,snack", "Philippines", "Soft dried mango slices.", false},
	// baby
	{"Infant Formula Stage 1", "baby", "800 g", 32800, "baby,infant formula,milk powder,newborn", "Netherlands", "Infant milk formula for babies 0-6 months.", true},
	{"Follow-On Formula Stage 2", "baby", "800 g", 29800, "baby,formula,milk powder", "New Zealand", "Follow-on milk formula for babies 6-12 months.", false},
	{"Baby Rice Cereal", "baby", "225 g", 4590, "baby food,baby,cereal,first foods", "Heilongjiang", "Iron-fortified rice cereal, a first food from 6 months.", false},
	{"Apple Puree Pouches", "baby", "4 x 90 g", 3290, "baby food,baby,fruit puree", "Germany", "Smooth apple puree for babies from 6 months.", false},
	{"Vegetable Puree Pouches", "baby", "4 x 90 g", 3490, "baby food,baby,vegetable puree", "Germany", "Carrot, pumpkin and sweet potato puree.", false},
	{"Baby Diapers Size M", "baby", "64 pcs", 12900, "diapers,nappies,baby", "Japan", "Breathable diapers for 6-11 kg.", true},
	{"Baby Wipes", "baby", "3 x 80 pcs", 3990, "wipes,baby,fragrance free", "Japan", "Fragrance-free water wipes for sensitive skin.", false},
	{"Teething Biscuits", "baby", "120 g", 2590, "baby food,baby,snack,teething", "France", "Melt-in-the-mouth teething biscuits.", false},
	// household and personal care
	{"Laundry Detergent", "household", "3 kg", 4990, "laundry,cleaning", "Guangdong", "Concentrated laundry liquid.", false},
	{"Dishwashing Liquid", "household", "1.5 kg", 1990, "dishes,cleaning", "Shanghai", "Grease-cutting dish soap.", false},
	{"Toilet Paper", "household", "12 rolls", 3990, "paper,bathroom", "Guangdong", "Soft four-ply toilet tissue.", true},
	{"Kitchen Paper Towels", "household", "6 rolls", 2490, "paper,kitchen,cleaning", "Guangdong", "Absorbent kitchen towels.", false},
	{"Bin Bags", "household", "100 pcs", 1590, "bags,bin,kitchen", "Zhejiang", "Strong drawstring bin bags.", false},
	{"Toothpaste", "personal care", "120 g", 1590, "toothpaste,dental,oral care", "Guangdong", "Fluoride toothpaste for cavity protection.", false},
	{"Shampoo", "personal care", "750 ml", 5990, "shampoo,hair care", "Guangdong", "Gentle daily shampoo.", false},
	{"Hand Soap", "personal care", "500 ml", 1990, "soap,hand wash,hygiene", "Shanghai", "Antibacterial hand wash.", false},
	{"Sunscreen SPF50", "personal care", "50 ml", 9800, "sunscreen,skin care,summer", "Japan", "Water-resistant SPF50 sunscreen.", false},
}

// templateTags splits a template's comma-separated tags.
func templateTags(t productTemplate) []string { return strings.Split(t.tags, ",") }

var storeTags = []string{"supermarket", "fresh produce", "organic", "imported food", "24h", "same-day delivery", "bakery", "baby care", "seafood"}

// districtsByCity gives stores and offices plausible addresses.
var districtsByCity = map[string][]string{
	"Hangzhou":  {"Xihu", "Binjiang", "Gongshu", "Shangcheng", "Yuhang"},
	"Shanghai":  {"Jing'an", "Xuhui", "Pudong", "Changning", "Huangpu"},
	"Beijing":   {"Chaoyang", "Haidian", "Dongcheng", "Xicheng", "Fengtai"},
	"Shenzhen":  {"Futian", "Nanshan", "Luohu", "Bao'an", "Longgang"},
	"Chengdu":   {"Jinjiang", "Wuhou", "Qingyang", "Jinniu", "Chenghua"},
	"Guangzhou": {"Tianhe", "Yuexiu", "Haizhu", "Liwan", "Panyu"},
}

var roadNames = []string{"Wensan", "Zhongshan", "Renmin", "Jiefang", "Yan'an", "Huaihai", "Xinhua", "Changjiang", "Heping", "Jianguo", "Fuxing", "Dongfeng"}

// district returns the i-th district of city, with generic names for cities
// the table does not know.
func district(city string, i int) string {
	ds := districtsByCity[city]
	if len(ds) == 0 {
		ds = []string{"Central", "North", "South", "East", "West"}
	}
	return ds[i%len(ds)]
}
