package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/providers"
	"github.com/plaza-gateway/plaza/supply"
)

// openIndex builds the supply index search and the lists read: the
// embedded one (Bleve in memory), closed with the app.
func (a *app) openIndex(ctx context.Context) error {
	ix, err := supply.NewMemory()
	if err != nil {
		return err
	}
	a.index = ix
	a.onClose(func() { _ = ix.Close() })
	conns := a.source.current().Registry.All()
	if a.source.seedsDemo() {
		// In-process demo providers: their catalogues are there at once,
		// so search is complete from the first request.
		return feedIndex(ctx, ix, conns, a.log)
	}
	// Providers over HTTP may be slow or down: the start does not wait for
	// them (their items become searchable as their catalogues arrive).
	a.background(ctx, func(ctx context.Context) {
		if err := feedIndex(ctx, ix, conns, a.log); err != nil {
			a.log.Warn("supply index: feeding at start", "err", err)
		}
	})
	return nil
}

// feedIndex fills ix from the catalogues of conns, read through their own
// search methods (demo.CatalogItems). It is the one place the index is fed
// in process, until providers push their catalogues through the catalogue
// contract: the push replaces this function. A provider whose catalogue
// cannot be read is logged and left out (its items are not searchable);
// only the index's own failure stops the start.
func feedIndex(ctx context.Context, ix supply.Index, conns []connectors.Connector, log *slog.Logger) error {
	items, err := demo.CatalogItems(ctx, conns)
	if err != nil {
		log.Warn("supply index: catalogues left out", "err", err)
	}
	ack, err := ix.Apply(ctx, supply.Batch{Upserts: items})
	if err != nil {
		return fmt.Errorf("supply index: %w", err)
	}
	if n := ack.Count(supply.Rejected); n > 0 {
		return fmt.Errorf("supply index: %d of %d catalogue items rejected (first: %v)", n, len(items), firstRejected(ack))
	}
	return nil
}

func firstRejected(ack supply.Ack) error {
	for _, r := range ack.Results {
		if r.Outcome == supply.Rejected {
			return r.Err
		}
	}
	return nil
}

// feedTimeout bounds reading the catalogues of the providers a reload adds.
const feedTimeout = 30 * time.Second

// feedNewProviders indexes the catalogues of the providers l serves and old
// did not (registered and approved since): the in-process stand-in for
// their first pull after certification. Providers that left stay in the
// index; search filters them out against the registry.
func (a *app) feedNewProviders(old, l *providers.Set) {
	var added []connectors.Connector
	for _, c := range l.Registry.All() {
		if _, ok := old.Registry.Get(c.Describe().ID); !ok {
			added = append(added, c)
		}
	}
	if len(added) == 0 || a.index == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), feedTimeout)
	defer cancel()
	if err := feedIndex(ctx, a.index, added, a.log); err != nil {
		a.log.Warn("supply index: feeding new providers", "err", err)
	}
}
