package traffic_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/traffic"
)

// stores returns a fresh store of each kind: in memory, and PostgreSQL on a
// database of the test's own (migrated).
func stores(t *testing.T, now func() time.Time) map[string]traffic.Store {
	t.Helper()
	pool := pgtest.Pool(t)
	if err := traffic.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return map[string]traffic.Store{
		"memory":   traffic.NewMemoryStore(now),
		"postgres": traffic.NewPostgresStore(pool, now),
	}
}

var day0 = time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)

func at(day int, hour int) time.Time {
	return day0.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
}

func shown(providers ...string) []events.Impression {
	out := make([]events.Impression, len(providers))
	for i, p := range providers {
		out[i] = events.Impression{Item: fmt.Sprintf("item-%s-%d", p, i), Provider: p, Rank: i + 1}
	}
	return out
}

// traffic is what the pipeline delivered: two days either side of a month
// boundary (partitions of two days in two months), two cities, an opted-out user's search (no
// user id: the recorder stripped it) and another provider's events.
func pipeline() []events.Event {
	return []events.Event{
		{User: "u1", Kind: events.KindSearch, Query: "Milk", City: "Hangzhou", Results: 12, Shown: shown("freshcart", "greenbasket", "freshcart"), Time: at(0, 9)},
		{Kind: events.KindSearch, Query: "milk", City: "hangzhou", Results: 12, Shown: shown("greenbasket", "freshcart"), Time: at(0, 10)},
		{User: "u2", Kind: events.KindClick, Query: "milk", City: "Hangzhou", Provider: "freshcart", Item: "item-freshcart-0", Time: at(0, 11)},
		{User: "u2", Kind: events.KindOrder, Provider: "freshcart", City: "Hangzhou", Value: 2599, Currency: "CNY", Time: at(0, 12)},
		{User: "u3", Kind: events.KindHome, City: "Shanghai", Shown: shown("freshcart", "freshcart", "greenbasket"), Time: at(2, 8)},
		{User: "u3", Kind: events.KindBooking, Provider: "freshcart", City: "Shanghai", Time: at(2, 9)},
		{Kind: events.KindSearch, Query: "durian", City: "Hangzhou", Vertical: "GROCERY", Results: 0, Time: at(2, 10)},
		{Kind: events.KindSearch, Query: "durian", City: "Hangzhou", Results: 0, Time: at(2, 11)},
		{Kind: events.KindSearch, Query: "goat cheese", City: "Hangzhou", Vertical: "GROCERY", Results: 2, Time: at(2, 12)},
		{Kind: events.KindSearch, Query: "lawyer", City: "Hangzhou", Vertical: "LEGAL", Results: 0, Time: at(2, 13)},
		{Kind: events.KindSearch, Query: "tofu", City: "Beijing", Vertical: "GROCERY", Results: 0, Time: at(2, 14)},
	}
}

func collect(t *testing.T, store traffic.Store, evs []events.Event) *traffic.Collector {
	t.Helper()
	c := traffic.NewCollector()
	c.Observe(evs)
	if err := c.Flush(context.Background(), store); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return at(3, 0) }
	week := traffic.Range{From: day0, To: at(7, 0)}
	for name, store := range stores(t, now) {
		collect(t, store, pipeline())
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				check func(t *testing.T)
			}{
				{"rolls a provider's traffic up by day and city, across months", func(t *testing.T) {
					rows, err := store.Daily(ctx, "freshcart", week, "")
					if err != nil {
						t.Fatal(err)
					}
					want := []traffic.Row{
						{Day: day0, City: "hangzhou", Counts: traffic.Counts{SearchImpressions: 3, Clicks: 1, Orders: 1, GMV: 2599}},
						{Day: at(2, 0), City: "shanghai", Counts: traffic.Counts{HomeImpressions: 2, Bookings: 1}},
					}
					if fmt.Sprint(rows) != fmt.Sprint(want) {
						t.Fatalf("daily = %+v\nwant    %+v", rows, want)
					}
					if rate, ok := rows[0].Conversion(); !ok || rate != 1 {
						t.Fatalf("conversion = %v, %v; want 1 order per click", rate, ok)
					}
				}},
				{"counts the opted-out user's search (no user id) like any other", func(t *testing.T) {
					rows, _ := store.Daily(ctx, "greenbasket", week, "Hangzhou")
					if len(rows) != 1 || rows[0].SearchImpressions != 2 {
						t.Fatalf("greenbasket in hangzhou = %+v, want 2 search impressions (one from the anonymous search)", rows)
					}
				}},
				{"a range covering part of a day covers all of it; outside it nothing", func(t *testing.T) {
					rows, _ := store.Daily(ctx, "freshcart", traffic.Range{From: at(2, 23), To: at(2, 23).Add(time.Minute)}, "")
					if len(rows) != 1 || rows[0].Bookings != 1 {
						t.Fatalf("day 2 = %+v", rows)
					}
					if rows, _ := store.Daily(ctx, "freshcart", traffic.Range{From: at(1, 0), To: at(2, 0)}, ""); len(rows) != 0 {
						t.Fatalf("day 1 = %+v, want nothing", rows)
					}
				}},
				{"a provider reads only its own rows", func(t *testing.T) {
					rows, _ := store.Daily(ctx, "nobody", week, "")
					if len(rows) != 0 {
						t.Fatalf("an unknown provider read %+v", rows)
					}
				}},
				{"top queries carry mean and best rank", func(t *testing.T) {
					qs, err := store.TopQueries(ctx, "freshcart", week, "", 10)
					if err != nil {
						t.Fatal(err)
					}
					if len(qs) != 1 || qs[0].Query != "milk" || qs[0].City != "hangzhou" || qs[0].Impressions != 3 || qs[0].Clicks != 1 || qs[0].BestRank != 1 {
						t.Fatalf("top queries = %+v", qs)
					}
					if mean, _ := qs[0].MeanRank(); mean != float64(1+3+2)/3 {
						t.Fatalf("mean rank = %v, want 2", mean)
					}
				}},
				{"demand: zero and low results in the provider's vertical (and every-vertical searches) and cities", func(t *testing.T) {
					ds, err := store.Demand(ctx, []string{"GROCERY", ""}, []string{"Hangzhou", "Shanghai"}, week, 10)
					if err != nil {
						t.Fatal(err)
					}
					want := []traffic.DemandRow{
						{Query: "durian", City: "hangzhou", DemandCounts: traffic.DemandCounts{Searches: 2, ZeroResults: 2}},
						{Query: "goat cheese", City: "hangzhou", DemandCounts: traffic.DemandCounts{Searches: 1, LowResults: 1}},
					}
					if fmt.Sprint(ds) != fmt.Sprint(want) {
						t.Fatalf("demand = %+v\nwant     %+v", ds, want)
					}
					if ds, _ := store.Demand(ctx, []string{"GROCERY", ""}, []string{"Hangzhou"}, week, 1); len(ds) != 1 {
						t.Fatalf("limit 1 gave %d rows", len(ds))
					}
				}},
				{"a range that ends before it starts is refused", func(t *testing.T) {
					for _, err := range []error{
						errOf(store.Daily(ctx, "freshcart", traffic.Range{From: at(2, 0), To: at(1, 0)}, "")),
						errOf(store.TopQueries(ctx, "freshcart", traffic.Range{From: at(2, 0), To: at(2, 0)}, "", 5)),
						errOf(store.Demand(ctx, []string{""}, []string{"x"}, traffic.Range{From: at(2, 0), To: at(1, 0)}, 5)),
					} {
						if !errors.Is(err, traffic.ErrBadRange) {
							t.Fatalf("err = %v, want ErrBadRange", err)
						}
					}
				}},
			} {
				t.Run(tc.name, tc.check)
			}
		})
	}
}

func errOf[T any](_ T, err error) error { return err }

func TestRollupIsIdempotent(t *testing.T) {
	ctx := context.Background()
	for name, store := range stores(t, time.Now) {
		t.Run(name+": re-applying a roll-up (a retry after a timeout) counts it once", func(t *testing.T) {
			r := traffic.NewRollup("instance-1")
			r.Daily[traffic.DailyKey{Day: traffic.DayNumber(day0), Provider: "freshcart", City: "hangzhou"}] = traffic.Counts{Clicks: 2, GMV: 100}
			for i, want := range []bool{true, false, false} {
				applied, err := store.Apply(ctx, r)
				if err != nil || applied != want {
					t.Fatalf("apply #%d = %v, %v; want %v", i+1, applied, err, want)
				}
			}
			rows, _ := store.Daily(ctx, "freshcart", traffic.Range{From: day0, To: at(1, 0)}, "")
			if len(rows) != 1 || rows[0].Clicks != 2 || rows[0].GMV != 100 {
				t.Fatalf("rows = %+v, want one application", rows)
			}
		})
		t.Run(name+": two collectors applying at once add up", func(t *testing.T) {
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := traffic.NewCollector()
					for range 25 {
						c.Observe([]events.Event{{Kind: events.KindClick, Provider: "busy", City: "Hangzhou", Query: "milk", Time: at(0, 1)}})
						if err := c.Flush(ctx, store); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			rows, _ := store.Daily(ctx, "busy", traffic.Range{From: day0, To: at(1, 0)}, "")
			if len(rows) != 1 || rows[0].Clicks != 100 {
				t.Fatalf("rows = %+v, want 100 clicks", rows)
			}
		})
		t.Run(name+": retention drops the old days, keeps the rest", func(t *testing.T) {
			c := traffic.NewCollector()
			c.Observe([]events.Event{
				{Kind: events.KindClick, Provider: "old", Time: time.Date(2025, 10, 14, 23, 0, 0, 0, time.UTC)},
				{Kind: events.KindClick, Provider: "old", Time: time.Date(2025, 10, 15, 0, 0, 0, 0, time.UTC)},
			})
			if err := c.Flush(ctx, store); err != nil {
				t.Fatal(err)
			}
			if err := store.Prune(ctx, time.Date(2025, 10, 15, 6, 0, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
			rows, _ := store.Daily(ctx, "old", traffic.Range{From: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)}, "")
			if len(rows) != 1 || rows[0].Day.Day() != 15 {
				t.Fatalf("after pruning before October 15: %+v", rows)
			}
		})
	}
}

// failing fails its first n applies after committing them: the caller
// cannot tell a commit from a failure.
type failing struct {
	traffic.Store
	n int
}

func (f *failing) Apply(ctx context.Context, r *traffic.Rollup) (bool, error) {
	ok, err := f.Store.Apply(ctx, r)
	if err == nil && f.n > 0 {
		f.n--
		return ok, errors.New("timeout after commit")
	}
	return ok, err
}

func TestCollector(t *testing.T) {
	ctx := context.Background()
	click := events.Event{Kind: events.KindClick, Provider: "freshcart", Time: at(0, 1)}
	t.Run("a roll-up retried after an ambiguous failure counts once", func(t *testing.T) {
		mem := traffic.NewMemoryStore(nil)
		store := &failing{Store: mem, n: 1}
		c := traffic.NewCollector()
		c.Observe([]events.Event{click})
		if err := c.Flush(ctx, store); err == nil {
			t.Fatal("the first flush should report the failure")
		}
		c.Observe([]events.Event{click})
		if err := c.Flush(ctx, store); err != nil {
			t.Fatal(err)
		}
		rows, _ := mem.Daily(ctx, "freshcart", traffic.Range{From: day0, To: at(1, 0)}, "")
		if len(rows) != 1 || rows[0].Clicks != 2 {
			t.Fatalf("rows = %+v, want 2 clicks", rows)
		}
	})
	t.Run("past its row bound a roll-up drops new rows and counts them", func(t *testing.T) {
		mem := traffic.NewMemoryStore(nil)
		c := traffic.NewCollector(traffic.WithMaxRows(2))
		for _, p := range []string{"a", "b", "c", "a"} {
			c.Observe([]events.Event{{Kind: events.KindClick, Provider: p, Time: at(0, 1)}})
		}
		if c.Dropped() != 1 {
			t.Fatalf("dropped = %d, want 1 (provider c)", c.Dropped())
		}
		_ = c.Flush(ctx, mem)
		rows, _ := mem.Daily(ctx, "a", traffic.Range{From: day0, To: at(1, 0)}, "")
		if len(rows) != 1 || rows[0].Clicks != 2 {
			t.Fatalf("a = %+v: an existing row still counts", rows)
		}
	})
}
