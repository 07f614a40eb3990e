package events_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/events"
)

// BenchmarkRedisAppend is the writer's cost of storing the views of one
// list of 50 (anonymous, as the harness's requests are) in the Redis log.
func BenchmarkRedisAppend(b *testing.B) {
	ctx := context.Background()
	clk := newClock()
	rdb := cachetest.Redis(b)
	prefix := cachetest.Prefix(b)
	store, err := events.NewRedisStore(rdb, events.RedisConfig{Prefix: prefix, LogCap: 1000, Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rdb.Del(ctx, prefix+"log") })
	evs := make([]events.Event, 50)
	for i := range evs {
		evs[i] = events.Event{Kind: events.KindView, Item: fmt.Sprintf("UHJvZHVjdDpmcmVzaGNhcnQ6cHJvZC0%03d", i), Provider: "freshcart",
			Name: "Organic whole milk 1 l", Category: "dairy", Vertical: "GROCERY", Time: clk.Now()}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := store.Append(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
}
