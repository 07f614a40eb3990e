package cache

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkGetMany50 reads a batch of 50 present keys, as one dataloader batch would.
func BenchmarkGetMany50(b *testing.B) {
	keys := make([]string, 50)
	items := make([]Item, 50)
	for i := range keys {
		keys[i] = fmt.Sprintf("Product:bench:%d", i)
		items[i] = Item{Key: keys[i], Value: make([]byte, 300), TTL: time.Hour}
	}
	caches := []struct {
		name string
		new  func(b *testing.B) Cache
	}{
		{"memory", func(b *testing.B) Cache { return NewMemory(1000) }},
		{"redis", func(b *testing.B) Cache { return newTestRedis(b) }},
		{"tiered-warm", func(b *testing.B) Cache { return newTestTiered(b, newTestRedis(b)) }},
	}
	ctx := context.Background()
	for _, c := range caches {
		b.Run(c.name, func(b *testing.B) {
			cache := c.new(b)
			mustSet(b, cache, items...)
			mustGet(b, cache, keys[:1], Entry{Value: items[0].Value, Found: true}) // also warms L1
			if _, err := cache.GetMany(ctx, keys); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				entries, err := cache.GetMany(ctx, keys)
				if err != nil || !entries[49].Found {
					b.Fatalf("GetMany: %v, last found %v", err, entries[49].Found)
				}
			}
		})
	}
}
