package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// handLog: u1 buys a twice, b twice (latest on the 4th), c once, then d
// on its last day; u2 buys c twice and e once, then x on its last day.
const handLog = `user,item,timestamp
u1,a,2026-01-01T08:00:00Z
u1,a,2026-01-02T08:00:00Z
u1,b,2026-01-03T08:00:00Z
u1,c,2026-01-03T09:00:00Z
u1,b,2026-01-04T08:00:00Z
u1,d,2026-01-05T08:00:00Z
u2,c,2026-01-01T08:00:00Z
u2,c,2026-01-02T08:00:00Z
u2,e,2026-01-02T09:00:00Z
u2,x,2026-01-05T10:00:00Z
`

func mustDataset(t *testing.T, csv string) *dataset {
	t.Helper()
	ds, err := readEvents(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func names(ds *dataset, idx []int32) []string {
	out := make([]string, len(idx))
	for i, x := range idx {
		out[i] = ds.items.names[x]
	}
	return out
}

func TestBaselinesOnAHandBuiltLog(t *testing.T) {
	ds := mustDataset(t, handLog)
	train, tests := splitUserLastDay(ds)
	if len(tests) != 2 {
		t.Fatalf("tests = %d, want u1 and u2", len(tests))
	}
	h := newHistories(train)
	// Training counts: c 3, a 2, b 2, e 1 (ties by item ID).
	pop := popularityTop(ds, train)
	tc := map[string]*testCase{}
	for i := range tests {
		tc[ds.users.names[tests[i].user]] = &tests[i]
	}
	tests2 := []struct {
		name string
		rec  func(*testCase) []int32
		user string
		want []string
	}{
		{"popularity ranks by training count, ties by ID", func(*testCase) []int32 { return pop }, "u1", []string{"c", "a", "b", "e"}},
		{"top-frequency breaks a count tie by recency, then fills from popularity", topFrequency(ds, h, pop), "u1", []string{"b", "a", "c", "e"}},
		{"top-frequency puts the most bought first", topFrequency(ds, h, pop), "u2", []string{"c", "e", "a", "b"}},
		{"recency is the last basket, then earlier ones, then popularity", recency(ds, h, pop), "u1", []string{"b", "c", "a", "e"}},
		{"recency puts the latest item first", recency(ds, h, pop), "u2", []string{"e", "c", "a", "b"}},
	}
	for _, tt := range tests2 {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(ds, tt.rec(tc[tt.user])); !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.user, got, tt.want)
			}
		})
	}
	t.Run("random draws distinct catalogue items, the same for a seed", func(t *testing.T) {
		r := randomRecommender(3, len(ds.items.names))
		a, b := r(tc["u1"]), r(tc["u1"])
		if !slices.Equal(a, b) {
			t.Errorf("same seed and user gave %v then %v", a, b)
		}
		if len(a) != len(ds.items.names) { // 6 items < 10 slots: all of them
			t.Errorf("got %d items, want all %d", len(a), len(ds.items.names))
		}
		seen := map[int32]bool{}
		for _, x := range a {
			if seen[x] || x < 0 || int(x) >= len(ds.items.names) {
				t.Errorf("item %d repeated or outside the catalogue", x)
			}
			seen[x] = true
		}
	})
	t.Run("every baseline scores its known hits", func(t *testing.T) {
		// u1's held-out d was never bought before: no baseline can hit it;
		// u2's x neither. So every baseline scores 0 here.
		for _, m := range []func(*testCase) []int32{topFrequency(ds, h, pop), recency(ds, h, pop)} {
			r := evaluate(context.Background(), "b", tests, len(ds.items.names), m)
			if r.hr != 0 {
				t.Errorf("HR %v, want 0", r.hr)
			}
		}
	})
}

func TestSplitTime(t *testing.T) {
	ds := mustDataset(t, handLog+"u3,a,2026-01-04T08:00:00Z\n")
	cut, err := timeCut(ds, "2026-01-03T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	train, tests := splitTime(ds, cut)
	if len(train) != 5 {
		t.Errorf("training events = %d, want the 5 before the cut", len(train))
	}
	for _, r := range train {
		if r.t >= cut {
			t.Errorf("a training event at %d is not before the cut %d", r.t, cut)
		}
	}
	if len(tests) != 2 {
		t.Fatalf("tests = %+v, want u1 and u2 (u3 has no history before the cut)", tests)
	}
	u1, u2 := tests[0], tests[1]
	if got := relevantNames(ds, u1.relevant); !slices.Equal(got, []string{"b", "c"}) || u1.now.Day() != 3 || u1.now.Hour() != 8 {
		t.Errorf("u1 tested on %v at %s, want b and c (its first day after the cut) at 08:00 on the 3rd", got, u1.now)
	}
	if got := relevantNames(ds, u2.relevant); !slices.Equal(got, []string{"x"}) || u2.now.Day() != 5 {
		t.Errorf("u2 tested on %v at %s, want x on the 5th", got, u2.now)
	}
	t.Run("a fraction cuts at that quantile of event times", func(t *testing.T) {
		got, err := timeCut(ds, "0.5")
		if err != nil {
			t.Fatal(err)
		}
		// 11 events: the 6th time in order (index 5) is 2026-01-03T08:00.
		if want := time.Date(2026, 1, 3, 8, 0, 0, 0, time.UTC).Unix(); got != want {
			t.Errorf("cut = %s, want %s", time.Unix(got, 0).UTC(), time.Unix(want, 0).UTC())
		}
	})
}

func relevantNames(ds *dataset, rel map[int32]bool) []string {
	var out []string
	for x := range rel {
		out = append(out, ds.items.names[x])
	}
	slices.Sort(out)
	return out
}

func TestNothingFindsASignalPlantedInTheTestPeriod(t *testing.T) {
	var base bytes.Buffer
	if err := writeDemo(&base, 40, 2); err != nil {
		t.Fatal(err)
	}
	clean := mustDataset(t, base.String())
	// The cut is the clean log's 80% quantile, kept fixed: planted events
	// must not move it.
	cut, err := timeCut(clean, "")
	if err != nil {
		t.Fatal(err)
	}
	splitOf := func(ds *dataset, split string) ([]record, []testCase) {
		if split == splitLastDay {
			return splitUserLastDay(ds)
		}
		return splitTime(ds, cut)
	}
	for _, split := range []string{splitLastDay, splitAtTime} {
		t.Run("on the "+split+" split", func(t *testing.T) {
			// Every tested user buys "planted" throughout their test day.
			_, tests := splitOf(clean, split)
			var extra strings.Builder
			for _, tc := range tests {
				for h := range 3 {
					fmt.Fprintf(&extra, "%s,planted,%d,grocery\n", clean.users.names[tc.user], tc.now.Unix()+int64(h*600))
				}
			}
			ds := mustDataset(t, base.String()+extra.String())
			train, tests := splitOf(ds, split)
			planted := ds.items.idx["planted"]
			for _, r := range train {
				if r.item == planted {
					t.Fatalf("a planted event is in training")
				}
			}
			ms, _, params, err := methods(context.Background(), io.Discard, ds, train, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms[:4] { // random may draw anything in the catalogue
				for i := range tests {
					if slices.Contains(m.recommend(&tests[i]), planted) {
						t.Fatalf("%s recommended the planted item", m.name)
					}
				}
			}
			// The fit read only training events: the same parameters as
			// without the planted ones.
			cleanTrain, _ := splitOf(clean, split)
			_, _, cleanParams, err := methods(context.Background(), io.Discard, clean, cleanTrain, 1)
			if err != nil {
				t.Fatal(err)
			}
			if params.Weights != cleanParams.Weights || params.RepeatHalfLife != cleanParams.RepeatHalfLife || params.Fit.HR != cleanParams.Fit.HR {
				t.Errorf("planting test-period events changed the fit: %+v vs %+v", params.Weights, cleanParams.Weights)
			}
		})
	}
}

func TestPairedInterval(t *testing.T) {
	tests := []struct {
		name   string
		a, b   []float64
		lo, hi float64
	}{
		{"is zero for identical methods", []float64{1, 0, 1, 0}, []float64{1, 0, 1, 0}, 0, 0},
		{"is the difference when it is the same for every user", []float64{1, 1, 1}, []float64{0.5, 0.5, 0.5}, 0.5, 0.5},
		{"is empty without users", nil, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := pairedInterval(tt.a, tt.b, 1)
			if lo != tt.lo || hi != tt.hi {
				t.Errorf("interval [%v,%v], want [%v,%v]", lo, hi, tt.lo, tt.hi)
			}
		})
	}
	t.Run("holds the mean difference and narrows with more users", func(t *testing.T) {
		mk := func(n int) ([]float64, []float64) {
			a, b := make([]float64, n), make([]float64, n)
			for i := range n {
				a[i] = float64(i % 2) // mean 0.5
				b[i] = float64(i%5) / 5
			}
			return a, b
		}
		a, b := mk(100)
		lo, hi := pairedInterval(a, b, 1)
		mean := 0.5 - 0.4
		if lo > mean || hi < mean {
			t.Errorf("[%v,%v] does not hold %v", lo, hi, mean)
		}
		a, b = mk(2000)
		lo2, hi2 := pairedInterval(a, b, 1)
		if hi2-lo2 >= hi-lo {
			t.Errorf("2,000 users: width %v, not narrower than 100 users' %v", hi2-lo2, hi-lo)
		}
	})
}

// TestSharedGroceryLog runs plaza-eval on the public grocery log (see
// ../shared/data/groceries/README.md), both splits, and fails when the
// engine's HR@10 falls below the best baseline's. CI has the log beside
// the clone; elsewhere a missing log skips the test, saying so.
func TestSharedGroceryLog(t *testing.T) {
	path, err := sharedLog()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared grocery log: %v (CI must have it at ../shared/data/groceries/events.csv beside the clone)", err)
		}
		t.Skipf("SKIPPED: shared grocery log not found (%v); CI runs this test", err)
	}
	for _, split := range []string{splitLastDay, splitAtTime} {
		t.Run("the engine at least matches the best baseline on the "+split+" split", func(t *testing.T) {
			ndcgF, hrF := mustSummary(t, "--events", path, "--split", split)
			if hrF.engine < hrF.best {
				t.Errorf("HR@10: engine %.3f below the best baseline %.3f", hrF.engine, hrF.best)
			}
			if ndcgF.engine < ndcgF.best {
				t.Errorf("NDCG@10: engine %.3f below the best baseline %.3f", ndcgF.engine, ndcgF.best)
			}
		})
	}
}

// sharedLog finds ../shared/data/groceries/events.csv relative to the
// module root (the directory holding go.mod).
func sharedLog() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
	path := filepath.Join(dir, "..", "shared", "data", "groceries", "events.csv")
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	return path, nil
}
