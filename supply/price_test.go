package supply

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMemoryPriceRangeIsExact checks the embedded index's price filter
// (priceField's terms, priceQuery's cover) against every item's price, for
// bounds on and around the prefix blocks' edges, over several segments
// and after Compact. Prices beyond 2^53 are told apart too (a float64
// would hold 2^53+1 as 2^53).
func TestMemoryPriceRangeIsExact(t *testing.T) {
	edges := []int64{0, 1, 2, 15, 16, 17, 255, 256, 257, 4095, 4096, 65535, 65536, 65537, 1 << 20, 1<<20 + 1,
		1<<53 - 1, 1 << 53, 1<<53 + 1, 1<<60 - 1, 1 << 60, math.MaxInt64 - 1, math.MaxInt64}
	rng := rand.New(rand.NewPCG(3, 4))
	prices := slices.Clone(edges)
	for range 150 {
		prices = append(prices, rng.Int64N(1<<uint(rng.IntN(40)+1)))
	}
	items := make([]Item, len(prices))
	for i, p := range prices {
		items[i] = Item{Provider: "shop", Kind: KindProduct, ID: fmt.Sprintf("p-%03d", i), Name: "tea", Category: "pantry",
			Cities: []string{"Hangzhou"}, Price: p, Currency: "CNY", Rating: 4, Version: 1}
	}
	ix, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for lo := 0; lo < len(items); lo += 40 { // several segments
		mustApply(t, ix, Batch{Upserts: items[lo:min(lo+40, len(items))]})
	}
	bounds := []*int64{nil}
	for _, e := range edges {
		bounds = append(bounds, ptr(e))
		if e > 0 {
			bounds = append(bounds, ptr(e-1))
		}
	}
	for range 10 {
		bounds = append(bounds, ptr(rng.Int64N(1<<uint(rng.IntN(40)+1))))
	}
	check := func(t *testing.T) {
		for _, minP := range bounds {
			for _, maxP := range bounds {
				if minP == nil && maxP == nil || minP != nil && maxP != nil && *minP > *maxP {
					continue
				}
				q := Query{MinPrice: minP, MaxPrice: maxP, Sort: SortPriceAsc, First: MaxFirst}
				var want []string
				for _, it := range items {
					if it.Price > 0 && (minP == nil || it.Price >= *minP) && (maxP == nil || it.Price <= *maxP) {
						want = append(want, it.ID)
					}
				}
				p := mustSearch(t, ix, q)
				if got := sorted(ids(p)); !slices.Equal(got, want) || p.Total != len(want) {
					t.Fatalf("price in [%s, %s]: %d items (total %d), want %d: %v, want %v", show(minP), show(maxP), len(got), p.Total, len(want), got, want)
				}
			}
		}
	}
	t.Run("segments", check)
	if err := ix.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("compacted", check)
}

func show(p *int64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}
