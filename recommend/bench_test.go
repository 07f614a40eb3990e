package recommend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchEngine builds typical state: 2,000 users with 120 events each over
// eight weeks, 600 items across 3 providers, 6 cities. Each user leans on
// a personal set of 15 items so there are staples and co-occurrences.
func benchEngine(b *testing.B) (*Engine, []string) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	cities := []string{"Hangzhou", "Shanghai", "Beijing", "Shenzhen", "Chengdu", "Wuhan"}
	e := New(DefaultConfig())
	var items []Item
	for i := range 600 {
		items = append(items, Item{ID: fmt.Sprintf("item-%03d", i), Provider: fmt.Sprint("p", i%3), Category: fmt.Sprint("c", i%5)})
	}
	e.AddItems(items...)
	var evs []Event
	users := make([]string, 2000)
	for u := range users {
		users[u] = fmt.Sprint("user-", u)
		mine := rng.Perm(600)[:15]
		for k := range 120 {
			item := mine[rng.IntN(len(mine))]
			if k%5 == 0 {
				item = rng.IntN(600)
			}
			at := t0.Add(time.Duration(k*56*24/120) * time.Hour).Add(time.Duration(rng.IntN(3600)) * time.Second)
			evs = append(evs, Event{UserID: users[u], ItemID: items[item].ID, Kind: Order, Time: at, City: cities[u%len(cities)]})
		}
	}
	// Observe in time order, like a live stream.
	for k := range 120 {
		for u := range users {
			e.Observe(evs[u*120+k])
		}
	}
	return e, users
}

func BenchmarkRecommend(b *testing.B) {
	benchRequests(b, func(e *Engine, ctx context.Context, req Request) { e.Recommend(ctx, req) })
}

func BenchmarkHome(b *testing.B) {
	benchRequests(b, func(e *Engine, ctx context.Context, req Request) { e.Home(ctx, req) })
}

// benchRequests times call for personalised requests cycling over users.
func benchRequests(b *testing.B, call func(*Engine, context.Context, Request)) {
	e, users := benchEngine(b)
	ctx := context.Background()
	now := t0.Add(57 * 24 * time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		call(e, ctx, Request{UserID: users[i%len(users)], Now: now, N: 10, Personalized: true})
	}
}

func BenchmarkObserve(b *testing.B) {
	e := New(DefaultConfig())
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Observe(Event{UserID: fmt.Sprint("u", i%2000), ItemID: fmt.Sprint("i", (i*7)%600), Kind: Order,
			Time: t0.Add(time.Duration(i) * time.Second), City: "Hangzhou"})
	}
}
