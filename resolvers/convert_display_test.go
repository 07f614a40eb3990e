package resolvers

import (
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
)

func TestDisplayConversions(t *testing.T) {
	cny := func(a int64) *connectors.Money { return &connectors.Money{Amount: a, Currency: "CNY"} }
	for _, tc := range []struct {
		name     string
		price    connectors.Money
		original *connectors.Money
		wantOrig bool
		wantPct  int
	}{
		{"no discount", *cny(1000), nil, false, 0},
		{"25% off", *cny(750), cny(1000), true, 25},
		{"rounded down", *cny(999), cny(1500), true, 33},
		{"an original price not above the price is dropped", *cny(1000), cny(1000), false, 0},
		{"an original price in another currency is dropped", *cny(1000), &connectors.Money{Amount: 2000, Currency: "USD"}, false, 0},
	} {
		p := toProduct("shop", connectors.Product{ID: "p", Price: tc.price, OriginalPrice: tc.original})
		if (p.OriginalPrice != nil) != tc.wantOrig || p.DiscountPercent != tc.wantPct {
			t.Errorf("%s: originalPrice %v, discountPercent %d; want present %v, %d", tc.name, p.OriginalPrice, p.DiscountPercent, tc.wantOrig, tc.wantPct)
		}
		if p.Images == nil {
			t.Errorf("%s: images is nil, want an empty list", tc.name)
		}
	}

	for _, in := range [][]connectors.Image{nil, {{URL: "/a.svg", Width: 640, Height: 480}}, {{URL: "/a.svg", Width: 1, Height: 2}, {URL: "/b.svg", Width: 3, Height: 4}}} {
		got := toProduct("shop", connectors.Product{ID: "p", Images: in}).Images
		if len(got) != len(in) {
			t.Fatalf("images %v from %v", got, in)
		}
		for i, im := range got {
			if im == nil || im.URL != in[i].URL || im.Width != in[i].Width || im.Height != in[i].Height {
				t.Errorf("image %d: %+v from %+v", i, im, in[i])
			}
		}
	}

	s := toStore("shop", connectors.Store{ID: "s", OpeningHours: []connectors.OpeningHours{
		{Day: "MONDAY", Opens: "08:00", Closes: "22:00"}, {Day: "Funday", Opens: "08:00", Closes: "22:00"}, {Day: "TUESDAY", Opens: "8am", Closes: "22:00"},
	}})
	if len(s.OpeningHours) != 1 || s.OpeningHours[0].Day != "MONDAY" || s.Logo != nil || s.MinimumOrder != nil {
		t.Errorf("store %+v: want only the valid Monday period and no logo or minimum order", s)
	}
	if l := toProvider(connectors.Descriptor{ID: "shop", Name: "Fresh Shop"}).Logo; l == nil || l.URL != "/media/placeholder/256x256/Fresh%20Shop.svg" {
		t.Errorf("provider logo %+v", l)
	}
}
