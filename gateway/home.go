package gateway

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

// HomeItem is one recommended object with the reason it is shown.
type HomeItem struct {
	Hit    Hit
	Reason string
}

// HomeSection is one row of the home page.
type HomeSection struct {
	Key   string
	Title string
	Items []HomeItem
}

// HomePage is a user's home page for one city.
type HomePage struct {
	// City is the city the page was built for (given, or inferred).
	City     string
	Sections []HomeSection
}

// homeSectionSize bounds each section.
const homeSectionSize = 10

// Home builds the signed-in user's home page from their own history across
// every provider (what they ordered, who they saw), what is best rated in
// their city, and public services they have not used yet. city may be empty:
// the user's most frequent city is used then.
func (g *Gateway) Home(ctx context.Context, l *Loaders, user, city string) (HomePage, []error) {
	var (
		orders   []Sourced[connectors.GroceryOrder]
		appts    []Sourced[connectors.Appointment]
		legal    []Sourced[connectors.LegalConsultation]
		apps     []Sourced[connectors.ServiceApplication]
		errs     []error
		mu       sync.Mutex
		wg       sync.WaitGroup
		gather   = func(e []error) { mu.Lock(); errs = append(errs, e...); mu.Unlock() }
		parallel = func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	)
	parallel(func() { var e []error; orders, e = g.UserOrders(ctx, user); gather(e) })
	parallel(func() { var e []error; appts, e = g.UserAppointments(ctx, user); gather(e) })
	parallel(func() { var e []error; legal, e = g.UserLegalConsultations(ctx, user); gather(e) })
	parallel(func() { var e []error; apps, e = g.UserApplications(ctx, user); gather(e) })
	wg.Wait()

	buyAgain, cities := g.buyAgain(ctx, l, orders)
	if city == "" && len(cities) > 0 {
		city = cities[0]
	}
	var popular []Hit
	var popErrs []error
	parallel(func() {
		popular, popErrs = g.Search(ctx, SearchParams{City: city, Kinds: []gid.Kind{gid.Product, gid.Doctor, gid.Lawyer, gid.GovService}})
	})
	followUp := g.followUps(ctx, l, appts, legal)
	wg.Wait()
	errs = append(errs, popErrs...)

	sections := []HomeSection{
		{Key: "buy-again", Title: "Buy again", Items: buyAgain},
		{Key: "follow-up", Title: "Book again", Items: followUp},
		{Key: "popular-near-you", Title: popularTitle(city), Items: popularItems(popular, city)},
		{Key: "services-you-may-need", Title: "Services you may need", Items: servicesToSuggest(popular, apps, g.now())},
	}
	out := sections[:0]
	for _, s := range sections {
		if len(s.Items) > 0 {
			out = append(out, s)
		}
	}
	return HomePage{City: city, Sections: out}, errs
}

func popularTitle(city string) string {
	if city == "" {
		return "Popular now"
	}
	return "Popular in " + city
}

// buyAgain ranks the products the user ordered by how often (then how
// recently) and keeps those still in stock. It also returns the cities of
// those products, most frequent first.
func (g *Gateway) buyAgain(ctx context.Context, l *Loaders, orders []Sourced[connectors.GroceryOrder]) ([]HomeItem, []string) {
	type tally struct {
		key   Key
		count int
		last  int // index of the newest order containing it (orders are newest first)
	}
	counts := map[Key]*tally{}
	for i, o := range orders {
		if o.Value.Status == connectors.StatusCancelled {
			continue
		}
		for _, it := range o.Value.Items {
			k := Key{Provider: o.Provider, ID: it.ProductID}
			if t, ok := counts[k]; ok {
				t.count++
			} else {
				counts[k] = &tally{key: k, count: 1, last: i}
			}
		}
	}
	ranked := make([]*tally, 0, len(counts))
	for _, t := range counts {
		ranked = append(ranked, t)
	}
	sort.Slice(ranked, func(i, j int) bool {
		if ranked[i].count != ranked[j].count {
			return ranked[i].count > ranked[j].count
		}
		if ranked[i].last != ranked[j].last {
			return ranked[i].last < ranked[j].last
		}
		return ranked[i].key.Provider+ranked[i].key.ID < ranked[j].key.Provider+ranked[j].key.ID
	})
	ranked = ranked[:min(len(ranked), 3*homeSectionSize)]
	thunks := make([]func() (connectors.Product, error), len(ranked))
	for i, t := range ranked {
		thunks[i] = l.Products.Load(ctx, t.key)
	}
	var items []HomeItem
	cityCount := map[string]int{}
	for i, t := range ranked {
		p, err := thunks[i]()
		if err != nil {
			continue // a product that is gone or whose provider failed is simply not suggested
		}
		cityCount[p.City] += t.count
		if p.Stock <= 0 || len(items) == homeSectionSize {
			continue
		}
		reason := "You ordered this before"
		if t.count > 1 {
			reason = fmt.Sprintf("You ordered this %d times", t.count)
		}
		items = append(items, HomeItem{Hit: Hit{Kind: gid.Product, Provider: t.key.Provider, ID: p.ID, Value: p, Score: float64(t.count)}, Reason: reason})
	}
	cities := make([]string, 0, len(cityCount))
	for c := range cityCount {
		if c != "" {
			cities = append(cities, c)
		}
	}
	sort.Slice(cities, func(i, j int) bool {
		if cityCount[cities[i]] != cityCount[cities[j]] {
			return cityCount[cities[i]] > cityCount[cities[j]]
		}
		return cities[i] < cities[j]
	})
	return items, cities
}

// followUps suggests the doctors and lawyers the user saw most recently.
func (g *Gateway) followUps(ctx context.Context, l *Loaders, appts []Sourced[connectors.Appointment], legal []Sourced[connectors.LegalConsultation]) []HomeItem {
	type seen struct {
		key  Key
		kind gid.Kind
		when string
	}
	var order []seen
	dup := map[Key]bool{}
	for _, a := range appts {
		k := Key{Provider: a.Provider, ID: a.Value.DoctorID}
		if !dup[k] {
			dup[k] = true
			order = append(order, seen{k, gid.Doctor, a.Value.Start.Format("2 Jan")})
		}
	}
	for _, c := range legal {
		k := Key{Provider: c.Provider, ID: c.Value.LawyerID}
		if !dup[k] {
			dup[k] = true
			order = append(order, seen{k, gid.Lawyer, c.Value.CreatedAt.Format("2 Jan")})
		}
	}
	order = order[:min(len(order), homeSectionSize)]
	items := make([]HomeItem, 0, len(order))
	doctors := make([]func() (connectors.Doctor, error), len(order))
	lawyers := make([]func() (connectors.Lawyer, error), len(order))
	for i, s := range order {
		if s.kind == gid.Doctor {
			doctors[i] = l.Doctors.Load(ctx, s.key)
		} else {
			lawyers[i] = l.Lawyers.Load(ctx, s.key)
		}
	}
	for i, s := range order {
		h := Hit{Kind: s.kind, Provider: s.key.Provider, ID: s.key.ID, Score: float64(len(order) - i)}
		var reason string
		if s.kind == gid.Doctor {
			d, err := doctors[i]()
			if err != nil {
				continue
			}
			h.Value, reason = d, fmt.Sprintf("You saw %s on %s — book a follow-up", d.Name, s.when)
		} else {
			lw, err := lawyers[i]()
			if err != nil {
				continue
			}
			h.Value, reason = lw, fmt.Sprintf("You consulted %s on %s", lw.Name, s.when)
		}
		items = append(items, HomeItem{Hit: h, Reason: reason})
	}
	return items
}

// popularItems keeps the best-rated non-service items, at most three of a
// kind so that no vertical fills the row.
func popularItems(hits []Hit, city string) []HomeItem {
	perKind := map[gid.Kind]int{}
	var items []HomeItem
	for _, h := range hits {
		if h.Kind == gid.GovService || perKind[h.Kind] == 3 {
			continue
		}
		perKind[h.Kind]++
		reason := "Top rated"
		if city != "" {
			reason = "Top rated in " + city
		}
		items = append(items, HomeItem{Hit: h, Reason: reason})
		if len(items) == homeSectionSize {
			break
		}
	}
	return items
}
