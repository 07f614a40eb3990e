package demo

import (
	"hash/fnv"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/media"
)

// Display fields (contract 1.3) of the demo data: images, discounts, review
// counts, opening hours, minimum orders and delivery fees. They are derived
// from an item's ID and name when the item is read (the clone functions),
// never drawn from the provider's random stream, so adding them left every
// generated ID, price and slot as it was, costs no memory per item, and a
// discount follows the price when churn changes it.

// placeholder is a gateway-served picture of label at w×h pixels (package
// media draws it): the demo providers have no pictures of their own, and a
// real provider sends its own https URLs.
func placeholder(label string, w, h int) connectors.Image {
	return connectors.Image{URL: media.PlaceholderURL(label, w, h), Width: w, Height: h}
}

// hashOf mixes parts into a stable number for the derived fields.
func hashOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// reviewsFor is a review count between 3 and 2,400, larger for items rated
// higher, as on real marketplaces.
func reviewsFor(id string, rating float64) int {
	return 3 + int(hashOf("reviews", id)%uint64(400+int(rating*400)))
}

// discountPercent is the product's discount: a fifth of the products are
// 10 to 30 percent off.
func discountPercent(storeID, productID string) int64 {
	h := hashOf("discount", storeID, productID)
	if h%5 != 0 {
		return 0
	}
	return 10 + int64(h/5%5)*5
}

func decorateProduct(p *connectors.Product) {
	p.Images = []connectors.Image{placeholder(p.Name, 640, 640)}
	p.ReviewCount = reviewsFor(p.ID, p.Rating)
	p.OriginalPrice = nil
	if d := discountPercent(p.StoreID, p.ID); d > 0 {
		// The price before the discount, rounded up to 10 fen: always above
		// the price, in the same currency.
		orig := (p.Price.Amount*100/(100-d) + 9) / 10 * 10
		if orig <= p.Price.Amount {
			orig = p.Price.Amount + 10
		}
		p.OriginalPrice = &connectors.Money{Amount: orig, Currency: p.Price.Currency}
	}
}

// storeHours are the demo's three opening patterns.
var storeHours = [][2]string{{"08:00", "22:00"}, {"07:00", "23:00"}, {"00:00", "24:00"}}

func decorateStore(s *connectors.Store) {
	h := hashOf("store", s.ID, s.Name)
	logo := placeholder(s.Name, 256, 256)
	s.Logo = &logo
	s.ReviewCount = reviewsFor(s.ID, s.Rating)
	open := storeHours[h%uint64(len(storeHours))]
	s.OpeningHours = make([]connectors.OpeningHours, 0, 7)
	for _, d := range connectors.Weekdays[1:] {
		s.OpeningHours = append(s.OpeningHours, connectors.OpeningHours{Day: d, Opens: open[0], Closes: open[1]})
	}
	s.OpeningHours = append(s.OpeningHours, connectors.OpeningHours{Day: connectors.Weekdays[0], Opens: open[0], Closes: open[1]})
	s.MinimumOrder = &connectors.Money{Amount: []int64{2000, 3000, 4900}[h/3%3], Currency: "CNY"}
	s.DeliveryFee = &connectors.Money{Amount: []int64{0, 500, 800}[h/9%3], Currency: "CNY"}
}

func decorateDoctor(d *connectors.Doctor) {
	p := placeholder(d.Name, 400, 400)
	d.Portrait, d.ReviewCount = &p, reviewsFor(d.ID, d.Rating)
}

func decorateLawyer(l *connectors.Lawyer) {
	p := placeholder(l.Name, 400, 400)
	l.Portrait, l.ReviewCount = &p, reviewsFor(l.ID, l.Rating)
}

func decorateService(s *connectors.GovService) { s.ReviewCount = reviewsFor(s.ID, s.Rating) }
