package gateway

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/recommend"
	"github.com/plaza-gateway/plaza/supply"
)

// HomeItem is one recommended object with the reason it is shown.
type HomeItem struct {
	Hit    Hit
	Reason string
}

// HomeSection is one row of the home page.
type HomeSection struct {
	Key   string
	Title string
	Items []HomeItem
}

// HomePage is a user's home page for one city.
type HomePage struct {
	// City is the city the page was built for (given, or inferred).
	City     string
	Sections []HomeSection
}

// homeSectionSize bounds each section.
const homeSectionSize = 10

// Section keys of the home page, stable for the frontend.
const (
	SectionBuyAgain = "buy-again"
	SectionForYou   = "for-you"
	SectionPopular  = "popular-near-you"
	SectionServices = "services-you-may-need"
)

var sectionKeys = map[string]string{
	recommend.SectionBuyAgain: SectionBuyAgain,
	recommend.SectionForYou:   SectionForYou,
	recommend.SectionPopular:  SectionPopular,
	recommend.SectionServices: SectionServices,
}

// Home builds the page without a recommendation engine: what is best rated
// in city, and public services there. It is what a Recommender falls back
// to on a cold start. Without a city, user's usual city is used (that of
// the products of their recent orders), when l and user are given.
func (g *Gateway) Home(ctx context.Context, l *Loaders, user string, city string) (HomePage, []error) {
	if city == "" && l != nil && user != "" {
		city = g.orderCity(ctx, l, user)
	}
	popular, errs := g.Candidates(ctx, SearchParams{City: city, Kinds: []gid.Kind{gid.Product, gid.Doctor, gid.Lawyer, gid.GovService}})
	page := HomePage{City: city}
	if items := popularItems(popular, city, nil); len(items) > 0 {
		page.Sections = append(page.Sections, HomeSection{Key: SectionPopular, Title: popularTitle(city), Items: items})
	}
	if items := servicesToSuggest(popular, nil); len(items) > 0 {
		page.Sections = append(page.Sections, HomeSection{Key: SectionServices, Title: "Services you may need", Items: items})
	}
	return page, errs
}

// orderCity is the most frequent city of the products in user's ten most
// recent orders ("" when unknown).
func (g *Gateway) orderCity(ctx context.Context, l *Loaders, user string) string {
	orders, _ := g.UserOrders(ctx, user)
	var ids []gid.ID
	for _, o := range orders[:min(len(orders), 10)] {
		for _, it := range o.Value.Items {
			ids = append(ids, gid.ID{Kind: gid.Product, Provider: o.Provider, Local: it.ProductID})
		}
	}
	prefetchIDs(ctx, l, ids)
	thunks := make([]func() (any, error), len(ids))
	for i, id := range ids {
		thunks[i] = queue(ctx, l, id)
	}
	var page HomePage
	sec := HomeSection{}
	for _, t := range thunks {
		if v, err := t(); err == nil {
			sec.Items = append(sec.Items, HomeItem{Hit: Hit{Value: v}})
		}
	}
	page.Sections = append(page.Sections, sec)
	return usualCity(page)
}

func popularTitle(city string) string {
	if city == "" {
		return "Popular now"
	}
	return "Popular in " + city
}

// popularItems keeps the best-rated non-service items not in skip, at most
// three of a kind so that no vertical fills the row.
func popularItems(hits []Hit, city string, skip map[string]bool) []HomeItem {
	perKind := map[gid.Kind]int{}
	var items []HomeItem
	for _, h := range hits {
		if h.Kind == gid.GovService || perKind[h.Kind] == 3 || skip[hitID(h)] || outOfStock(h) {
			continue
		}
		perKind[h.Kind]++
		reason := "Top rated"
		if city != "" {
			reason = "Top rated in " + city
		}
		items = append(items, HomeItem{Hit: h, Reason: reason})
		if len(items) == homeSectionSize {
			break
		}
	}
	return items
}

func hitID(h Hit) string { return gid.Encode(h.Kind, h.Provider, h.ID) }

// outOfStock reports a product without stock: as the provider answered, or
// as it last published to the index (the page then completes it live).
func outOfStock(h Hit) bool {
	switch v := h.Value.(type) {
	case connectors.Product:
		return v.Stock <= 0
	case *supply.Item:
		return v.Kind == supply.KindProduct && !v.Available
	}
	return false
}

// Recommender builds personalised home pages on the recommendation engine:
// it asks the engine for sections, filters what cannot be served now
// (out of stock, provider not ACTIVE, outside the city), resolves the
// recommended IDs through the request's loaders (one batch per provider and
// kind), fills a cold start from what is popular in the city, and keeps each
// built page briefly per user, city and personalisation.
type Recommender struct {
	engine *recommend.Engine
	cache  *expirable.LRU[string, HomePage]
	meta   itemIndex
}

// RecommenderOption configures a Recommender.
type RecommenderOption func(*recommenderConfig)

type recommenderConfig struct {
	cacheSize int
	cacheTTL  time.Duration
}

// WithHomeCache keeps up to size built pages for ttl (default 10,000 for
// 15 s: long enough to absorb app refreshes, short enough that a new order
// shows up soon). A ttl of zero disables the cache.
func WithHomeCache(size int, ttl time.Duration) RecommenderOption {
	return func(c *recommenderConfig) { c.cacheSize, c.cacheTTL = size, ttl }
}

// NewRecommender returns a Recommender over engine. It serves any gateway:
// each request brings its own through its loaders.
func NewRecommender(engine *recommend.Engine, opts ...RecommenderOption) *Recommender {
	cfg := recommenderConfig{cacheSize: 10_000, cacheTTL: 15 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	r := &Recommender{engine: engine, meta: itemIndex{m: map[string]itemMeta{}}}
	if cfg.cacheTTL > 0 && cfg.cacheSize > 0 {
		r.cache = expirable.NewLRU[string, HomePage](cfg.cacheSize, nil, cfg.cacheTTL)
	}
	return r
}

// Engine returns the engine the pages are built on.
func (r *Recommender) Engine() *recommend.Engine { return r.engine }

// Forget drops what the engine knows about user's own history and the
// user's cached pages (opt-out, erasure).
func (r *Recommender) Forget(user string) {
	r.engine.Forget(user)
	if r.cache == nil {
		return
	}
	for _, k := range r.cache.Keys() {
		if strings.HasPrefix(k, user+"\x00") {
			r.cache.Remove(k)
		}
	}
}

// Home returns user's home page for city (empty: the user's usual city).
// Without personalized only sections that are the same for everyone are
// built, from anonymous aggregates.
func (r *Recommender) Home(ctx context.Context, l *Loaders, user, city string, personalized bool) (HomePage, []error) {
	key := user + "\x00" + strings.ToLower(city) + "\x00"
	if personalized {
		key += "p"
	}
	if r.cache != nil {
		if p, ok := r.cache.Get(key); ok {
			return p, nil
		}
	}
	// Ask for a few more than shown: some drop out when loaded (stock
	// changed since the index last saw them, provider failed).
	secs := r.engine.Home(ctx, recommend.Request{
		UserID: user, City: city, N: homeSectionSize + 4, Personalized: personalized,
		Available: r.available(l.g, city),
	})
	hits := r.resolve(ctx, l, secs)
	page := HomePage{City: city}
	onPage := map[string]bool{}
	for _, s := range secs {
		sec := HomeSection{Key: sectionKeys[s.ID], Title: s.Title}
		if sec.Key == "" {
			sec.Key = s.ID
		}
		for _, rec := range s.Items {
			h, ok := hits[rec.ItemID]
			if !ok || onPage[rec.ItemID] || len(sec.Items) == homeSectionSize {
				continue
			}
			h.Score = rec.Score
			onPage[rec.ItemID] = true
			sec.Items = append(sec.Items, HomeItem{Hit: h, Reason: rec.Reason})
		}
		if len(sec.Items) > 0 {
			page.Sections = append(page.Sections, sec)
		}
	}
	if page.City == "" {
		page.City = usualCity(page)
	}
	errs := r.fill(ctx, l.g, &page, onPage, personalized)
	if r.cache != nil && len(errs) == 0 {
		r.cache.Add(key, page)
	}
	return page, errs
}

// fill tops up "Popular near you" (and, for personalised pages, "Services
// you may need") from the best rated in the city when the engine knew too
// little: a cold start, or a city nobody has used Plaza in yet.
func (r *Recommender) fill(ctx context.Context, g *Gateway, page *HomePage, onPage map[string]bool, personalized bool) []error {
	pop := section(page, SectionPopular)
	svc := section(page, SectionServices)
	needPop := pop == nil || len(pop.Items) < homeSectionSize/2
	needSvc := personalized && svc == nil
	if !needPop && !needSvc {
		return nil
	}
	fallback, errs := g.Home(ctx, nil, "", page.City)
	for _, fs := range fallback.Sections {
		if (fs.Key == SectionPopular && !needPop) || (fs.Key == SectionServices && !needSvc) {
			continue
		}
		dst := section(page, fs.Key)
		if dst == nil {
			page.Sections = append(page.Sections, HomeSection{Key: fs.Key, Title: fs.Title})
			dst = &page.Sections[len(page.Sections)-1]
		}
		for _, it := range fs.Items {
			id := hitID(it.Hit)
			if len(dst.Items) == homeSectionSize || onPage[id] || !g.active(it.Hit.Provider) {
				continue
			}
			onPage[id] = true
			dst.Items = append(dst.Items, it)
		}
	}
	order := map[string]int{SectionBuyAgain: 0, SectionForYou: 1, SectionPopular: 2, SectionServices: 3}
	sort.SliceStable(page.Sections, func(i, j int) bool { return order[page.Sections[i].Key] < order[page.Sections[j].Key] })
	return errs
}

func section(p *HomePage, key string) *HomeSection {
	for i := range p.Sections {
		if p.Sections[i].Key == key {
			return &p.Sections[i]
		}
	}
	return nil
}

// usualCity is the most frequent city of the page's single-city items.
func usualCity(p HomePage) string {
	count := map[string]int{}
	for _, s := range p.Sections {
		for _, it := range s.Items {
			if c := hitCity(it.Hit); c != "" {
				count[c]++
			}
		}
	}
	best := ""
	for c, n := range count {
		if n > count[best] || (n == count[best] && c < best) {
			best = c
		}
	}
	return best
}

func (g *Gateway) active(provider string) bool { return g.Status(provider) == StatusActive }

// available is the engine's filter: what can be served now. It reads only
// the in-process index (the engine calls it under no lock, per candidate),
// so it is cheap; stock is checked again on the loaded values.
func (r *Recommender) available(g *Gateway, city string) func(string) bool {
	return func(itemID string) bool {
		id, err := gid.Decode(itemID)
		if err != nil || !g.active(id.Provider) {
			return false
		}
		m, known := r.meta.get(itemID)
		if !known {
			return true
		}
		if m.outOfStock {
			return false
		}
		return city == "" || len(m.cities) == 0 || containsFold(m.cities, city)
	}
}

// resolve loads every recommended item through the loaders and returns the
// servable ones as hits by global ID.
func (r *Recommender) resolve(ctx context.Context, l *Loaders, secs []recommend.Section) map[string]Hit {
	var ids []gid.ID
	seen := map[string]bool{}
	for _, s := range secs {
		for _, rec := range s.Items {
			if id, err := gid.Decode(rec.ItemID); err == nil && !seen[rec.ItemID] {
				seen[rec.ItemID] = true
				ids = append(ids, id)
			}
		}
	}
	out := map[string]Hit{}
	hits := r.load(ctx, l, ids)
	free := freeSlots(ctx, l, hits)
	for _, h := range hits {
		if !outOfStock(h) && free(h) {
			out[hitID(h)] = h
		}
	}
	return out
}

// freeSlots loads the slots of the bookable items among hits — doctors'
// appointment slots, services' office slots, stores' delivery slots — one
// batch per kind and provider, and returns a filter that keeps an item only
// when it has a free slot (items of other kinds, and items whose slots could
// not be loaded, are kept: a slot-loading failure should not empty the page).
func freeSlots(ctx context.Context, l *Loaders, hits []Hit) func(Hit) bool {
	var doctors, services, stores []Key
	for _, h := range hits {
		k := Key{Provider: h.Provider, ID: h.ID}
		switch h.Kind {
		case gid.Doctor:
			doctors = append(doctors, k)
		case gid.GovService:
			services = append(services, k)
		case gid.Store:
			stores = append(stores, k)
		}
	}
	var (
		wg        sync.WaitGroup
		docSlots  map[Key][]connectors.AppointmentSlot
		offices   map[Key][]connectors.Office
		delivery  map[Key][]connectors.DeliverySlot
		parallely = func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	)
	parallely(func() { docSlots = AppointmentSlots.Of(l).Prefetch(ctx, doctors) })
	parallely(func() { offices = Offices.Of(l).Prefetch(ctx, services) })
	parallely(func() { delivery = DeliverySlots.Of(l).Prefetch(ctx, stores) })
	wg.Wait()
	return func(h Hit) bool {
		k := Key{Provider: h.Provider, ID: h.ID}
		switch h.Kind {
		case gid.Doctor:
			slots, ok := docSlots[k]
			return !ok || slices.ContainsFunc(slots, func(s connectors.AppointmentSlot) bool { return s.Available })
		case gid.GovService:
			os, ok := offices[k]
			return !ok || slices.ContainsFunc(os, func(o connectors.Office) bool {
				return slices.ContainsFunc(o.Slots, func(s connectors.OfficeSlot) bool { return s.Available })
			})
		case gid.Store:
			slots, ok := delivery[k]
			return !ok || slices.ContainsFunc(slots, func(s connectors.DeliverySlot) bool { return s.Remaining > 0 })
		}
		return true
	}
}

// load fetches items of the kinds the home page shows, prefetched at once
// so each provider and kind is one batch, and remembers their availability.
// Items that are gone or whose provider failed are left out.
func (r *Recommender) load(ctx context.Context, l *Loaders, ids []gid.ID) []Hit {
	type pending struct {
		id   gid.ID
		wait func() (any, error)
	}
	prefetchIDs(ctx, l, ids)
	todo := make([]pending, 0, len(ids))
	for _, id := range ids {
		if w := queue(ctx, l, id); w != nil {
			todo = append(todo, pending{id, w})
		}
	}
	hits := make([]Hit, 0, len(todo))
	for _, p := range todo {
		v, err := p.wait()
		if err != nil {
			continue
		}
		h := Hit{Kind: p.id.Kind, Provider: p.id.Provider, ID: p.id.Local, Value: v}
		r.meta.put(p.id.String(), metaOf(h))
		hits = append(hits, h)
	}
	return hits
}

// prefetchIDs fetches the objects ids name at once, one batch per kind and
// provider, the kinds in parallel, so the loads queued after it are
// answered from memory whatever the loaders' batch timing.
func prefetchIDs(ctx context.Context, l *Loaders, ids []gid.ID) {
	byKind := map[gid.Kind][]Key{}
	for _, id := range ids {
		byKind[id.Kind] = append(byKind[id.Kind], KeyOf(id))
	}
	l.PrefetchByKind(ctx, byKind)
}

// queue puts one load on the loader of id's kind and returns its thunk;
// nil for kinds without one of their own.
func queue(ctx context.Context, l *Loaders, id gid.ID) func() (any, error) {
	if ld, ok := l.byKind(id.Kind); ok {
		return ld.loadAny(ctx, KeyOf(id))
	}
	return nil
}

// itemMeta is what the availability filter knows of an item.
type itemMeta struct {
	cities     []string
	outOfStock bool
}

// itemIndex remembers the metadata of items seen (seeded, recommended,
// viewed). It grows with the catalogue, like the engine's item table.
type itemIndex struct {
	mu sync.RWMutex
	m  map[string]itemMeta
}

func (x *itemIndex) get(id string) (itemMeta, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	m, ok := x.m[id]
	return m, ok
}

func (x *itemIndex) put(id string, m itemMeta) {
	x.mu.Lock()
	x.m[id] = m
	x.mu.Unlock()
}

func metaOf(h Hit) itemMeta {
	m := itemMeta{outOfStock: outOfStock(h)}
	if c := hitCity(h); c != "" {
		m.cities = []string{c}
	}
	if s, ok := h.Value.(connectors.GovService); ok {
		m.cities = s.Cities
	}
	return m
}

// hitCity is the city of a single-city item.
func hitCity(h Hit) string {
	switch v := h.Value.(type) {
	case connectors.Product:
		return v.City
	case connectors.Store:
		return v.City
	case connectors.Doctor:
		return v.City
	case connectors.Lawyer:
		return v.City
	}
	return ""
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Demote returns page with the items of penalised providers moved down in
// each section, as search demotes them: penalty(provider) in [0, 1] is the
// share of its score an item loses (merchant growth's DEMOTED providers).
// In a section whose items all carry a score, items are re-ordered by
// score × (1 − penalty); in one without scores (the best-rated fallback),
// penalised items follow the others. The order among unpenalised items
// never changes. The page is copied first: it may be the cache's.
func (p HomePage) Demote(penalty func(provider string) float64) HomePage {
	if penalty == nil {
		return p
	}
	out := HomePage{City: p.City, Sections: make([]HomeSection, len(p.Sections))}
	for si, s := range p.Sections {
		out.Sections[si] = s // Items replaced below, never changed in place
		pen := make([]float64, len(s.Items))
		demoted, scored := false, true
		for i, it := range s.Items {
			pen[i] = min(max(penalty(it.Hit.Provider), 0), 1)
			demoted = demoted || pen[i] > 0
			scored = scored && it.Hit.Score > 0
		}
		if !demoted {
			continue
		}
		key := func(i int) float64 {
			switch {
			case scored:
				return s.Items[i].Hit.Score * (1 - pen[i])
			case pen[i] > 0:
				return 0
			}
			return 1
		}
		// Each penalised item, lowest first, sinks past the items below
		// it that rank above its penalised score; the others keep their
		// order.
		order := make([]int, len(s.Items))
		for i := range order {
			order[i] = i
		}
		for k := len(order) - 1; k >= 0; k-- {
			if pen[order[k]] == 0 {
				continue
			}
			for j := k; j+1 < len(order) && key(order[j+1]) > key(order[j]); j++ {
				order[j], order[j+1] = order[j+1], order[j]
			}
		}
		items := make([]HomeItem, len(order))
		for i, j := range order {
			items[i] = s.Items[j]
		}
		out.Sections[si].Items = items
	}
	return out
}
