package recommend

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday morning

// hangzhou is hour h (Hangzhou time) on day n after t0's date, in UTC.
func hangzhou(n, h int) time.Time {
	return time.Date(2026, 3, 2+n, h, 0, 0, 0, time.FixedZone("CST", 8*3600)).UTC()
}

func day(n float64) time.Time { return t0.Add(time.Duration(n * 24 * float64(time.Hour))) }

// only returns a config where just the named sources count, with the
// diversity quotas off, so scores can be computed by hand.
func only(w Weights) Config {
	cfg := DefaultConfig()
	cfg.Weights = w
	cfg.MaxPerProvider, cfg.MaxPerCategory = 0, 0
	return cfg
}

func mustEngine(tb testing.TB, cfg Config, items []Item, events ...Event) *Engine {
	tb.Helper()
	e := New(cfg, WithClock(func() time.Time { return t0 }))
	e.AddItems(items...)
	e.Observe(events...)
	return e
}

func order(user, item string, at time.Time) Event {
	return Event{UserID: user, ItemID: item, Kind: Order, Time: at, City: "Hangzhou"}
}

func ids(recs []Recommendation) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ItemID
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRecommendScoring(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		cfg        Config
		items      []Item
		events     []Event
		req        Request
		wantIDs    []string
		wantScores []float64
		wantReason string // of the first item
	}{
		{
			// With a one-day half-life at day 4: A = 2^-3+2^-2+2^-1 = 0.875,
			// B = 0.75, C = 0.5. A was ordered on three consecutive days, so
			// its own period is 1 day and it is due now (factor 0.4+1), so
			// A = 1.225; scores are scaled by the best: B = 0.75/1.225,
			// C = 0.5/1.225.
			name: "ranks repeat purchases by frequency, recency and due-ness",
			cfg: func() Config {
				c := only(Weights{Repeat: 1})
				c.RepeatHalfLife = 24 * time.Hour
				return c
			}(),
			events: []Event{
				order("u", "A", day(1)), order("u", "A", day(2)), order("u", "A", day(3)),
				order("u", "B", day(2)), order("u", "B", day(3)),
				order("u", "C", day(3)),
				order("other", "D", day(3)),
			},
			req:        Request{UserID: "u", Now: day(4), Personalized: true},
			wantIDs:    []string{"A", "B", "C"},
			wantScores: []float64{1, 0.75 / 1.225, 0.5 / 1.225},
			wantReason: "You order this every day",
		},
		{
			// occ(X)=7, occ(Y)=4 (u6 too), occ(Z)=2, occ(W)=1, c(X,Y)=3,
			// c(X,Z)=2, c(X,W)=1. Shrunk by n/(n+5): X-Y scores
			// 3/8*3/sqrt(28), X-Z 2/7*2/sqrt(14); X-W, seen once, is no
			// evidence at all (CoMinSupport 2).
			name:  "finds the co-occurring neighbours of supported pairs and ignores a pair seen once",
			cfg:   only(Weights{CoOccurrence: 1}),
			items: []Item{{ID: "X", Name: "Baby formula"}, {ID: "Y"}, {ID: "Z"}},
			events: []Event{
				order("u1", "X", day(0)), {UserID: "u1", ItemID: "Y", Kind: Booking, Time: day(1)},
				order("u2", "X", day(0)), {UserID: "u2", ItemID: "Y", Kind: Booking, Time: day(2)},
				order("u3", "X", day(0)), {UserID: "u3", ItemID: "Y", Kind: Booking, Time: day(3)},
				order("u4", "X", day(0)), order("u4", "Z", day(1)),
				order("u7", "X", day(0)), order("u7", "Z", day(1)),
				order("u8", "X", day(0)), order("u8", "W", day(1)),
				order("u5", "X", day(5)),
				{UserID: "u6", ItemID: "Y", Kind: Booking, Time: day(40)}, // alone: counts, pairs with nothing
			},
			req:        Request{UserID: "u5", Now: day(6), Personalized: true},
			wantIDs:    []string{"Y", "Z"},
			wantScores: []float64{1, (2.0 / 7 * 2 / math.Sqrt(14)) / (3.0 / 8 * 3 / math.Sqrt(28))},
			wantReason: "People who ordered Baby formula also booked this",
		},
		{
			// One event each, one half-life apart: P is worth exactly half of Q.
			name: "decays city trends with the configured half-life",
			cfg: func() Config {
				c := only(Weights{Trending: 1})
				c.HalfLife = 10 * time.Hour
				c.TimeOfDayBoost, c.DayOfWeekBoost = 0, 0
				return c
			}(),
			events:     []Event{order("a", "P", t0), order("b", "Q", t0.Add(10*time.Hour))},
			req:        Request{UserID: "c", City: "Hangzhou", Now: t0.Add(30 * time.Hour)},
			wantIDs:    []string{"Q", "P"},
			wantScores: []float64{1, 0.5},
			wantReason: "Trending in Hangzhou",
		},
		{
			// Times are stamped in UTC, as the gateway records them; the
			// time of day is Hangzhou's (UTC+8): 09:00 and 19:00 there are
			// 01:00 and 11:00 UTC, which read in UTC would be "tonight" and
			// "this morning".
			name: "prefers what the city does at this time of day, in the city's zone",
			cfg:  only(Weights{Trending: 1}),
			events: []Event{
				order("a", "breakfast", hangzhou(0, 9)),
				order("b", "dinner", hangzhou(0, 19)), order("c", "dinner", hangzhou(0, 19)),
			},
			req:        Request{UserID: "d", City: "Hangzhou", Now: hangzhou(1, 19)},
			wantIDs:    []string{"dinner", "breakfast"},
			wantReason: "Popular in Hangzhou this evening",
		},
		{
			name: "breaks score ties by item ID",
			cfg:  only(Weights{Popular: 1}),
			events: []Event{
				order("a", "m", t0), order("b", "c", t0), order("c", "x", t0), order("d", "a", t0),
			},
			req:        Request{UserID: "new", City: "Hangzhou", Now: t0},
			wantIDs:    []string{"a", "c", "m", "x"},
			wantScores: []float64{1, 1, 1, 1},
			wantReason: "Popular in Hangzhou",
		},
		{
			name:   "falls back to global popularity for an unknown city",
			cfg:    only(Weights{Popular: 1}),
			events: []Event{order("a", "m", t0), order("b", "m", t0), order("c", "x", t0)},
			req:    Request{UserID: "new", City: "Nowhere", Now: t0},
			// x scores half of m; global popularity is halved uniformly, then rescaled.
			wantIDs:    []string{"m", "x"},
			wantReason: "Popular on Plaza",
		},
		{
			name: "filters unavailable and excluded items before filling the list",
			cfg:  only(Weights{Popular: 1}),
			events: []Event{
				order("a", "p1", t0), order("b", "p1", t0), order("c", "p1", t0),
				order("a", "p2", t0), order("b", "p2", t0),
				order("a", "p3", t0), order("a", "p4", t0), order("b", "p4", t0), order("c", "p4", t0), order("d", "p4", t0),
			},
			req: Request{UserID: "new", City: "Hangzhou", Now: t0, N: 2, Exclude: []string{"p4"},
				Available: func(id string) bool { return id != "p1" }},
			wantIDs: []string{"p2", "p3"},
		},
		{
			// Renewal is repeated every 30 days by ten users; u did it once,
			// 30 days ago.
			name: "suggests a service the user is due to repeat at the population's period",
			cfg:  only(Weights{Periodic: 1}),
			events: func() []Event {
				var evs []Event
				for u := range 10 {
					for k := range 3 {
						evs = append(evs, Event{UserID: fmt.Sprint("p", u), ItemID: "renewal", Kind: Renewal, Time: day(float64(30*k + u))})
					}
				}
				return append(evs, Event{UserID: "u", ItemID: "renewal", Kind: Renewal, Time: day(60)}, order("u", "milk", day(89)))
			}(),
			req:        Request{UserID: "u", Now: day(90), Personalized: true},
			wantIDs:    []string{"renewal"},
			wantScores: []float64{1},
			wantReason: "You last renewed this 30 days ago; people usually renew it about every month",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEngine(t, tt.cfg, tt.items, tt.events...)
			got := e.Recommend(ctx, tt.req)
			if !slices.Equal(ids(got), tt.wantIDs) {
				t.Fatalf("items = %v, want %v (%+v)", ids(got), tt.wantIDs, got)
			}
			for i, want := range tt.wantScores {
				if !near(got[i].Score, want) {
					t.Errorf("score of %s = %.9f, want %.9f", got[i].ItemID, got[i].Score, want)
				}
			}
			if tt.wantReason != "" && got[0].Reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", got[0].Reason, tt.wantReason)
			}
			again := e.Recommend(ctx, tt.req)
			if fmt.Sprint(again) != fmt.Sprint(got) {
				t.Errorf("second call differs: %v vs %v", again, got)
			}
		})
	}
}

func TestDiversityCapsProviders(t *testing.T) {
	var items []Item
	var evs []Event
	// Provider a's items are the most popular, then b's, then c's.
	for p, provider := range []string{"a", "b", "c"} {
		for i := range 6 {
			id := fmt.Sprintf("%s-%d", provider, i)
			items = append(items, Item{ID: id, Provider: provider, Category: "grocery-" + provider})
			for n := range 30 - 10*p - i {
				evs = append(evs, order(fmt.Sprint("user", n), id, t0))
			}
		}
	}
	cfg := only(Weights{Popular: 1})
	cfg.MaxPerProvider = 4
	e := mustEngine(t, cfg, items, evs...)

	t.Run("keeps at most four items of one provider in a list of ten", func(t *testing.T) {
		got := e.Recommend(context.Background(), Request{City: "Hangzhou", Now: t0})
		want := []string{"a-0", "a-1", "a-2", "a-3", "b-0", "b-1", "b-2", "b-3", "c-0", "c-1"}
		if !slices.Equal(ids(got), want) {
			t.Fatalf("items = %v, want %v", ids(got), want)
		}
	})
	t.Run("relaxes the cap only when nothing else is left", func(t *testing.T) {
		got := e.Recommend(context.Background(), Request{City: "Hangzhou", Now: t0, N: 10,
			Available: func(id string) bool { return id[0] == 'a' }})
		want := []string{"a-0", "a-1", "a-2", "a-3", "a-4", "a-5"}
		if !slices.Equal(ids(got), want) {
			t.Fatalf("items = %v, want %v", ids(got), want)
		}
	})
}

func TestHome(t *testing.T) {
	var evs []Event
	for w := range 4 {
		evs = append(evs, order("u", "milk", day(float64(7*w))))
	}
	for u := range 5 {
		user := fmt.Sprint("n", u)
		evs = append(evs, order(user, "milk", day(1)), Event{UserID: user, ItemID: "paediatrics", Kind: Booking, Time: day(2), City: "Hangzhou"})
		evs = append(evs, order(user, "trend", day(27)))
	}
	e := mustEngine(t, DefaultConfig(), nil, evs...)
	ctx := context.Background()
	sectionIDs := func(ss []Section) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}

	t.Run("builds personal and city sections without repeating an item", func(t *testing.T) {
		got := e.Home(ctx, Request{UserID: "u", Now: day(28), Personalized: true})
		if want := []string{SectionBuyAgain, SectionForYou, SectionPopular}; !slices.Equal(sectionIDs(got), want) {
			t.Fatalf("sections = %v, want %v", sectionIDs(got), want)
		}
		if got[0].Items[0].ItemID != "milk" || got[0].Items[0].Reason != "You order this every week" {
			t.Errorf("buy again = %+v", got[0].Items)
		}
		if got[1].Items[0].ItemID != "paediatrics" || got[1].Items[0].Reason != "People who ordered milk also booked this" {
			t.Errorf("for you = %+v", got[1].Items)
		}
		seen := map[string]bool{}
		for _, s := range got {
			for _, r := range s.Items {
				if seen[r.ItemID] {
					t.Errorf("%s appears twice", r.ItemID)
				}
				seen[r.ItemID] = true
			}
		}
	})
	t.Run("gives an opted-out user only non-personal sections", func(t *testing.T) {
		got := e.Home(ctx, Request{UserID: "u", Now: day(28)})
		if want := []string{SectionPopular}; !slices.Equal(sectionIDs(got), want) {
			t.Fatalf("sections = %v, want %v", sectionIDs(got), want)
		}
		for _, r := range e.Recommend(ctx, Request{UserID: "u", Now: day(28), N: 50}) {
			for _, s := range r.Sources {
				if s != SourceTrending && s != SourcePopular {
					t.Errorf("%s came from personal source %s", r.ItemID, s)
				}
			}
		}
	})
	t.Run("forgets a user's history on request", func(t *testing.T) {
		e := mustEngine(t, DefaultConfig(), nil, evs...)
		e.Forget("u")
		got := e.Home(ctx, Request{UserID: "u", Now: day(28), Personalized: true})
		if slices.Contains(sectionIDs(got), SectionBuyAgain) {
			t.Errorf("sections = %v, want no buy again after Forget", sectionIDs(got))
		}
	})
}

func TestStateStaysBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HistoryCap = 10
	cfg.TopK = 3
	cfg.PruneEvery = 100
	cfg.HalfLife = time.Hour
	cfg.PopularityHalfLife = time.Hour
	cfg.UserTTL = 48 * time.Hour
	e := New(cfg)
	for i := range 2000 {
		at := t0.Add(time.Duration(i) * time.Minute)
		e.Observe(order(fmt.Sprint("u", i%7), fmt.Sprint("item", i%97), at))
	}
	s := e.Stats()
	if s.MaxHistory > 10 {
		t.Errorf("history = %d, want <= 10", s.MaxHistory)
	}
	if s.MaxNeighbours > 6 {
		t.Errorf("neighbours = %d, want <= 2*TopK", s.MaxNeighbours)
	}
	// Long after, one event from a new user: the old counters have decayed
	// and the idle users expired at the next prune.
	for i := range 100 {
		e.Observe(order("late", "fresh", day(30).Add(time.Duration(i)*time.Second)))
	}
	s = e.Stats()
	if s.Users != 1 || s.CityCounters != 1 {
		t.Errorf("after pruning users = %d, city counters = %d, want 1 and 1", s.Users, s.CityCounters)
	}
}

func TestConcurrentObserveAndRecommend(t *testing.T) {
	e := New(DefaultConfig())
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 300 {
				at := t0.Add(time.Duration(i) * time.Hour)
				if w%2 == 0 {
					e.Observe(order(fmt.Sprint("u", i%5), fmt.Sprint("i", (i*w)%23), at))
				} else {
					e.Home(ctx, Request{UserID: fmt.Sprint("u", i%5), City: "Hangzhou", Now: at, Personalized: true})
				}
			}
		})
	}
	wg.Wait()
}

func TestCancelledContextYieldsNothing(t *testing.T) {
	e := mustEngine(t, DefaultConfig(), nil, order("a", "x", t0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := e.Recommend(ctx, Request{City: "Hangzhou", Now: t0}); got != nil {
		t.Errorf("got %v, want nil", got)
	}
}

func TestForwardDecayRebasesWithoutChangingValues(t *testing.T) {
	cfg := only(Weights{Trending: 1, Popular: 1})
	cfg.HalfLife = time.Minute // 500 half-lives pass in ~8 hours
	e := mustEngine(t, cfg, nil, order("a", "old", t0), order("b", "new", t0.Add(10*time.Hour)))
	got := e.Recommend(context.Background(), Request{City: "Hangzhou", Now: t0.Add(10 * time.Hour), N: 1})
	if len(got) != 1 || got[0].ItemID != "new" || math.IsInf(got[0].Score, 0) || math.IsNaN(got[0].Score) {
		t.Fatalf("got %+v, want new with a finite score", got)
	}
}
