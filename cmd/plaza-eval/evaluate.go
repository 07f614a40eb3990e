package main

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/recommend"
)

// testCase is one held-out user: what they did on their last day.
type testCase struct {
	user     int32
	now      time.Time // the first held-out event: when the user opens the app
	city     string    // the user's last known city from training
	relevant map[int32]bool
}

// splitUserLastDay holds each user's last day out. Users active on fewer
// than two distinct (UTC) days are training-only. Training events come back
// in time order (stable for equal times). Other users' events after a
// test day stay in training: popularity and co-occurrence can see a future
// that a live engine could not (splitTime cannot).
func splitUserLastDay(ds *dataset) (train []record, tests []testCase) {
	order := make([]int, len(ds.recs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ra, rb := &ds.recs[a], &ds.recs[b]
		return cmp.Or(cmp.Compare(ra.user, rb.user), cmp.Compare(ra.t, rb.t))
	})
	train = make([]record, 0, len(ds.recs))
	for start := 0; start < len(order); {
		end := start
		user := ds.recs[order[start]].user
		for end < len(order) && ds.recs[order[end]].user == user {
			end++
		}
		userRecs := order[start:end]
		start = end
		lastDay := day(ds.recs[userRecs[len(userRecs)-1]].t)
		if day(ds.recs[userRecs[0]].t) == lastDay {
			for _, i := range userRecs {
				train = append(train, ds.recs[i])
			}
			continue
		}
		tc := testCase{user: user, relevant: map[int32]bool{}}
		for _, i := range userRecs {
			r := ds.recs[i]
			if day(r.t) < lastDay {
				train = append(train, r)
				if r.city != 0 {
					tc.city = ds.cities.names[r.city]
				}
				continue
			}
			if tc.now.IsZero() {
				tc.now = time.Unix(r.t, 0).UTC()
			}
			tc.relevant[r.item] = true
		}
		tests = append(tests, tc)
	}
	slices.SortStableFunc(train, func(a, b record) int { return cmp.Compare(a.t, b.t) })
	return train, tests
}

// splitTime trains on every event before cut, from every user, and tests
// each user with history before the cut on their first (UTC) day with
// events at or after it, from the first of those events. Nothing after the
// cut, of any user, is in training.
func splitTime(ds *dataset, cut int64) (train []record, tests []testCase) {
	order := make([]int, len(ds.recs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(ds.recs[a].t, ds.recs[b].t) })
	byUser := map[int32]int{} // user -> index in tests
	known := map[int32]bool{}
	city := map[int32]string{}
	for _, i := range order {
		r := ds.recs[i]
		if r.t < cut {
			train = append(train, r)
			known[r.user] = true
			if r.city != 0 {
				city[r.user] = ds.cities.names[r.city]
			}
			continue
		}
		if !known[r.user] {
			continue
		}
		k, ok := byUser[r.user]
		if !ok {
			k = len(tests)
			byUser[r.user] = k
			tests = append(tests, testCase{user: r.user, now: time.Unix(r.t, 0).UTC(), city: city[r.user], relevant: map[int32]bool{}})
		}
		if day(r.t) == day(tests[k].now.Unix()) {
			tests[k].relevant[r.item] = true
		}
	}
	slices.SortFunc(tests, func(a, b testCase) int { return cmp.Compare(a.user, b.user) })
	return train, tests
}

// timeCut reads --cut: an RFC 3339 time or unix seconds, or a fraction in
// (0,1) taken as that quantile of the event times.
func timeCut(ds *dataset, arg string) (int64, error) {
	if arg == "" {
		arg = "0.8"
	}
	if q, err := strconv.ParseFloat(arg, 64); err == nil && q > 0 && q < 1 {
		ts := make([]int64, len(ds.recs))
		for i, r := range ds.recs {
			ts[i] = r.t
		}
		slices.Sort(ts)
		return ts[int(q*float64(len(ts)-1))], nil
	}
	t, err := parseTimestamp(arg)
	if err != nil {
		return 0, fmt.Errorf("--cut %q: want a fraction in (0,1), an RFC 3339 time or unix seconds", arg)
	}
	return t, nil
}

func day(t int64) int64 {
	if t < 0 {
		return (t - 86399) / 86400
	}
	return t / 86400
}

// kindFor guesses the interaction kind from the category, which only
// changes the verbs of reasons (all substantial kinds weigh the same).
func kindFor(category string) recommend.EventKind {
	switch strings.ToLower(category) {
	case "medical":
		return recommend.Booking
	case "legal":
		return recommend.Consultation
	case "gov", "public", "publicservice":
		return recommend.Application
	}
	return recommend.Order
}

// catalogue turns the dataset's items into engine metadata. IDs shaped
// `vertical:provider:rest` name their provider; the category column wins
// over the vertical when present.
func catalogue(ds *dataset) []recommend.Item {
	items := make([]recommend.Item, len(ds.items.names))
	for i, id := range ds.items.names {
		items[i].ID = id
		if parts := strings.SplitN(id, ":", 3); len(parts) == 3 {
			items[i].Category, items[i].Provider = parts[0], parts[1]
		}
	}
	for _, r := range ds.recs {
		if c := ds.cats.names[r.cat]; c != "" {
			items[r.item].Category = c
		}
	}
	return items
}

// engineEvents turns records into engine events, in the order given.
func engineEvents(ds *dataset, recs []record) []recommend.Event {
	out := make([]recommend.Event, len(recs))
	for i, r := range recs {
		cat := ds.cats.names[r.cat]
		out[i] = recommend.Event{
			UserID:   ds.users.names[r.user],
			ItemID:   ds.items.names[r.item],
			Kind:     kindFor(cat),
			Time:     time.Unix(r.t, 0).UTC(),
			Category: cat,
			City:     ds.cities.names[r.city],
		}
	}
	return out
}

// train builds an engine with params from the training events, fed in time
// order.
func train(evs []recommend.Event, items []recommend.Item, cfg recommend.Config, params recommend.Params) (*recommend.Engine, error) {
	e := recommend.New(cfg)
	if err := e.SetParams(params); err != nil {
		return nil, err
	}
	e.AddItems(items...)
	const batch = 4096
	for i := 0; i < len(evs); i += batch {
		e.Observe(evs[i:min(len(evs), i+batch)]...)
	}
	return e, nil
}

// result is one method's scores: means, and each test user's own (in the
// order of the test cases) for the paired intervals.
type result struct {
	name           string
	hr, ndcg       float64
	coverage       float64
	elapsed        time.Duration
	perHR, perNDCG []float64
}

const listLen = 10

// evaluate asks recommend for each test case in parallel and averages
// HR@10 and NDCG@10; coverage is distinct recommended items over catalogueSize.
func evaluate(ctx context.Context, name string, tests []testCase, catalogueSize int, recommend func(tc *testCase) []int32) result {
	start := time.Now()
	workers := runtime.GOMAXPROCS(0)
	type partial struct {
		seen map[int32]struct{}
	}
	parts := make([]partial, workers)
	res := result{name: name, perHR: make([]float64, len(tests)), perNDCG: make([]float64, len(tests))}
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for w := range workers {
		parts[w].seen = map[int32]struct{}{}
		wg.Go(func() {
			p := &parts[w]
			for i := range next {
				recs := recommend(&tests[i])
				res.perHR[i] = hitRate(recs, tests[i].relevant)
				res.perNDCG[i] = ndcg(recs, tests[i].relevant, listLen)
				for _, r := range recs {
					p.seen[r] = struct{}{}
				}
			}
		})
	}
	for i := range tests {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	seen := map[int32]struct{}{}
	for i := range tests {
		res.hr += res.perHR[i]
		res.ndcg += res.perNDCG[i]
	}
	for _, p := range parts {
		for k := range p.seen {
			seen[k] = struct{}{}
		}
	}
	if n := float64(len(tests)); n > 0 {
		res.hr /= n
		res.ndcg /= n
	}
	if catalogueSize > 0 {
		res.coverage = float64(len(seen)) / float64(catalogueSize)
	}
	res.elapsed = time.Since(start)
	return res
}

func engineRecommender(ctx context.Context, ds *dataset, e *recommend.Engine) func(tc *testCase) []int32 {
	return func(tc *testCase) []int32 {
		recs := e.Recommend(ctx, recommend.Request{
			UserID:       ds.users.names[tc.user],
			City:         tc.city,
			Now:          tc.now,
			N:            listLen,
			Personalized: true,
		})
		out := make([]int32, len(recs))
		for i, r := range recs {
			out[i] = ds.items.idx[r.ItemID]
		}
		return out
	}
}
