package demo

import (
	"context"
	"slices"

	"github.com/plaza-gateway/plaza/connectors"
)

// The pull side of publishing, and the changes a demo provider can be
// asked to make besides orders and bookings (tests and cmd/demo-provider
// change prices, stock and the range on a schedule).

// CatalogChanges implements connectors.Catalog.
func (g *Grocery) CatalogChanges(ctx context.Context, since string, first int) (connectors.CatalogChanges, error) {
	if err := ctx.Err(); err != nil {
		return connectors.CatalogChanges{}, err
	}
	return g.feed.changes(since, first)
}

// PublishCatalog pushes the catalogue, then every change, to pub until ctx ends.
func (g *Grocery) PublishCatalog(ctx context.Context, pub connectors.Publisher) { g.feed.run(ctx, pub) }

// CatalogChanges implements connectors.Catalog.
func (m *Medical) CatalogChanges(ctx context.Context, since string, first int) (connectors.CatalogChanges, error) {
	if err := ctx.Err(); err != nil {
		return connectors.CatalogChanges{}, err
	}
	return m.feed.changes(since, first)
}

// PublishCatalog pushes the catalogue, then every change, to pub until ctx ends.
func (m *Medical) PublishCatalog(ctx context.Context, pub connectors.Publisher) { m.feed.run(ctx, pub) }

// CatalogChanges implements connectors.Catalog.
func (l *Legal) CatalogChanges(ctx context.Context, since string, first int) (connectors.CatalogChanges, error) {
	if err := ctx.Err(); err != nil {
		return connectors.CatalogChanges{}, err
	}
	return l.feed.changes(since, first)
}

// PublishCatalog pushes the catalogue, then every change, to pub until ctx ends.
func (l *Legal) PublishCatalog(ctx context.Context, pub connectors.Publisher) { l.feed.run(ctx, pub) }

// CatalogChanges implements connectors.Catalog.
func (p *PublicService) CatalogChanges(ctx context.Context, since string, first int) (connectors.CatalogChanges, error) {
	if err := ctx.Err(); err != nil {
		return connectors.CatalogChanges{}, err
	}
	return p.feed.changes(since, first)
}

// PublishCatalog pushes the catalogue, then every change, to pub until ctx ends.
func (p *PublicService) PublishCatalog(ctx context.Context, pub connectors.Publisher) {
	p.feed.run(ctx, pub)
}

// hasFreeSlot reports whether the doctor has an upcoming free slot. The
// caller holds m.mu.
func (m *Medical) hasFreeSlot(doctorID string) bool {
	now := m.now()
	return slices.ContainsFunc(m.doctorSlots[doctorID], func(s *connectors.AppointmentSlot) bool { return s.Available && s.Start.After(now) })
}

// hasFreeSlot reports whether the office has an upcoming free slot. The
// caller holds p.mu.
func (p *PublicService) hasFreeSlot(officeID string) bool {
	now := p.now()
	return slices.ContainsFunc(p.officeSlots[officeID], func(s *connectors.OfficeSlot) bool { return s.Available && s.Start.After(now) })
}

// SetPrice changes a product's price (in minor units) and publishes it.
// Returns KindNotFound for an unknown product, KindInvalid for a price
// below zero.
func (g *Grocery) SetPrice(productID string, amount int64) error {
	if amount < 0 {
		return connectors.Errorf(connectors.KindInvalid, "price %d is negative", amount)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	p, ok := g.products[productID]
	if !ok {
		return connectors.NotFound("product", productID)
	}
	p.Price.Amount = amount
	g.feed.put(productItem(p))
	return nil
}

// SetStock changes a product's stock and publishes it (0 is out of stock).
func (g *Grocery) SetStock(productID string, stock int) error {
	if stock < 0 {
		return connectors.Errorf(connectors.KindInvalid, "stock %d is negative", stock)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	p, ok := g.products[productID]
	if !ok {
		return connectors.NotFound("product", productID)
	}
	p.Stock = stock
	g.feed.put(productItem(p))
	return nil
}

// AddProduct adds a product to one of the provider's stores (its City is
// the store's) and publishes it. Returns KindConflict for an ID in use,
// KindNotFound for an unknown store, KindInvalid without an ID or name.
func (g *Grocery) AddProduct(p connectors.Product) error {
	if p.ID == "" || p.Name == "" {
		return connectors.Errorf(connectors.KindInvalid, "a product needs an id and a name")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.stores[p.StoreID]
	if !ok {
		return connectors.NotFound("store", p.StoreID)
	}
	if _, dup := g.products[p.ID]; dup {
		return connectors.Errorf(connectors.KindConflict, "product %q exists", p.ID)
	}
	np := cloneProduct(&p)
	np.City = s.City
	g.products[np.ID] = &np
	g.storeProducts[np.StoreID] = append(g.storeProducts[np.StoreID], &np)
	g.rebuildProductIndex()
	g.feed.put(productItem(&np))
	return nil
}

// RemoveProduct takes a product off the range and publishes its deletion.
func (g *Grocery) RemoveProduct(productID string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	p, ok := g.products[productID]
	if !ok {
		return connectors.NotFound("product", productID)
	}
	delete(g.products, productID)
	g.storeProducts[p.StoreID] = slices.DeleteFunc(g.storeProducts[p.StoreID], func(x *connectors.Product) bool { return x.ID == productID })
	g.rebuildProductIndex()
	g.feed.remove(connectors.CatalogProduct, productID)
	return nil
}

// rebuildProductIndex rebuilds the provider's own search over its products
// (a few thousand: a change of range is rare). The caller holds g.mu.
func (g *Grocery) rebuildProductIndex() {
	all := make([]*connectors.Product, 0, len(g.products))
	for _, p := range g.products {
		all = append(all, p)
	}
	g.productIndex = newIndex(all, productDoc)
}
