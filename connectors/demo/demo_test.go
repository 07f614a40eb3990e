package demo

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

func mustDefault(tb testing.TB, opts ...Option) *connectors.Registry {
	tb.Helper()
	conns, err := Default(opts...)
	if err != nil {
		tb.Fatalf("Default: %v", err)
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		tb.Fatalf("NewRegistry: %v", err)
	}
	return reg
}

func descriptor(tb testing.TB, id string) connectors.Descriptor {
	tb.Helper()
	for _, d := range DefaultDescriptors() {
		if d.ID == id {
			return d
		}
	}
	tb.Fatalf("no default descriptor %q", id)
	return connectors.Descriptor{}
}

func mustGrocery(tb testing.TB, opts ...Option) *Grocery {
	tb.Helper()
	g, err := NewGrocery(descriptor(tb, "freshcart"), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func mustMedical(tb testing.TB, opts ...Option) *Medical {
	tb.Helper()
	m, err := NewMedical(descriptor(tb, "mediquick"), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func mustLegal(tb testing.TB, opts ...Option) *Legal {
	tb.Helper()
	l, err := NewLegal(descriptor(tb, "lexassist"), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

func mustPublic(tb testing.TB, opts ...Option) *PublicService {
	tb.Helper()
	p, err := NewPublicService(descriptor(tb, "govdesk"), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// must returns v, or panics on err: Go cannot pass a (value, error) call and
// a testing.TB together, and a panic fails the test with the stack.
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("unexpected error: %v", err))
	}
	return v
}

// wantKind fails unless err carries kind.
func wantKind(tb testing.TB, err error, kind connectors.Kind) {
	tb.Helper()
	if got := connectors.KindOf(err); got != kind {
		tb.Fatalf("error kind = %q (%v), want %q", got, err, kind)
	}
}

// allPages walks a search with page size first and returns every item.
func allPages[T any](tb testing.TB, q connectors.Query, first int, search func(context.Context, connectors.Query) (connectors.Page[T], error)) ([]T, int) {
	tb.Helper()
	q.First = first
	var out []T
	total := -1
	for range 10000 {
		page := must(search(context.Background(), q))
		if total >= 0 && page.Total != total {
			tb.Fatalf("Total changed between pages: %d then %d", total, page.Total)
		}
		total = page.Total
		if len(page.Items) > first {
			tb.Fatalf("page of %d items for First=%d", len(page.Items), first)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, total
		}
		q.After = page.NextCursor
	}
	tb.Fatal("paging did not end")
	return nil, 0
}

func TestDefault(t *testing.T) {
	reg := mustDefault(t)
	ctx := context.Background()

	t.Run("builds two providers per vertical that the registry accepts", func(t *testing.T) {
		for _, v := range connectors.Verticals {
			if n := len(reg.ByVertical(v)); n < 2 {
				t.Errorf("%s: %d providers, want >= 2", v, n)
			}
		}
	})

	t.Run("holds the promised data volumes", func(t *testing.T) {
		var products, stores, doctors, lawyers, services int
		cities := map[string]bool{}
		for _, c := range reg.ByVertical(connectors.VerticalGrocery) {
			g := c.(connectors.Grocery)
			products += must(g.SearchProducts(ctx, connectors.Query{})).Total
			all, total := allPages(t, connectors.Query{}, 1000, g.SearchStores)
			stores += total
			for _, s := range all {
				cities[s.City] = true
			}
		}
		for _, c := range reg.ByVertical(connectors.VerticalMedical) {
			doctors += must(c.(connectors.Medical).SearchDoctors(ctx, connectors.Query{})).Total
		}
		for _, c := range reg.ByVertical(connectors.VerticalLegal) {
			lawyers += must(c.(connectors.Legal).SearchLawyers(ctx, connectors.Query{})).Total
		}
		for _, c := range reg.ByVertical(connectors.VerticalPublicService) {
			services += must(c.(connectors.PublicService).SearchServices(ctx, connectors.Query{})).Total
		}
		for name, got := range map[string][2]int{
			"products": {products, 2000}, "stores": {stores, 20}, "store cities": {len(cities), 5},
			"doctors": {doctors, 200}, "lawyers": {lawyers, 100}, "services": {services, 50},
		} {
			if got[0] < got[1] {
				t.Errorf("%s = %d, want >= %d", name, got[0], got[1])
			}
		}
	})

	t.Run("gives every demo user history of every kind", func(t *testing.T) {
		for u := 1; u <= DefaultUsers; u++ {
			user := UserID(u)
			counts := map[string]int{}
			for _, c := range reg.All() {
				switch p := c.(type) {
				case connectors.Grocery:
					counts["orders"] += len(must(p.UserOrders(ctx, user)))
				case connectors.Medical:
					counts["appointments"] += len(must(p.UserAppointments(ctx, user)))
					counts["consultations"] += len(must(p.UserConsultations(ctx, user)))
				case connectors.Legal:
					counts["legal consultations"] += len(must(p.UserLegalConsultations(ctx, user)))
				case connectors.PublicService:
					counts["applications"] += len(must(p.UserApplications(ctx, user)))
				}
			}
			for _, kind := range []string{"orders", "appointments", "consultations", "legal consultations", "applications"} {
				if counts[kind] == 0 {
					t.Errorf("%s has no %s", user, kind)
				}
			}
			if u == 1 && counts["orders"] < 50 {
				t.Errorf("demo-1 has %d orders, want >= 50", counts["orders"])
			}
		}
	})

	t.Run("keeps every user's orders at the provider that took them", func(t *testing.T) {
		for _, c := range reg.ByVertical(connectors.VerticalGrocery) {
			g := c.(connectors.Grocery)
			orders := must(g.UserOrders(ctx, "demo-1"))
			ids := make([]string, len(orders))
			for i, o := range orders {
				ids[i] = o.ID
				if o.UserID != "demo-1" {
					t.Fatalf("order %s belongs to %s", o.ID, o.UserID)
				}
			}
			for i, r := range must(g.Orders(ctx, ids)) {
				if r.Err != nil || r.Value.ID != ids[i] {
					t.Fatalf("Orders(%s) = %+v", ids[i], r)
				}
			}
		}
	})
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		desc connectors.Descriptor
		opts []Option
	}{
		{"rejects an invalid provider id", connectors.Descriptor{ID: "Fresh_Cart", Vertical: connectors.VerticalGrocery}, nil},
		{"rejects an unknown vertical", connectors.Descriptor{ID: "x", Vertical: "PETS"}, nil},
		{"rejects a negative user count", connectors.Descriptor{ID: "x", Vertical: connectors.VerticalLegal}, []Option{WithUsers(-1)}},
		{"rejects a zero scale", connectors.Descriptor{ID: "x", Vertical: connectors.VerticalMedical}, []Option{WithScale(0)}},
		{"rejects a nil clock", connectors.Descriptor{ID: "x", Vertical: connectors.VerticalPublicService}, []Option{WithClock(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.desc, tt.opts...); err == nil {
				t.Fatal("New succeeded, want an error")
			}
		})
	}

	t.Run("generates data for any new provider id and fills in the descriptor", func(t *testing.T) {
		c := must(New(connectors.Descriptor{ID: "corner-shop", Vertical: connectors.VerticalGrocery}, WithScale(2), WithUsers(3)))
		d := c.Describe()
		if d.Name == "" || len(d.Cities) != len(DefaultCities()) || d.MaxBatch == 0 {
			t.Fatalf("descriptor not filled in: %+v", d)
		}
		g := c.(connectors.Grocery)
		if n := must(g.SearchStores(context.Background(), connectors.Query{})).Total; n != 2*storesPerScale {
			t.Fatalf("%d stores at scale 2, want %d", n, 2*storesPerScale)
		}
		if len(must(g.UserOrders(context.Background(), "demo-3"))) == 0 || len(must(g.UserOrders(context.Background(), "demo-4"))) != 0 {
			t.Fatal("WithUsers(3) should give history to demo-1..demo-3 only")
		}
	})
}

func TestDeterminism(t *testing.T) {
	ctx := context.Background()
	// One clock reading: the data is a function of it (history before it,
	// slots after it).
	a, b := mustDefault(t, WithClock(ReferenceTime)), mustDefault(t, WithClock(ReferenceTime))

	t.Run("two instances with one provider id hold the same data", func(t *testing.T) {
		for _, ca := range a.All() {
			cb, _ := b.Get(ca.Describe().ID)
			if !reflect.DeepEqual(snapshot(t, ctx, ca), snapshot(t, ctx, cb)) {
				t.Errorf("%s: two instances differ", ca.Describe().ID)
			}
		}
	})

	t.Run("providers of one vertical hold different data", func(t *testing.T) {
		for _, v := range connectors.Verticals {
			cs := a.ByVertical(v)
			if reflect.DeepEqual(snapshot(t, ctx, cs[0]), snapshot(t, ctx, cs[1])) {
				t.Errorf("%s and %s hold the same data", cs[0].Describe().ID, cs[1].Describe().ID)
			}
		}
	})

	t.Run("a different seed yields different data", func(t *testing.T) {
		c := mustDefault(t, WithSeed(7))
		f1, _ := a.Get("freshcart")
		f2, _ := c.Get("freshcart")
		if reflect.DeepEqual(snapshot(t, ctx, f1), snapshot(t, ctx, f2)) {
			t.Error("seed did not change the data")
		}
	})
}

// snapshot captures a provider's catalogue first page and demo-1's history.
func snapshot(t *testing.T, ctx context.Context, c connectors.Connector) []any {
	t.Helper()
	q := connectors.Query{First: 1000}
	switch p := c.(type) {
	case connectors.Grocery:
		return []any{must(p.SearchProducts(ctx, q)), must(p.SearchStores(ctx, q)), must(p.UserOrders(ctx, "demo-1"))}
	case connectors.Medical:
		return []any{must(p.SearchDoctors(ctx, q)), must(p.UserAppointments(ctx, "demo-1")), must(p.UserConsultations(ctx, "demo-1"))}
	case connectors.Legal:
		return []any{must(p.SearchLawyers(ctx, q)), must(p.UserLegalConsultations(ctx, "demo-1"))}
	case connectors.PublicService:
		return []any{must(p.SearchServices(ctx, q)), must(p.UserApplications(ctx, "demo-1"))}
	}
	t.Fatalf("unknown connector %T", c)
	return nil
}

func TestBatchGets(t *testing.T) {
	ctx := context.Background()
	g := mustGrocery(t)

	t.Run("returns one result per id in request order with duplicates and not-found", func(t *testing.T) {
		ids := []string{"p-000002", "nope", "p-000001", "p-000002"}
		res := must(g.Products(ctx, ids))
		if len(res) != len(ids) {
			t.Fatalf("%d results for %d ids", len(res), len(ids))
		}
		for i, id := range ids {
			if id == "nope" {
				wantKind(t, res[i].Err, connectors.KindNotFound)
				continue
			}
			if res[i].Err != nil || res[i].Value.ID != id {
				t.Errorf("result %d = %+v, want product %s", i, res[i], id)
			}
		}
	})

	t.Run("returns copies the caller may change", func(t *testing.T) {
		first := must(g.Products(ctx, []string{"p-000001"}))[0].Value
		want := slices.Clone(first.Tags)
		first.Tags[0] = "mutated"
		first.Stock = -5
		again := must(g.Products(ctx, []string{"p-000001"}))[0].Value
		if !slices.Equal(again.Tags, want) || again.Stock < 0 {
			t.Fatalf("provider state changed through a returned value: %+v", again)
		}
	})

	t.Run("answers an empty batch with no results", func(t *testing.T) {
		if res := must(g.Stores(ctx, nil)); len(res) != 0 {
			t.Fatalf("%d results for no ids", len(res))
		}
	})

	t.Run("reports unknown ids of every kind as not found", func(t *testing.T) {
		m, l, p := mustMedical(t), mustLegal(t), mustPublic(t)
		errs := []error{
			must(g.Stores(ctx, []string{"x"}))[0].Err,
			must(g.Orders(ctx, []string{"x"}))[0].Err,
			must(g.DeliverySlots(ctx, []string{"x"}))[0].Err,
			must(m.Doctors(ctx, []string{"x"}))[0].Err,
			must(m.Appointments(ctx, []string{"x"}))[0].Err,
			must(m.Consultations(ctx, []string{"x"}))[0].Err,
			must(m.AppointmentSlots(ctx, []string{"x"}))[0].Err,
			must(l.Lawyers(ctx, []string{"x"}))[0].Err,
			must(l.LegalConsultations(ctx, []string{"x"}))[0].Err,
			must(p.Services(ctx, []string{"x"}))[0].Err,
			must(p.Applications(ctx, []string{"x"}))[0].Err,
			must(p.Offices(ctx, []string{"x"}))[0].Err,
		}
		for i, err := range errs {
			if connectors.KindOf(err) != connectors.KindNotFound {
				t.Errorf("lookup %d: error %v, want NOT_FOUND", i, err)
			}
		}
	})

	t.Run("fails the whole batch for a cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := g.Products(cctx, []string{"p-000001"}); err == nil {
			t.Fatal("no error for a cancelled context")
		}
	})
}

func TestSlots(t *testing.T) {
	ctx := context.Background()
	now := ReferenceTime()

	t.Run("lists only upcoming slots of each store, doctor and office", func(t *testing.T) {
		g, m, p := mustGrocery(t), mustMedical(t), mustPublic(t)
		ds := must(g.DeliverySlots(ctx, []string{"s-01"}))[0].Value
		as := must(m.AppointmentSlots(ctx, []string{"d-0001"}))[0].Value
		os := must(p.Offices(ctx, []string{"passport-application"}))[0].Value
		if len(ds) == 0 || len(as) == 0 || len(os) == 0 || len(os[0].Slots) == 0 {
			t.Fatalf("missing slots: %d delivery, %d appointment, %d offices", len(ds), len(as), len(os))
		}
		for _, s := range ds {
			if s.StoreID != "s-01" || !s.Start.After(now) || s.Remaining > s.Capacity {
				t.Fatalf("bad delivery slot %+v", s)
			}
		}
		for _, s := range as {
			if s.DoctorID != "d-0001" || !s.Start.After(now) {
				t.Fatalf("bad appointment slot %+v", s)
			}
		}
		for _, o := range os {
			for _, s := range o.Slots {
				if s.OfficeID != o.ID || !s.Start.After(now) {
					t.Fatalf("bad office slot %+v in office %s", s, o.ID)
				}
			}
		}
	})

	t.Run("hides slots once the clock has passed them (and rolls new days in: slots_test.go)", func(t *testing.T) {
		clock := now
		g := mustGrocery(t, WithClock(func() time.Time { return clock }))
		first := must(g.DeliverySlots(ctx, []string{"s-01"}))[0].Value[0]
		clock = now.AddDate(0, 0, 2)
		after := must(g.DeliverySlots(ctx, []string{"s-01"}))[0].Value
		if len(after) == 0 {
			t.Fatal("no slots two days later")
		}
		for _, s := range after {
			if s.ID == first.ID || !s.Start.After(clock) {
				t.Fatalf("two days later slot %s (%v) is still listed", s.ID, s.Start)
			}
		}
	})
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	g, m, l, p := mustGrocery(t), mustMedical(t), mustLegal(t), mustPublic(t)

	t.Run("paging visits every match exactly once", func(t *testing.T) {
		queries := []connectors.Query{{}, {Text: "milk"}, {City: "hangzhou"}, {Category: "dairy"}, {StoreID: "s-03"}}
		for _, q := range queries {
			items, total := allPages(t, q, 7, g.SearchProducts)
			ids := map[string]bool{}
			for _, it := range items {
				if ids[it.ID] {
					t.Fatalf("%+v: product %s seen twice", q, it.ID)
				}
				ids[it.ID] = true
			}
			if len(items) != total || total == 0 {
				t.Fatalf("%+v: visited %d of Total %d", q, len(items), total)
			}
		}
		docs, total := allPages(t, connectors.Query{}, 13, m.SearchDoctors)
		if len(docs) != total {
			t.Fatalf("visited %d doctors of %d", len(docs), total)
		}
	})

	t.Run("finds things by the words people use", func(t *testing.T) {
		tests := []struct {
			text  string
			total func(string) int
		}{
			{"milk", func(s string) int { return must(g.SearchProducts(ctx, connectors.Query{Text: s})).Total }},
			{"organic milk", func(s string) int { return must(g.SearchProducts(ctx, connectors.Query{Text: s})).Total }},
			{"baby food", func(s string) int { return must(g.SearchProducts(ctx, connectors.Query{Text: s})).Total }},
			{"jasmine rice", func(s string) int { return must(g.SearchProducts(ctx, connectors.Query{Text: s})).Total }},
			{"eggs", func(s string) int { return must(g.SearchProducts(ctx, connectors.Query{Text: s})).Total }},
			{"paediatrician", func(s string) int { return must(m.SearchDoctors(ctx, connectors.Query{Text: s})).Total }},
			{"pediatrics", func(s string) int { return must(m.SearchDoctors(ctx, connectors.Query{Text: s})).Total }},
			{"heart", func(s string) int { return must(m.SearchDoctors(ctx, connectors.Query{Text: s})).Total }},
			{"divorce", func(s string) int { return must(l.SearchLawyers(ctx, connectors.Query{Text: s})).Total }},
			{"visa", func(s string) int { return must(l.SearchLawyers(ctx, connectors.Query{Text: s})).Total }},
			{"passport", func(s string) int { return must(p.SearchServices(ctx, connectors.Query{Text: s})).Total }},
			{"utility bill", func(s string) int { return must(p.SearchServices(ctx, connectors.Query{Text: s})).Total }},
			{"supermarket", func(s string) int { return must(g.SearchStores(ctx, connectors.Query{Text: s})).Total }},
		}
		for _, tt := range tests {
			if tt.total(tt.text) == 0 {
				t.Errorf("search %q found nothing", tt.text)
			}
		}
		if n := must(g.SearchProducts(ctx, connectors.Query{Text: "zzzunknownzzz"})).Total; n != 0 {
			t.Errorf("nonsense search found %d products", n)
		}
	})

	t.Run("ranks a name match above a description match", func(t *testing.T) {
		page := must(g.SearchProducts(ctx, connectors.Query{Text: "milk", First: 1}))
		if !containsTerm(lower(page.Items[0].Name), "milk") {
			t.Fatalf("best match for milk is %q", page.Items[0].Name)
		}
	})

	t.Run("filters by city case-insensitively, category and store", func(t *testing.T) {
		for _, d := range must(m.SearchDoctors(ctx, connectors.Query{City: "SHANGHAI", Category: "paediatrics", First: 1000})).Items {
			if d.City != "Shanghai" || d.Specialty != "Paediatrics" {
				t.Fatalf("filter let through %+v", d)
			}
		}
		for _, pr := range must(g.SearchProducts(ctx, connectors.Query{StoreID: "s-02", First: 1000})).Items {
			if pr.StoreID != "s-02" {
				t.Fatalf("store filter let through %+v", pr)
			}
		}
		for _, s := range must(p.SearchServices(ctx, connectors.Query{City: "beijing", First: 1000})).Items {
			if !slices.Contains(s.Cities, "Beijing") {
				t.Fatalf("city filter let through %+v", s)
			}
		}
		if n := must(l.SearchLawyers(ctx, connectors.Query{Category: "family"})).Total; n == 0 {
			t.Fatal("no family lawyers")
		}
	})

	t.Run("browses best rated first with a default page size", func(t *testing.T) {
		page := must(l.SearchLawyers(ctx, connectors.Query{}))
		if len(page.Items) != defaultPageSize {
			t.Fatalf("%d items, want the default %d", len(page.Items), defaultPageSize)
		}
		for i := 1; i < len(page.Items); i++ {
			if page.Items[i].Rating > page.Items[i-1].Rating {
				t.Fatalf("not ordered by rating at %d", i)
			}
		}
	})

	t.Run("rejects a cursor it did not issue", func(t *testing.T) {
		for _, c := range []string{"garbage!", encodeCursor(1)[:3], "ZGVtbzE6LTE"} {
			_, err := g.SearchProducts(ctx, connectors.Query{After: c})
			wantKind(t, err, connectors.KindInvalid)
		}
	})
}

func TestUserLists(t *testing.T) {
	ctx := context.Background()
	g, m, l, p := mustGrocery(t), mustMedical(t), mustLegal(t), mustPublic(t)

	t.Run("lists only the user's items, newest first", func(t *testing.T) {
		check := func(kind string, n int, owner func(int) string, created func(int) time.Time) {
			t.Helper()
			if n == 0 {
				t.Fatalf("%s: no items for demo-2", kind)
			}
			for i := range n {
				if owner(i) != "demo-2" {
					t.Fatalf("%s %d belongs to %s", kind, i, owner(i))
				}
				if i > 0 && created(i).After(created(i-1)) {
					t.Fatalf("%s not newest first at %d", kind, i)
				}
			}
		}
		os := must(g.UserOrders(ctx, "demo-2"))
		check("orders", len(os), func(i int) string { return os[i].UserID }, func(i int) time.Time { return os[i].CreatedAt })
		as := must(m.UserAppointments(ctx, "demo-2"))
		check("appointments", len(as), func(i int) string { return as[i].UserID }, func(i int) time.Time { return as[i].CreatedAt })
		cs := must(m.UserConsultations(ctx, "demo-2"))
		check("consultations", len(cs), func(i int) string { return cs[i].UserID }, func(i int) time.Time { return cs[i].CreatedAt })
		ls := must(l.UserLegalConsultations(ctx, "demo-2"))
		check("legal consultations", len(ls), func(i int) string { return ls[i].UserID }, func(i int) time.Time { return ls[i].CreatedAt })
		ap := must(p.UserApplications(ctx, "demo-2"))
		check("applications", len(ap), func(i int) string { return ap[i].UserID }, func(i int) time.Time { return ap[i].CreatedAt })
	})

	t.Run("returns an empty list for a user without history", func(t *testing.T) {
		if os := must(g.UserOrders(ctx, "stranger")); len(os) != 0 {
			t.Fatalf("%d orders for a stranger", len(os))
		}
	})

	t.Run("rejects an empty user id", func(t *testing.T) {
		_, err := g.UserOrders(ctx, "")
		wantKind(t, err, connectors.KindInvalid)
	})

	t.Run("includes repeat purchases and answered consultations", func(t *testing.T) {
		seen, repeats := map[string]bool{}, 0
		for _, o := range must(g.UserOrders(ctx, "demo-1")) {
			for _, it := range o.Items {
				if seen[it.ProductID] {
					repeats++
				}
				seen[it.ProductID] = true
			}
		}
		if repeats == 0 {
			t.Error("demo-1 never bought the same product twice")
		}
		answered := 0
		for _, c := range must(m.UserConsultations(ctx, "demo-1")) {
			if c.Status == connectors.StatusAnswered && c.Answer != "" && c.AnsweredAt != nil {
				answered++
			}
		}
		if answered == 0 {
			t.Error("demo-1 has no answered consultation")
		}
	})
}

// TestDataMovesWithTheClock: by default the demo reads the wall clock, so a
// freshly started demo lists slots in the future of now, whenever the test
// runs, and refuses one that has started.
func TestDataMovesWithTheClock(t *testing.T) {
	ctx := context.Background()
	reg := mustDefault(t)
	now := time.Now()
	g := reg.ByVertical(connectors.VerticalGrocery)[0].(connectors.Grocery)
	slots := must(g.DeliverySlots(ctx, []string{"s-01"}))[0].Value
	m := reg.ByVertical(connectors.VerticalMedical)[0].(connectors.Medical)
	aslots := must(m.AppointmentSlots(ctx, []string{"d-0001"}))[0].Value
	p := reg.ByVertical(connectors.VerticalPublicService)[0].(connectors.PublicService)
	offices := must(p.Offices(ctx, []string{"passport-application"}))[0].Value
	if len(slots) == 0 || len(aslots) == 0 || len(offices) == 0 || len(offices[0].Slots) == 0 {
		t.Fatalf("no slots: %d delivery, %d appointment, %d offices", len(slots), len(aslots), len(offices))
	}
	for _, start := range []time.Time{slots[0].Start, aslots[0].Start, offices[0].Slots[0].Start} {
		if !start.After(now) || start.After(now.AddDate(0, 0, 8)) {
			t.Errorf("first slot starts %v, want within a week after %v", start, now)
		}
	}

	t.Run("a slot that has started is refused", func(t *testing.T) {
		clock := ReferenceTime()
		g, err := NewGrocery(connectors.Descriptor{ID: "clocked"}, WithClock(func() time.Time { return clock }))
		if err != nil {
			t.Fatal(err)
		}
		slot := must(g.DeliverySlots(ctx, []string{"s-01"}))[0].Value[0]
		p := must(g.SearchProducts(ctx, connectors.Query{StoreID: "s-01", First: 1})).Items[0]
		clock = slot.Start.Add(time.Minute)
		_, err = g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: "u", StoreID: "s-01", SlotID: slot.ID,
			Items: []connectors.OrderLineItem{{ProductID: p.ID, Quantity: 1}}})
		if connectors.KindOf(err) != connectors.KindInvalid || !strings.Contains(err.Error(), "already started") {
			t.Fatalf("got %v, want BAD_USER_INPUT: already started", err)
		}
	})
}

func TestWithItems(t *testing.T) {
	desc := connectors.Descriptor{ID: "small", Vertical: connectors.VerticalGrocery}
	for _, n := range []int{1, 20, 501} {
		g, err := NewGrocery(desc, WithItems(n), WithUsers(0))
		if err != nil {
			t.Fatal(err)
		}
		ch, err := g.CatalogChanges(context.Background(), "", connectors.MaxCatalogBatch)
		if err != nil {
			t.Fatal(err)
		}
		if len(ch.Upserts) != n {
			t.Errorf("WithItems(%d): the catalogue has %d items", n, len(ch.Upserts))
		}
	}
	for _, tc := range []struct {
		name string
		make func() error
		want string
	}{
		{"a size below one", func() error { _, err := NewGrocery(desc, WithItems(-1)); return err }, "outside 1..501"},
		{"a size above the templates", func() error { _, err := NewGrocery(desc, WithItems(502)); return err }, "outside 1..501"},
		{"another vertical", func() error {
			_, err := NewMedical(connectors.Descriptor{ID: "doc", Vertical: connectors.VerticalMedical}, WithItems(20))
			return err
		}, "for grocery providers"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			if err := tc.make(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
