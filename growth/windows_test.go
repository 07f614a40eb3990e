package growth_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/ledger"
)

// exactMarks drops PostgreSQL's margin for writes in flight, so a test
// reads exactly the windows changed since a mark.
func exactMarks(store growth.Store) {
	if p, ok := store.(*growth.Postgres); ok {
		growth.SetMarkMargin(p, 0)
	}
}

func changedSince(t *testing.T, store growth.Store, mark growth.Mark) ([]string, growth.Mark) {
	t.Helper()
	var got []string
	next, err := store.ChangedWindows(context.Background(), mark, func(p string, _ growth.Window) error {
		got = append(got, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got, next
}

// TestWindowsFollowTheBuckets: a provider's window is the sum of its call
// minutes and order hours as they arrive; expiring buckets takes them out
// (a window left empty is gone); a read since a mark returns the providers
// changed after it, expiry included.
func TestWindowsFollowTheBuckets(t *testing.T) {
	ctx := context.Background()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, s.open)
			exactMarks(f.store)
			now := f.clock.Now().Truncate(time.Hour)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(f.store.AddCounters(ctx, "mart", now, growth.Counters{Calls: 10, Errors: 2, Slow: 1}))
			must(f.store.AddCounters(ctx, "mart", now.Add(time.Minute), growth.Counters{Calls: 5, Errors: 1}))
			mustRecord(t, f, growth.Order{Provider: "mart", ID: "o1", User: "u1", Status: growth.OrderPlaced, At: now})
			mustRecord(t, f, growth.Order{Provider: "mart", ID: "o1", Status: growth.OrderCompleted, At: now.Add(time.Minute)})
			mustRecord(t, f, growth.Order{Provider: "mart", ID: "o1", Status: growth.OrderCancelled, At: now.Add(2 * time.Minute)})
			mustRecord(t, f, growth.Order{Provider: "mart", ID: "o1", Status: growth.OrderCancelled, At: now.Add(3 * time.Minute)}) // again: counted once
			mustRecord(t, f, growth.Order{Provider: "mart", ID: "o2", Status: growth.OrderCompleted, At: now.Add(time.Hour)})
			w, err := f.store.Windows(ctx, []string{"mart", "other"})
			must(err)
			want := growth.Window{Calls: growth.Counters{Calls: 15, Errors: 3, Slow: 1}, Orders: growth.OrderCounts{Orders: 2, Cancelled: 1}}
			if w["mart"] != want || len(w) != 1 {
				t.Fatalf("windows %+v, want mart %+v and nothing for other", w, want)
			}

			got, mark := changedSince(t, f.store, 0)
			if fmt.Sprint(got) != "[mart]" {
				t.Fatalf("every window: %v", got)
			}
			must(f.store.AddCounters(ctx, "other", now.Add(2*time.Minute), growth.Counters{Calls: 1}))
			got, mark = changedSince(t, f.store, mark)
			if fmt.Sprint(got) != "[other]" {
				t.Fatalf("changed since the mark: %v, want [other]", got)
			}
			if got, _ = changedSince(t, f.store, mark); len(got) != 0 {
				t.Fatalf("nothing changed, read %v", got)
			}

			// The first call minute and the first order hour leave their windows.
			must(f.store.ExpireCounters(ctx, now.Add(time.Minute), now.Add(time.Hour)))
			w, err = f.store.Windows(ctx, []string{"mart"})
			must(err)
			want = growth.Window{Calls: growth.Counters{Calls: 5, Errors: 1}, Orders: growth.OrderCounts{Orders: 1}}
			if w["mart"] != want {
				t.Fatalf("after expiry %+v, want %+v", w["mart"], want)
			}
			if got, _ = changedSince(t, f.store, mark); fmt.Sprint(got) != "[mart]" {
				t.Fatalf("expiry changes the window: read %v", got)
			}
			must(f.store.ExpireCounters(ctx, now.Add(time.Hour), now.Add(2*time.Hour)))
			if w, err = f.store.Windows(ctx, []string{"mart", "other"}); err != nil || len(w) != 0 {
				t.Fatalf("everything expired, windows %+v %v", w, err)
			}
		})
	}
}

// gradedStore counts the windows a grading run reads.
type gradedStore struct {
	growth.Store
	read int
}

func (g *gradedStore) ChangedWindows(ctx context.Context, since growth.Mark, fn func(string, growth.Window) error) (growth.Mark, error) {
	return g.Store.ChangedWindows(ctx, since, func(p string, w growth.Window) error { g.read++; return fn(p, w) })
}

func (g *gradedStore) Windows(ctx context.Context, providers []string) (map[string]growth.Window, error) {
	g.read += len(providers)
	return g.Store.Windows(ctx, providers)
}

// TestGradingReadsWhatChanged: the first run of a process grades every
// window; later runs read only the providers whose window changed and
// those in trouble, so a run's cost follows activity, not the providers
// with counters in the window.
func TestGradingReadsWhatChanged(t *testing.T) {
	ctx := context.Background()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			store, lb := s.open(t)
			exactMarks(store)
			counting := &gradedStore{Store: store}
			f := newFixture(t, func(*testing.T) (growth.Store, ledger.Backend) { return counting, lb })
			counter := growth.NewCounter(store, growth.DefaultThresholds.SlowCall, f.clock.Now)
			for i := range 50 {
				for range 30 {
					counter.ObserveCall(connectors.VerticalGrocery, fmt.Sprintf("p%02d", i), "products", 1, time.Millisecond, nil)
				}
			}
			for range 30 { // mart fails: WARNING
				counter.ObserveCall(connectors.VerticalGrocery, "mart", "products", 1, time.Millisecond, connectors.Errorf(connectors.KindUnavailable, "down"))
			}
			if err := counter.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			run := func() int {
				t.Helper()
				counting.read = 0
				if err := f.svc.EvaluateLevels(ctx); err != nil {
					t.Fatal(err)
				}
				return counting.read
			}
			if n := run(); n != 51 {
				t.Fatalf("the first run read %d windows, want all 51", n)
			}
			if l, _, _ := store.Level(ctx, "mart"); l != growth.LevelSuspended {
				t.Fatalf("mart is %s, want SUSPENDED (every call failed)", l)
			}
			f.clock.Advance(time.Minute)
			counter.ObserveCall(connectors.VerticalGrocery, "p07", "products", 1, time.Millisecond, nil)
			if err := counter.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if n := run(); n != 2 {
				t.Fatalf("a run after one provider's calls read %d windows, want 2 (p07, and mart in trouble)", n)
			}
		})
	}
}
