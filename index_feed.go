package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
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
	return feedIndex(ctx, ix, a.source.current().Registry.All(), a.log)
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
