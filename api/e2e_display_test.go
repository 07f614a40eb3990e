package api_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

type image struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

type money struct {
	Amount   int    `json:"amount"`
	Currency string `json:"currency"`
}

// mustServeImage fetches img from the gateway (a path) and checks it is an
// SVG of the advertised size.
func mustServeImage(tb testing.TB, g *apitest.Gateway, img image) {
	tb.Helper()
	if !strings.HasPrefix(img.URL, "/media/placeholder/") || img.Width <= 0 || img.Height <= 0 {
		tb.Fatalf("image %+v", img)
	}
	resp, err := http.Get(g.URL + img.URL)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		tb.Fatalf("GET %s: %d %s", img.URL, resp.StatusCode, body)
	}
	if !strings.Contains(string(body), fmt.Sprintf(`width="%d"`, img.Width)) {
		tb.Fatalf("GET %s is not %dx%d: %s", img.URL, img.Width, img.Height, body)
	}
}

// TestDisplayFields: what an app shows beyond names and prices (contract
// 1.3) reaches the schema from the providers, and the pictures are served
// by the gateway itself.
func TestDisplayFields(t *testing.T) {
	g := startDemo(t)

	t.Run("products carry photos, review counts and, when discounted, the original price and percent off", func(t *testing.T) {
		d, _ := mustData[struct {
			Products conn[struct {
				Price           money   `json:"price"`
				OriginalPrice   *money  `json:"originalPrice"`
				DiscountPercent int     `json:"discountPercent"`
				ReviewCount     int     `json:"reviewCount"`
				Images          []image `json:"images"`
			}] `json:"products"`
		}](t, g, apitest.Request{Query: `{ products(first: 50) { edges { node {
			price { amount currency } originalPrice { amount currency } discountPercent reviewCount images { url width height } } } } }`})
		discounted := 0
		for _, p := range d.Products.nodes() {
			if len(p.Images) != 1 || p.ReviewCount <= 0 {
				t.Fatalf("product %+v", p)
			}
			if p.OriginalPrice == nil {
				if p.DiscountPercent != 0 {
					t.Fatalf("a discount without an original price: %+v", p)
				}
				continue
			}
			discounted++
			want := (p.OriginalPrice.Amount - p.Price.Amount) * 100 / p.OriginalPrice.Amount
			if p.OriginalPrice.Amount <= p.Price.Amount || p.OriginalPrice.Currency != p.Price.Currency || p.DiscountPercent != want || want < 5 {
				t.Fatalf("discount %+v, want %d%%", p, want)
			}
		}
		if discounted == 0 || discounted == len(d.Products.Edges) {
			t.Fatalf("%d of %d products discounted; the demo discounts about a fifth", discounted, len(d.Products.Edges))
		}
		mustServeImage(t, g, d.Products.Edges[0].Node.Images[0])
	})

	t.Run("stores carry a logo, opening hours for every day, a minimum order and a delivery fee", func(t *testing.T) {
		d, _ := mustData[struct {
			Stores conn[struct {
				Logo         *image `json:"logo"`
				ReviewCount  int    `json:"reviewCount"`
				OpeningHours []struct {
					Day    string `json:"day"`
					Opens  string `json:"opens"`
					Closes string `json:"closes"`
				} `json:"openingHours"`
				MinimumOrder *money `json:"minimumOrder"`
				DeliveryFee  *money `json:"deliveryFee"`
			}] `json:"stores"`
		}](t, g, apitest.Request{Query: `{ stores(first: 5) { edges { node {
			logo { url width height } reviewCount openingHours { day opens closes } minimumOrder { amount currency } deliveryFee { amount currency } } } } }`})
		for _, s := range d.Stores.nodes() {
			if s.Logo == nil || s.ReviewCount <= 0 || len(s.OpeningHours) != 7 || s.OpeningHours[0].Day != "MONDAY" ||
				s.MinimumOrder == nil || s.MinimumOrder.Amount <= 0 || s.DeliveryFee == nil || s.DeliveryFee.Currency != "CNY" {
				t.Fatalf("store %+v", s)
			}
		}
		mustServeImage(t, g, *d.Stores.Edges[0].Node.Logo)
	})

	t.Run("doctors and lawyers carry portraits and review counts, providers a logo", func(t *testing.T) {
		type person struct {
			Portrait    *image `json:"portrait"`
			ReviewCount int    `json:"reviewCount"`
			Provider    struct {
				Logo image `json:"logo"`
			} `json:"provider"`
		}
		d, _ := mustData[struct {
			Doctors conn[person] `json:"doctors"`
			Lawyers conn[person] `json:"lawyers"`
		}](t, g, apitest.Request{Query: `{
			doctors(first: 3) { edges { node { portrait { url width height } reviewCount provider { logo { url width height } } } } }
			lawyers(first: 3) { edges { node { portrait { url width height } reviewCount provider { logo { url width height } } } } } }`})
		for _, p := range append(d.Doctors.nodes(), d.Lawyers.nodes()...) {
			if p.Portrait == nil || p.ReviewCount <= 0 || p.Provider.Logo.Width != 256 {
				t.Fatalf("%+v", p)
			}
		}
		mustServeImage(t, g, *d.Doctors.Edges[0].Node.Portrait)
		mustServeImage(t, g, d.Lawyers.Edges[0].Node.Provider.Logo)
	})
}

// TestCitiesQuery: the city chooser lists every city the providers serve,
// with its zone and verticals, from the registry (no list in the code).
func TestCitiesQuery(t *testing.T) {
	g := startDemo(t)
	type city struct {
		Name          string   `json:"name"`
		TimeZone      string   `json:"timeZone"`
		Verticals     []string `json:"verticals"`
		ProviderCount int      `json:"providerCount"`
	}
	query := `query($v: Vertical) { cities(vertical: $v) { name timeZone verticals providerCount } }`
	want := map[string]city{}
	for _, d := range demo.DefaultDescriptors() {
		for _, c := range d.Cities {
			w := want[c]
			w.Name, w.TimeZone = c, "Asia/Shanghai"
			if !slices.Contains(w.Verticals, string(d.Vertical)) {
				w.Verticals = append(w.Verticals, string(d.Vertical))
			}
			w.ProviderCount++
			want[c] = w
		}
	}
	d, _ := mustData[struct {
		Cities []city `json:"cities"`
	}](t, g, apitest.Request{Query: query})
	if len(d.Cities) != len(want) {
		t.Fatalf("cities %+v, want %d", d.Cities, len(want))
	}
	for i, c := range d.Cities {
		if i > 0 && d.Cities[i-1].Name >= c.Name {
			t.Fatalf("not by name: %+v", d.Cities)
		}
		w := want[c.Name]
		if c.TimeZone != w.TimeZone || c.ProviderCount != w.ProviderCount || len(c.Verticals) != len(w.Verticals) {
			t.Fatalf("city %+v, want %+v", c, w)
		}
	}
	t.Run("of one vertical, only its providers count", func(t *testing.T) {
		d, _ := mustData[struct {
			Cities []city `json:"cities"`
		}](t, g, apitest.Request{Query: query, Variables: map[string]any{"v": "LEGAL"}})
		for _, c := range d.Cities {
			if !slices.Equal(c.Verticals, []string{"LEGAL"}) || c.ProviderCount < 1 || c.ProviderCount > 2 {
				t.Fatalf("city %+v", c)
			}
		}
		if slices.ContainsFunc(d.Cities, func(c city) bool { return c.Name == "Hangzhou" }) != true {
			t.Fatalf("LexAssist serves Hangzhou: %+v", d.Cities)
		}
	})
}

// TestTimesAndStatuses: every time leaves in UTC with a Z to the second;
// statuses are enum values; an application shows its office and visit slot.
func TestTimesAndStatuses(t *testing.T) {
	g := startDemo(t)
	svc := someService(t, g, "residence permit")
	office := svc.Offices[0]
	d, resp := mustData[struct {
		ApplyForGovService struct {
			Status    string `json:"status"`
			CreatedAt string `json:"createdAt"`
			Office    struct {
				ID string `json:"id"`
			} `json:"office"`
			VisitSlot struct {
				ID    string `json:"id"`
				Start string `json:"start"`
			} `json:"visitSlot"`
		} `json:"applyForGovService"`
	}](t, g, apitest.Request{User: "demo-21", Query: `mutation($in: ApplyForGovServiceInput!) { applyForGovService(input: $in) {
		status createdAt office { id } visitSlot { id start } } }`,
		Variables: map[string]any{"in": map[string]any{"serviceId": svc.ID, "officeId": office.ID, "slotId": office.Slots[0].ID, "documents": svc.RequiredDocuments}}})
	a := d.ApplyForGovService
	if a.Status != "PENDING" || a.Office.ID != office.ID || a.VisitSlot.ID != office.Slots[0].ID {
		t.Fatalf("application %+v\n%s", a, resp.Raw)
	}
	for _, ts := range []string{a.CreatedAt, a.VisitSlot.Start} {
		if _, err := time.Parse("2006-01-02T15:04:05Z", ts); err != nil {
			t.Fatalf("%q is not RFC 3339 UTC to the second: %v", ts, err)
		}
	}

	me, _ := mustData[struct {
		Me struct {
			Orders conn[struct {
				Status    string `json:"status"`
				CreatedAt string `json:"createdAt"`
			}] `json:"orders"`
			Appointments conn[struct {
				Status string `json:"status"`
				Start  string `json:"start"`
			}] `json:"appointments"`
		} `json:"me"`
	}](t, g, apitest.Request{User: "demo-1", Query: `{ me {
		orders(first: 30) { edges { node { status createdAt } } }
		appointments(first: 10) { edges { node { status start } } } } }`})
	statuses := map[string]bool{}
	for _, o := range me.Me.Orders.nodes() {
		statuses[o.Status] = true
		if !strings.HasSuffix(o.CreatedAt, "Z") {
			t.Fatalf("createdAt %q is not UTC", o.CreatedAt)
		}
	}
	for s := range statuses {
		if !slices.Contains([]string{"PLACED", "CONFIRMED", "PICKING", "OUT_FOR_DELIVERY", "DELIVERED", "COMPLETED", "CANCELLED"}, s) {
			t.Fatalf("order status %q", s)
		}
	}
	for _, a := range me.Me.Appointments.nodes() {
		if !strings.HasSuffix(a.Start, "Z") {
			t.Fatalf("start %q is not UTC", a.Start)
		}
	}
}
