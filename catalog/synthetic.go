package catalog

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
)

// Synthetic catalogues for generated providers (`plaza providers generate
// --items-per-provider K`): K items per provider, derived from its ID
// alone, so every run and every instance agrees, and at version 1, so
// indexing them again is acknowledged superseded and changes nothing.

var syntheticWords = map[connectors.Vertical]struct {
	kind       connectors.CatalogKind
	names      []string
	categories []string
	tags       []string
}{
	connectors.VerticalGrocery: {connectors.CatalogProduct,
		[]string{"Whole Milk", "Oat Milk", "Sourdough Bread", "Jasmine Rice", "Green Tea", "Fuji Apples", "Firm Tofu", "Free-range Eggs", "Greek Yoghurt", "Cheddar Cheese", "Soy Sauce", "Instant Noodles", "Orange Juice", "Ground Coffee", "Baby Formula"},
		[]string{"Dairy", "Bakery", "Pantry", "Produce", "Beverages", "Baby"},
		[]string{"milk", "organic", "fresh", "value", "family pack", "imported", "breakfast", "vegan"}},
	connectors.VerticalMedical: {connectors.CatalogDoctor,
		[]string{"Dr. Wang Wei", "Dr. Li Na", "Dr. Zhang Min", "Dr. Chen Jing", "Dr. Liu Yang", "Dr. Zhao Lei"},
		[]string{"General Practice", "Paediatrics", "Cardiology", "Dermatology", "Orthopaedics", "Ophthalmology"},
		[]string{"fever", "child", "heart", "skin", "back pain", "eyes", "check-up"}},
	connectors.VerticalLegal: {connectors.CatalogLawyer,
		[]string{"Attorney Sun Hao", "Attorney Zhou Xin", "Attorney Wu Ying", "Attorney Xu Tao", "Attorney Ma Lin"},
		[]string{"Family", "Labour", "Property", "Immigration", "Business"},
		[]string{"divorce", "custody", "dismissal", "tenancy", "visa", "contracts"}},
	connectors.VerticalPublicService: {connectors.CatalogGovService,
		[]string{"Passport Renewal", "ID Card Replacement", "Business Licence", "Birth Registration", "Social Security Card", "Vehicle Registration"},
		[]string{"Identity", "Business", "Family", "Social Security", "Transport"},
		[]string{"passport", "id card", "licence", "newborn", "pension", "car"}},
}

// Synthetic returns the k catalogue items generated provider p publishes.
func Synthetic(p directory.Provider, k int) []connectors.CatalogItem {
	w, ok := syntheticWords[p.Vertical]
	if !ok || k <= 0 || len(p.Cities) == 0 {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte(p.ID))
	rng := rand.New(rand.NewPCG(h.Sum64(), 15))
	out := make([]connectors.CatalogItem, k)
	for i := range out {
		name := w.names[rng.IntN(len(w.names))]
		price := connectors.Money{Amount: int64(100 + rng.IntN(50_000)), Currency: "CNY"}
		out[i] = connectors.CatalogItem{Kind: w.kind, ID: fmt.Sprintf("syn-%04d", i), Name: name,
			Description: name + " from " + p.Name, Category: w.categories[rng.IntN(len(w.categories))],
			Tags: []string{w.tags[rng.IntN(len(w.tags))], w.tags[rng.IntN(len(w.tags))]}, Cities: []string{p.Cities[rng.IntN(len(p.Cities))]},
			Price: &price, Available: rng.IntN(10) > 0, Rating: float64(30+rng.IntN(21)) / 10, Version: 1}
	}
	return out
}

// BulkResult says what IndexSynthetic did.
type BulkResult struct {
	Providers int64
	Indexed   int64
	// Superseded: already indexed by an earlier run.
	Superseded int64
}

// IndexSynthetic publishes the synthetic catalogue of each provider that
// provider(i) returns for i in [0, count), k items each, through in (one
// push per provider, as the provider would send it), with workers pushes
// at once. It stops at the first push refused.
func IndexSynthetic(ctx context.Context, in *Ingest, count, k, workers int, provider func(i int) directory.Provider) (BulkResult, error) {
	var res BulkResult
	if k <= 0 || count <= 0 {
		return res, nil
	}
	workers = max(workers, 1)
	next := atomic.Int64{}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= count {
					return
				}
				p := provider(i)
				ack, err := in.apply(ctx, p.ID, connectors.CatalogBatch{Upserts: Synthetic(p, k)}, false)
				if err != nil {
					cancel(fmt.Errorf("catalog: synthetic catalogue of %s: %w", p.ID, err))
					return
				}
				atomic.AddInt64(&res.Providers, 1)
				atomic.AddInt64(&res.Indexed, int64(ack.Indexed))
				atomic.AddInt64(&res.Superseded, int64(ack.Superseded))
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return res, err
	}
	return res, nil
}
