package catalog

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/plaza-gateway/plaza/connectors"
)

// BulkResult says what IndexGenerated did.
type BulkResult struct {
	Providers int64
	Indexed   int64
	// Superseded: already indexed by an earlier run.
	Superseded int64
	// Unreachable: providers whose catalogue could not be read.
	Unreachable int64
}

// IndexGenerated publishes the first k items of each generated provider's
// own catalogue, for i in [0, count), through in (one push per provider, as
// the provider would send it, checked as a push is; the pushes of about a
// thousand items' worth of providers written to the index at once), with
// workers at once. catalogOf
// returns provider i's id and its catalogue: the in-process demo provider
// derived from its id, or its endpoint over the contract. The items are
// the provider's own, so the page Plaza completes from it finds them; they
// carry the provider's versions, so a second run is acknowledged
// superseded and changes nothing. A provider whose catalogue cannot be read
// (an endpoint down) is counted in Unreachable and left out; the first push
// the ingest refuses stops the run.
//
// Once a provider's items are acknowledged, the cursor its catalogue gave
// after them is stored in cursors (nil: none), as the syncer's own pull
// would store it: the syncer resumes after what was indexed instead of
// pulling it again, and the start-up catch-up does not count the provider
// behind.
func IndexGenerated(ctx context.Context, in *Ingest, cursors CursorStore, count, k, workers int, catalogOf func(ctx context.Context, i int) (string, connectors.Catalog, error)) (BulkResult, error) {
	var res BulkResult
	if k <= 0 || count <= 0 {
		return res, nil
	}
	k = min(k, connectors.MaxCatalogBatch)
	workers = max(workers, 1)
	// Each worker takes the next providers that fill one index write of
	// about MaxCatalogBatch items (applyMany), each provider's push
	// checked on its own.
	group := max(connectors.MaxCatalogBatch/k, 1)
	next := atomic.Int64{}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			pushes := make([]push, 0, group)
			for ctx.Err() == nil {
				lo := int(next.Add(int64(group)) - int64(group))
				if lo >= count {
					return
				}
				pushes = pushes[:0]
				for i := lo; i < min(lo+group, count); i++ {
					id, cat, err := catalogOf(ctx, i)
					var ch connectors.CatalogChanges
					if err == nil {
						ch, err = cat.CatalogChanges(ctx, "", k)
					}
					if err != nil {
						atomic.AddInt64(&res.Unreachable, 1)
						continue
					}
					var cursor string
					if len(ch.Upserts) <= k {
						cursor = ch.Cursor
					}
					pushes = append(pushes, push{provider: id, batch: connectors.CatalogBatch{Upserts: ch.Upserts[:min(k, len(ch.Upserts))]}, cursor: cursor})
				}
				acks, err := in.applyMany(ctx, pushes)
				if err != nil {
					cancel(fmt.Errorf("catalog: catalogues of providers %d to %d: %w", lo, lo+len(pushes)-1, err))
					return
				}
				for j, ack := range acks {
					// The page asked for k changes, so its cursor is after
					// the items indexed.
					if p := pushes[j]; cursors != nil && p.cursor != "" {
						if err := cursors.SetCursor(ctx, p.provider, p.cursor); err != nil {
							cancel(fmt.Errorf("catalog: catalogue of %s: %w", p.provider, err))
							return
						}
					}
					atomic.AddInt64(&res.Providers, 1)
					atomic.AddInt64(&res.Indexed, int64(ack.Indexed))
					atomic.AddInt64(&res.Superseded, int64(ack.Superseded))
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return res, err
	}
	return res, nil
}
