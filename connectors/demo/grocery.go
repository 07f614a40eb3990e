package demo

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

var _ connectors.Grocery = (*Grocery)(nil)
var _ connectors.HealthChecker = (*Grocery)(nil)

const (
	storesPerScale   = 12
	productsPerStore = 100
	deliveryDays     = 7
	// maxItems bounds WithItems: one store of at most every template's
	// variants.
	maxItems      = 1 + 500
	maxQuantity   = 100
	maxOrderLines = 100
	// demo1Orders is demo-1's order count at each grocery provider, so the
	// default pair gives the gateway's "50 orders" query enough to chew on.
	demo1Orders = 26
)

// deliveryWindows are the start hours of the daily two-hour windows.
var deliveryWindows = []int{9, 11, 15, 18}

// Grocery is a demo grocery-delivery provider.
type Grocery struct {
	desc     connectors.Descriptor
	now      connectors.Clock
	progress *progress // nil: statuses move only by mutations

	mu            sync.RWMutex
	stores        map[string]*connectors.Store
	storeIndex    *index[connectors.Store]
	products      map[string]*connectors.Product
	productIndex  *index[connectors.Product]
	storeProducts map[string][]*connectors.Product
	slots         map[string]*connectors.DeliverySlot
	storeSlots    map[string][]*connectors.DeliverySlot // by start
	calendar      calendar                              // rolls slots forward (slots.go)
	orders        map[string]*connectors.GroceryOrder
	userOrders    map[string][]*connectors.GroceryOrder
	orderIDs      counter
	placed        *idempotency[connectors.GroceryOrder]
	paid          *idempotency[connectors.GroceryOrder]
	payWindow     time.Duration              // 0: no payment step (payment.go)
	minimums      bool                       // WithMinimumOrders
	unpaid        []*connectors.GroceryOrder // AWAITING_PAYMENT, to expire
	feed          *feed
}

// NewGrocery builds a grocery provider with data generated for desc.ID.
func NewGrocery(desc connectors.Descriptor, opts ...Option) (*Grocery, error) {
	desc, cfg, err := prepare(desc, connectors.VerticalGrocery, opts)
	if err != nil {
		return nil, err
	}
	g := &Grocery{
		desc:          desc,
		now:           cfg.clock,
		progress:      cfg.progress,
		stores:        map[string]*connectors.Store{},
		products:      map[string]*connectors.Product{},
		storeProducts: map[string][]*connectors.Product{},
		slots:         map[string]*connectors.DeliverySlot{},
		storeSlots:    map[string][]*connectors.DeliverySlot{},
		orders:        map[string]*connectors.GroceryOrder{},
		userOrders:    map[string][]*connectors.GroceryOrder{},
		orderIDs:      counter{prefix: "o"},
		placed:        newIdempotency(cloneOrder),
		paid:          newIdempotency(cloneOrder),
		payWindow:     cfg.payWindow,
		minimums:      cfg.minimums,
	}
	rng := cfg.rng(desc.ID)
	c := g.generateCatalogue(rng, cfg)
	g.storeIndex = newIndex(c.stores, storeDoc)
	g.productIndex = newIndex(c.products, productDoc)
	g.generateHistory(rng, cfg, c)
	g.feed = newFeed(desc.ID)
	for _, s := range c.stores {
		g.feed.put(storeItem(s))
	}
	for _, p := range c.products {
		g.feed.put(productItem(p))
	}
	return g, nil
}

func (g *Grocery) Describe() connectors.Descriptor { return describe(g.desc) }

// Health reports the provider healthy unless the request is already done.
func (g *Grocery) Health(ctx context.Context) error { return ctx.Err() }

// groceryCatalogue is what history generation needs from the catalogue, in
// generation order (maps would make it depend on iteration order).
type groceryCatalogue struct {
	stores   []*connectors.Store
	products []*connectors.Product
	// staples are each store's products that people buy every week.
	staples map[string][]*connectors.Product
}

func (g *Grocery) generateCatalogue(rng *rand.Rand, cfg config) groceryCatalogue {
	cities := g.desc.Cities
	n, perStore := storesPerScale*cfg.scale, productsPerStore
	if cfg.items > 0 {
		n, perStore = 1, cfg.items-1
	}
	c := groceryCatalogue{staples: map[string][]*connectors.Product{}}
	day0 := startOfDay(cfg.clock())
	productSeq := 0
	for i := range n {
		city := cities[i%len(cities)]
		dist := district(city, i/len(cities))
		s := &connectors.Store{
			ID:      fmt.Sprintf("s-%02d", i+1),
			Name:    fmt.Sprintf("%s %s", g.desc.Name, dist),
			City:    city,
			Address: fmt.Sprintf("%d %s Road, %s District, %s", 10+rng.IntN(890), pick(rng, roadNames), dist, city),
			Rating:  round1(3.8 + rng.Float64()*1.2),
			Tags:    pickTags(rng, storeTags, 2+rng.IntN(3)),
		}
		c.stores = append(c.stores, s)
		g.stores[s.ID] = s

		total := len(productTemplates) * len(productVariants)
		for _, k := range rng.Perm(total)[:min(perStore, total)] {
			productSeq++
			t := productTemplates[k/len(productVariants)]
			p := newProduct(rng, fmt.Sprintf("p-%06d", productSeq), s, t, productVariants[k%len(productVariants)])
			g.products[p.ID] = p
			g.storeProducts[s.ID] = append(g.storeProducts[s.ID], p)
			c.products = append(c.products, p)
			if t.staple {
				c.staples[s.ID] = append(c.staples[s.ID], p)
			}
		}

		for d := 1; d <= deliveryDays; d++ {
			day := day0.AddDate(0, 0, d)
			for w := range deliveryWindows {
				g.addDeliverySlot(s.ID, day, w, 10+rng.IntN(21))
			}
		}
	}
	g.calendar = newCalendar(day0, deliveryDays)
	return c
}

// addDeliverySlot adds store's window w of day with capacity places.
func (g *Grocery) addDeliverySlot(store string, day time.Time, w, capacity int) {
	start := day.Add(time.Duration(deliveryWindows[w]) * time.Hour)
	slot := &connectors.DeliverySlot{
		ID: deliverySlotID(store, start, w), StoreID: store,
		Start: start, End: start.Add(2 * time.Hour), Capacity: capacity, Remaining: capacity,
	}
	g.slots[slot.ID] = slot
	g.storeSlots[store] = append(g.storeSlots[store], slot)
}

// rollSlots gives every store the delivery days up to deliveryDays ahead
// of now and forgets passed slots.
func (g *Grocery) rollSlots(now time.Time) {
	roll(&g.mu, &g.calendar, now, func(day time.Time) {
		for store := range g.stores {
			for w := range deliveryWindows {
				g.addDeliverySlot(store, day, w, capacityOf(deliverySlotID(store, day.Add(time.Duration(deliveryWindows[w])*time.Hour), w)))
			}
		}
	}, func() {
		for store, list := range g.storeSlots {
			g.storeSlots[store] = prune(list, g.slots, now, func(s *connectors.DeliverySlot) string { return s.ID }, func(s *connectors.DeliverySlot) time.Time { return s.End })
		}
	})
}

func deliverySlotID(storeID string, start time.Time, window int) string {
	return fmt.Sprintf("ds-%s-%s-%d", storeID, start.In(cst).Format("20060102"), window+1)
}

func newProduct(rng *rand.Rand, id string, s *connectors.Store, t productTemplate, v productVariant) *connectors.Product {
	tags := templateTags(t)
	if v.tag != "" {
		tags = append(tags, v.tag)
	}
	desc := t.desc + " From " + t.origin + "."
	if v.blurb != "" {
		desc += " " + v.blurb
	}
	// Stores price within ±10% of each other, rounded to 10 fen.
	price := int64(float64(t.price)*v.factor*(0.9+0.2*rng.Float64())/10) * 10
	return &connectors.Product{
		ID: id, StoreID: s.ID, Name: v.prefix + t.name, Description: desc, Category: t.category,
		Tags: tags, Price: cny(max(price, 10)), Unit: t.unit, Stock: 20 + rng.IntN(181),
		Origin: t.origin, Rating: round1(3.5 + rng.Float64()*1.5), City: s.City,
	}
}

// generateHistory gives every demo user orders: most at a home store with the
// same staples again and again, the newest one still PLACED on an upcoming
// slot so it can be cancelled.
func (g *Grocery) generateHistory(rng *rand.Rand, cfg config, c groceryCatalogue) {
	now := cfg.clock()
	stores := c.stores
	for u := 1; u <= cfg.users; u++ {
		user := UserID(u)
		n := 3 + rng.IntN(5)
		if u == 1 {
			n = demo1Orders
		}
		home := pick(rng, stores)
		staples := g.staples(rng, home.ID, c.staples[home.ID])
		times := pastTimes(rng, now, n, 180)
		for k, created := range times {
			store := home
			if rng.IntN(10) >= 7 {
				store = pick(rng, stores)
			}
			var lines []*connectors.Product
			if store == home {
				lines = append(lines, staples[:2+rng.IntN(len(staples)-1)]...)
			}
			for extra := 1 + rng.IntN(3); extra > 0; extra-- {
				lines = append(lines, pick(rng, g.storeProducts[store.ID]))
			}
			o := &connectors.GroceryOrder{
				ID: g.orderIDs.next(), UserID: user, StoreID: store.ID, Status: connectors.StatusCompleted, CreatedAt: created,
				SlotID: deliverySlotID(store.ID, startOfDay(created).AddDate(0, 0, 1), rng.IntN(len(deliveryWindows))),
			}
			if rng.IntN(8) == 0 {
				o.Status = connectors.StatusCancelled
			}
			if k == n-1 {
				if slot := randomFree(rng, g.storeSlots[store.ID], func(s *connectors.DeliverySlot) bool { return s.Remaining > 0 }); slot != nil {
					slot.Remaining--
					o.SlotID, o.Status = slot.ID, connectors.StatusPlaced
				}
			}
			seen := map[string]bool{}
			for _, p := range lines {
				if seen[p.ID] {
					continue
				}
				seen[p.ID] = true
				o.Items = append(o.Items, connectors.OrderItem{ProductID: p.ID, Quantity: 1 + rng.IntN(3), UnitPrice: p.Price})
			}
			o.Total = orderTotal(o.Items)
			g.addOrder(o)
		}
	}
}

// staples picks a user's three repeat purchases at a store, staples first.
func (g *Grocery) staples(rng *rand.Rand, storeID string, staple []*connectors.Product) []*connectors.Product {
	out := slices.Clone(staple)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	for _, k := range rng.Perm(len(g.storeProducts[storeID])) {
		if len(out) >= 3 {
			break
		}
		if p := g.storeProducts[storeID][k]; !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out[:3]
}

func (g *Grocery) addOrder(o *connectors.GroceryOrder) {
	g.orders[o.ID] = o
	g.userOrders[o.UserID] = append(g.userOrders[o.UserID], o)
}

func orderTotal(items []connectors.OrderItem) connectors.Money {
	var sum int64
	for _, it := range items {
		sum += it.UnitPrice.Amount * int64(it.Quantity)
	}
	return cny(sum)
}

func (g *Grocery) Stores(ctx context.Context, ids []string) ([]connectors.Result[connectors.Store], error) {
	return lockedBatch(ctx, &g.mu, ids, g.stores, "store", cloneStore)
}

func (g *Grocery) Products(ctx context.Context, ids []string) ([]connectors.Result[connectors.Product], error) {
	return lockedBatch(ctx, &g.mu, ids, g.products, "product", cloneProduct)
}

func (g *Grocery) Orders(ctx context.Context, ids []string) ([]connectors.Result[connectors.GroceryOrder], error) {
	g.expireDue()
	return lockedBatch(ctx, &g.mu, ids, g.orders, "order", cloneOrder)
}

// DeliverySlots returns each store's slots that have not started yet, full
// ones included (Remaining 0), ordered by start.
func (g *Grocery) DeliverySlots(ctx context.Context, storeIDs []string) ([]connectors.Result[[]connectors.DeliverySlot], error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := g.now()
	g.rollSlots(now)
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make([]connectors.Result[[]connectors.DeliverySlot], len(storeIDs))
	for i, id := range storeIDs {
		if _, ok := g.stores[id]; !ok {
			out[i].Err = connectors.NotFound("store", id)
			continue
		}
		out[i].Value = upcoming(g.storeSlots[id], now, func(s *connectors.DeliverySlot) time.Time { return s.Start })
	}
	return out, nil
}

// SearchStores matches name, address, city and tags; Category filters by tag.
func (g *Grocery) SearchStores(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Store], error) {
	if err := ctx.Err(); err != nil {
		return connectors.Page[connectors.Store]{}, err
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.storeIndex.search(q, cloneStore)
}

// SearchProducts matches name, category, tags and description; Category,
// City and StoreID filter.
func (g *Grocery) SearchProducts(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Product], error) {
	if err := ctx.Err(); err != nil {
		return connectors.Page[connectors.Product]{}, err
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.productIndex.search(q, cloneProduct)
}

// UserOrders returns userID's orders, newest first. Returns KindInvalid for
// an empty user ID.
func (g *Grocery) UserOrders(ctx context.Context, userID string) ([]connectors.GroceryOrder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, errUserRequired()
	}
	g.expireDue()
	g.mu.RLock()
	defer g.mu.RUnlock()
	return newestFirst(g.userOrders[userID], cloneOrder, func(o *connectors.GroceryOrder) (time.Time, string) { return o.CreatedAt, o.ID }), nil
}

// PlaceOrder checks the input, then takes stock for every line and one unit
// of slot capacity in one critical section, or nothing at all. Returns
// KindInvalid for malformed input or a product of another store, KindNotFound
// for an unknown store, slot or product, KindConflict when stock or the slot
// ran out.
func (g *Grocery) PlaceOrder(ctx context.Context, in connectors.PlaceOrderInput) (connectors.GroceryOrder, error) {
	if err := ctx.Err(); err != nil {
		return connectors.GroceryOrder{}, err
	}
	if err := checkOrderInput(in); err != nil {
		return connectors.GroceryOrder{}, err
	}
	g.expireDue() // their stock and slots are free again
	now := g.now()
	g.rollSlots(now)
	g.mu.Lock()
	defer g.mu.Unlock()
	if o, ok, err := g.placed.lookup(in.UserID, in.IdempotencyKey, in); ok || err != nil {
		return o, err
	}
	if _, ok := g.stores[in.StoreID]; !ok {
		return connectors.GroceryOrder{}, connectors.NotFound("store", in.StoreID)
	}
	slot, ok := g.slots[in.SlotID]
	switch {
	case !ok:
		return connectors.GroceryOrder{}, connectors.NotFound("delivery slot", in.SlotID)
	case slot.StoreID != in.StoreID:
		return connectors.GroceryOrder{}, connectors.Errorf(connectors.KindInvalid, "delivery slot %q is not a slot of store %q", in.SlotID, in.StoreID)
	case !slot.Start.After(now):
		return connectors.GroceryOrder{}, connectors.Errorf(connectors.KindInvalid, "delivery slot %q has already started", in.SlotID)
	}

	// Lines for one product are merged, so the stock check sees the sum.
	want := map[string]int{}
	var items []connectors.OrderItem
	for _, l := range in.Items {
		p, ok := g.products[l.ProductID]
		if !ok {
			return connectors.GroceryOrder{}, connectors.NotFound("product", l.ProductID)
		}
		if p.StoreID != in.StoreID {
			return connectors.GroceryOrder{}, connectors.Errorf(connectors.KindInvalid, "product %q is not sold by store %q", l.ProductID, in.StoreID)
		}
		if _, dup := want[p.ID]; !dup {
			items = append(items, connectors.OrderItem{ProductID: p.ID, UnitPrice: p.Price})
		}
		want[p.ID] += l.Quantity
	}
	for i := range items {
		items[i].Quantity = want[items[i].ProductID]
	}
	if err := g.checkMinimum(in.StoreID, orderTotal(items)); err != nil {
		return connectors.GroceryOrder{}, err
	}
	for i := range items {
		p := g.products[items[i].ProductID]
		if p.Stock < want[p.ID] {
			return connectors.GroceryOrder{}, connectors.Errorf(connectors.KindConflict, "insufficient stock for product %q: %d left", p.ID, p.Stock)
		}
	}
	if slot.Remaining < 1 {
		return connectors.GroceryOrder{}, connectors.Errorf(connectors.KindConflict, "delivery slot %q is full", slot.ID)
	}

	for _, it := range items {
		p := g.products[it.ProductID]
		p.Stock -= it.Quantity
		g.feed.put(productItem(p))
	}
	slot.Remaining--
	// The order keeps copies: the store's fee (as the store shows it) and
	// the slot may change later.
	eta := slot.End
	fee := cloneStore(g.stores[in.StoreID]).DeliveryFee
	o := &connectors.GroceryOrder{
		ID: g.orderIDs.next(), UserID: in.UserID, StoreID: in.StoreID, SlotID: in.SlotID,
		Items: items, Total: orderTotal(items), Status: connectors.StatusPlaced, CreatedAt: now,
		DeliveryAddress: in.DeliveryAddress, DeliveryFee: fee, EstimatedDelivery: &eta,
	}
	g.addOrder(o)
	if g.payWindow > 0 {
		g.awaitPayment(o, now) // PayOrder starts it moving
	} else {
		g.progress.start(gid.GroceryOrder, g.desc.ID, o.ID, orderPath,
			advanceIn(&g.mu, g.orders, o.ID, func(o *connectors.GroceryOrder) *string { return &o.Status }))
	}
	g.placed.remember(in.UserID, in.IdempotencyKey, in, *o)
	return cloneOrder(o), nil
}

// WithMinimumOrders makes a grocery provider refuse an order whose items
// come to less than its store's minimum order (Store.MinimumOrder, the
// delivery fee not counted) with KindBelowMinimum. Without it the minimum
// is only shown, as by providers of contract 1.3.
func WithMinimumOrders() Option { return func(c *config) { c.minimums = true } }

// checkMinimum refuses total below storeID's minimum order when the
// provider enforces minimums. The caller holds g.mu.
func (g *Grocery) checkMinimum(storeID string, total connectors.Money) error {
	if !g.minimums {
		return nil
	}
	min := cloneStore(g.stores[storeID]).MinimumOrder
	if min == nil || total.Amount >= min.Amount {
		return nil
	}
	return connectors.Errorf(connectors.KindBelowMinimum, "the store's minimum order is %s; the items come to %s (%s more)",
		min, total, connectors.Money{Amount: min.Amount - total.Amount, Currency: min.Currency})
}

func checkOrderInput(in connectors.PlaceOrderInput) error {
	switch {
	case in.UserID == "":
		return errUserRequired()
	case in.StoreID == "":
		return connectors.Errorf(connectors.KindInvalid, "storeId is required")
	case in.SlotID == "":
		return connectors.Errorf(connectors.KindInvalid, "slotId is required")
	case len(in.Items) == 0:
		return connectors.Errorf(connectors.KindInvalid, "an order needs at least one item")
	case len(in.Items) > maxOrderLines:
		return connectors.Errorf(connectors.KindInvalid, "an order has at most %d items", maxOrderLines)
	}
	for _, l := range in.Items {
		if l.ProductID == "" {
			return connectors.Errorf(connectors.KindInvalid, "item productId is required")
		}
		if l.Quantity <= 0 || l.Quantity > maxQuantity {
			return connectors.Errorf(connectors.KindInvalid, "quantity of product %q must be between 1 and %d, got %d", l.ProductID, maxQuantity, l.Quantity)
		}
	}
	return nil
}

// CancelOrder cancels an AWAITING_PAYMENT, PLACED or CONFIRMED order of
// userID and puts its stock and slot capacity back. Returns KindNotFound when the order does not
// exist or is not userID's, KindConflict when it is past cancelling.
func (g *Grocery) CancelOrder(ctx context.Context, userID, orderID string) (connectors.GroceryOrder, error) {
	if err := ctx.Err(); err != nil {
		return connectors.GroceryOrder{}, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	o, ok := g.orders[orderID]
	if !ok || userID == "" || o.UserID != userID {
		return connectors.GroceryOrder{}, connectors.NotFound("order", orderID)
	}
	switch o.Status {
	case connectors.StatusAwaitingPayment, connectors.StatusPlaced, connectors.StatusConfirmed:
	default:
		return connectors.GroceryOrder{}, connectors.Errorf(connectors.KindConflict, "order %q is %s and can no longer be cancelled", orderID, o.Status)
	}
	g.release(o)
	o.Status = connectors.StatusCancelled
	return cloneOrder(o), nil
}

// release puts an order's stock and slot capacity back. The caller holds g.mu.
func (g *Grocery) release(o *connectors.GroceryOrder) {
	for _, it := range o.Items {
		if p, ok := g.products[it.ProductID]; ok {
			p.Stock += it.Quantity
			g.feed.put(productItem(p))
		}
	}
	if s, ok := g.slots[o.SlotID]; ok && s.Remaining < s.Capacity {
		s.Remaining++
	}
}

func storeDoc(s *connectors.Store) searchDoc {
	return searchDoc{
		id: s.ID, rating: s.Rating, name: lower(s.Name), tags: lower(s.Tags...), body: lower(s.Address, s.City),
		cities: lowerAll([]string{s.City}), categories: lowerAll(s.Tags),
	}
}

func productDoc(p *connectors.Product) searchDoc {
	return searchDoc{
		id: p.ID, rating: p.Rating, name: lower(p.Name), category: lower(p.Category), tags: lower(p.Tags...),
		body: lower(p.Description, p.Origin), cities: lowerAll([]string{p.City}), categories: lowerAll([]string{p.Category}),
		storeID: p.StoreID,
	}
}

func cloneStore(s *connectors.Store) connectors.Store {
	c := *s
	c.Tags = slices.Clone(s.Tags)
	decorateStore(&c)
	return c
}

func cloneProduct(p *connectors.Product) connectors.Product {
	c := *p
	c.Tags = slices.Clone(p.Tags)
	decorateProduct(&c)
	return c
}

func cloneOrder(o *connectors.GroceryOrder) connectors.GroceryOrder {
	c := *o
	c.Items = slices.Clone(o.Items)
	return c
}

// errUserRequired builds a fresh error each time: callers may annotate it.
func errUserRequired() error { return connectors.Errorf(connectors.KindInvalid, "userId is required") }

// newestFirst copies a user's items, newest first, ties broken by ID so the
// order is total.
func newestFirst[T any](items []*T, clone func(*T) T, key func(*T) (time.Time, string)) []T {
	out := make([]T, 0, len(items))
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b *T) int {
		ta, ia := key(a)
		tb, ib := key(b)
		if c := tb.Compare(ta); c != 0 {
			return c
		}
		return cmp.Compare(ib, ia)
	})
	for _, it := range sorted {
		out = append(out, clone(it))
	}
	return out
}
