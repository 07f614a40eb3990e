package events_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/events"
)

// TestAnalyticsAgreeWithTheRawLog records a known mix of searches, clicks
// and conversions over several hours, then checks every analytics answer
// against a count made directly from the raw event log.
func TestAnalyticsAgreeWithTheRawLog(t *testing.T) {
	ctx := context.Background()
	for name := range stores(t, newClock(), events.DefaultRetention) {
		t.Run(name+": searchVolume, topQueries, zeroResultQueries and conversion match the log", func(t *testing.T) {
			clk := newClock()
			store := stores(t, clk, events.DefaultRetention)[name]
			rec := startRecorder(t, store, events.WithClock(clk.Now))
			start := clk.Now()
			queries := []string{"milk", "Milk ", "paediatrician", "id card", "zzqx", "milk"}
			cities := []string{"Hangzhou", "Shanghai"}
			verticals := []string{"GROCERY", "MEDICAL", ""}
			for i := 0; i < 60; i++ {
				clk.Add(7 * time.Minute) // spread over about 7 hours
				q := queries[i%len(queries)]
				results := 3
				if q == "zzqx" || i%11 == 0 {
					results = 0
				}
				user := fmt.Sprintf("u%d", i%4)
				if i%5 == 0 {
					user = "" // anonymous
				}
				rec.Record(events.Event{User: user, Kind: events.KindSearch, Query: q, City: cities[i%2], Vertical: verticals[i%3], Results: results})
				switch i % 6 {
				case 0:
					rec.Record(events.Event{User: user, Kind: events.KindClick, Query: q, Item: "item", Provider: "freshcart"})
				case 1:
					rec.Record(events.Event{User: user, Kind: events.KindOrder, Item: "store", Items: []string{"p1", "p2"}, Provider: "freshcart"})
				case 2:
					rec.Record(events.Event{User: user, Kind: events.KindBooking, Item: "doc", Provider: "healthhub"})
				case 3:
					rec.Record(events.Event{User: user, Kind: events.KindView, Item: "doc", Provider: "healthhub"})
				}
			}
			mustFlush(t, rec)
			from, to := start, clk.Now().Add(time.Hour)
			log, err := store.Log(ctx, from.Add(-time.Hour), to)
			if err != nil {
				t.Fatal(err)
			}
			an := events.NewAnalytics(store)
			f := events.Filter{City: "hangzhou", Vertical: "GROCERY"}

			// Counted from the log.
			perHour := map[int64]int64{}
			top, zero := map[string]int64{}, map[string]int64{}
			var want events.Conversion
			for _, ev := range log {
				switch ev.Kind {
				case events.KindSearch:
					want.Searches++
					if ev.Vertical == f.Vertical && strings.EqualFold(ev.City, "Hangzhou") {
						perHour[ev.Time.Truncate(time.Hour).Unix()]++
						top[events.NormalizeText(ev.Query)]++
						if ev.Results == 0 {
							zero[events.NormalizeText(ev.Query)]++
						}
					}
				case events.KindClick:
					want.Clicks++
				case events.KindView:
					want.Views++
				case events.KindOrder:
					want.Orders++
				case events.KindBooking:
					want.Bookings++
				}
			}
			if want.Searches != 60 {
				t.Fatalf("log holds %d searches, want 60", want.Searches)
			}

			vol, err := an.SearchVolume(ctx, from.Add(-time.Hour), to, time.Hour, f)
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			for _, b := range vol {
				if b.Count != perHour[b.Start.Unix()] {
					t.Errorf("searchVolume at %s = %d, log says %d", b.Start, b.Count, perHour[b.Start.Unix()])
				}
				total += b.Count
			}
			if total == 0 {
				t.Fatal("the filter matched no search: the test checks nothing")
			}
			day, _ := an.SearchVolume(ctx, from.Add(-48*time.Hour), to, 24*time.Hour, f)
			var dayTotal int64
			for _, b := range day {
				dayTotal += b.Count
			}
			if dayTotal != total {
				t.Errorf("daily volume sums to %d, hourly to %d", dayTotal, total)
			}

			checkQueries := func(name string, got []events.QueryCount, want map[string]int64) {
				t.Helper()
				var exp []events.QueryCount
				for q, n := range want {
					exp = append(exp, events.QueryCount{Query: q, Count: n})
				}
				sort.Slice(exp, func(i, j int) bool {
					if exp[i].Count != exp[j].Count {
						return exp[i].Count > exp[j].Count
					}
					return exp[i].Query < exp[j].Query
				})
				if fmt.Sprint(got) != fmt.Sprint(exp) {
					t.Errorf("%s = %v, log says %v", name, got, exp)
				}
			}
			tq, _ := an.TopQueries(ctx, from.Add(-time.Hour), to, 100, f)
			checkQueries("topQueries", tq, top)
			zq, _ := an.ZeroResultQueries(ctx, from.Add(-time.Hour), to, 100, f)
			checkQueries("zeroResultQueries", zq, zero)

			conv, err := an.Conversion(ctx, from.Add(-time.Hour), to)
			if err != nil || conv != want {
				t.Errorf("conversion = %+v (%v), log says %+v", conv, err, want)
			}
		})
	}
}

func TestProviderTraffic(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := events.NewMemoryStore(events.MemoryConfig{Now: clk.Now})
	rec := startRecorder(t, store, events.WithClock(clk.Now))
	for i := 0; i < 100; i++ {
		d := 3 * time.Millisecond // bucket (2, 5]
		if i == 99 {
			d = 300 * time.Millisecond // bucket (200, 500]
		}
		var err error
		if i%10 == 0 {
			err = fmt.Errorf("boom")
		}
		rec.ObserveCall(connectors.VerticalGrocery, "freshcart", "Products", 1, d, err)
	}
	rec.Record(events.Event{Kind: events.KindOrder, Provider: "freshcart", Item: "s"})
	rec.Record(events.Event{Kind: events.KindView, Provider: "freshcart", Item: "s"})
	mustFlush(t, rec)
	got, err := events.NewAnalytics(store).ProviderTraffic(ctx, clk.Now().Add(-time.Hour), clk.Now().Add(time.Hour))
	if err != nil || len(got) != 1 {
		t.Fatalf("traffic = %+v, %v", got, err)
	}
	p := got[0]
	if p.Provider != "freshcart" || p.Calls != 100 || p.Errors != 10 || p.Conversions != 1 {
		t.Fatalf("traffic = %+v", p)
	}
	// 99 calls in (2, 5]: the median interpolates to 2 + 3*50/99.
	if p.P50Ms == nil || *p.P50Ms < 3.5 || *p.P50Ms > 3.6 {
		t.Errorf("p50 = %v, want about 3.52", deref(p.P50Ms))
	}
	// The 99th of 100 is still in (2, 5]; the slow call is the 100th.
	if p.P99Ms == nil || *p.P99Ms > 5 {
		t.Errorf("p99 = %v, want at most 5", deref(p.P99Ms))
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}
