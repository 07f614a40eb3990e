package main

import (
	"cmp"
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
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

// split holds each user's last day out. Users active on fewer than two
// distinct (UTC) days are training-only. Training events come back in time
// order (stable for equal times).
func split(ds *dataset) (train []record, tests []testCase) {
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

// train builds an engine from the training events, fed in time order.
func train(ds *dataset, recs []record, items []recommend.Item, cfg recommend.Config) *recommend.Engine {
	e := recommend.New(cfg)
	e.AddItems(items...)
	const batch = 4096
	buf := make([]recommend.Event, 0, batch)
	for i, r := range recs {
		cat := ds.cats.names[r.cat]
		buf = append(buf, recommend.Event{
			UserID:   ds.users.names[r.user],
			ItemID:   ds.items.names[r.item],
			Kind:     kindFor(cat),
			Time:     time.Unix(r.t, 0).UTC(),
			Category: cat,
			City:     ds.cities.names[r.city],
		})
		if len(buf) == batch || i == len(recs)-1 {
			e.Observe(buf...)
			buf = buf[:0]
		}
	}
	return e
}

// result is one method's scores.
type result struct {
	name     string
	hr, ndcg float64
	coverage float64
	elapsed  time.Duration
}

const listLen = 10

// evaluate asks recommend for each test case in parallel and averages
// HR@10 and NDCG@10; coverage is distinct recommended items over catalogueSize.
func evaluate(ctx context.Context, name string, tests []testCase, catalogueSize int, recommend func(tc *testCase) []int32) result {
	start := time.Now()
	workers := runtime.GOMAXPROCS(0)
	type partial struct {
		hr, ndcg float64
		seen     map[int32]struct{}
	}
	parts := make([]partial, workers)
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for w := range workers {
		parts[w].seen = map[int32]struct{}{}
		wg.Go(func() {
			p := &parts[w]
			for i := range next {
				recs := recommend(&tests[i])
				p.hr += hitRate(recs, tests[i].relevant)
				p.ndcg += ndcg(recs, tests[i].relevant, listLen)
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
	res := result{name: name}
	seen := map[int32]struct{}{}
	for _, p := range parts {
		res.hr += p.hr
		res.ndcg += p.ndcg
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

// popularityTop is the global top-10 by training count, ties by item ID.
func popularityTop(ds *dataset, recs []record) []int32 {
	counts := make([]int, len(ds.items.names))
	for _, r := range recs {
		counts[r.item]++
	}
	idx := make([]int32, 0, len(counts))
	for i, c := range counts {
		if c > 0 {
			idx = append(idx, int32(i))
		}
	}
	slices.SortFunc(idx, func(a, b int32) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(ds.items.names[a], ds.items.names[b]))
	})
	return idx[:min(listLen, len(idx))]
}

// randomRecommender draws 10 distinct catalogue items, seeded per user so
// the result does not depend on worker scheduling.
func randomRecommender(seed uint64, catalogueSize int) func(tc *testCase) []int32 {
	return func(tc *testCase) []int32 {
		rng := rand.New(rand.NewPCG(seed, uint64(tc.user)))
		n := min(listLen, catalogueSize)
		out := make([]int32, 0, n)
		for len(out) < n {
			x := int32(rng.IntN(catalogueSize))
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
		return out
	}
}
