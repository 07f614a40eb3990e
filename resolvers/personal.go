package resolvers

// Personalisation: recording interaction events, user settings, and the
// engine-backed home page. schema.resolvers.go calls in here with one line
// per resolver; recording wraps the plain resolvers (fields.go, fetch.go,
// mutations.go) so they stay unaware of it.

import (
	"context"
	"github.com/plaza-gateway/plaza/growth"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph/model"
	"github.com/plaza-gateway/plaza/live"
	"github.com/plaza-gateway/plaza/traffic"
)

// Option configures optional parts of the Resolver.
type Option func(*options)

type options struct {
	home      *gateway.Recommender
	recorder  *events.Recorder
	store     events.Store
	settings  events.Settings
	analytics *events.Analytics
	logs      *LogLimiter // errorlog.go
	directory Directory   // onboarding.go
	certifier Certifier
	growth    *growth.Service // growth.go
	live      *live.Hub       // subscriptions.go
	traffic   traffic.Store   // traffic.go
}

// Personalization is what the personal features run on, built once by the
// wiring root and shared (the same Analytics answers the providers' stats
// endpoint). Every field is optional: without Home the home page is the
// non-personalised one, without Recorder nothing is recorded, without
// Settings everyone has personalisation on and updateSettings fails,
// without Store an opted-out user's history is not erased, without
// Analytics there is no analysts' API.
type Personalization struct {
	Home      *gateway.Recommender
	Recorder  *events.Recorder
	Store     events.Store
	Settings  events.Settings
	Analytics *events.Analytics
}

// WithPersonalization turns on event recording, settings, the engine-backed
// home page and the analysts' API.
func WithPersonalization(p Personalization) Option {
	return func(o *options) {
		o.home, o.recorder, o.store, o.settings, o.analytics = p.Home, p.Recorder, p.Store, p.Settings, p.Analytics
	}
}

// record queues ev for the signed-in user (or anonymously). It never
// blocks or fails; an opted-out user's event loses its user id in the
// recorder, off the request path.
func (r *Resolver) record(ctx context.Context, ev events.Event) {
	if r.opt.recorder == nil {
		return
	}
	if p, ok := auth.From(ctx); ok {
		ev.User = p.UserID
	}
	if ev.City == "" {
		ev.City = r.providerCity(ctx, ev.Provider)
	}
	r.opt.recorder.Record(ev)
}

// providerCity is the city of an event that carries none (a click the
// client sent without one, a booking whose doctor, lawyer or office could
// not be read), from what the gateway holds in
// memory: the provider's only city in the directory's snapshot (or the
// registry without a directory). A provider in several cities leaves it
// empty: finding the store's or doctor's own city would take a provider
// call per event.
func (r *Resolver) providerCity(ctx context.Context, provider string) string {
	if provider == "" {
		return ""
	}
	var cities []string
	if r.opt.directory != nil {
		if e, ok := r.opt.directory.Snapshot().Lookup(provider); ok && e.CityCount() == 1 {
			cities = e.Cities()
		}
	} else if c, ok := r.loaders(ctx).Registry().Get(provider); ok {
		cities = c.Describe().Cities
	}
	if len(cities) != 1 {
		return ""
	}
	return cities[0]
}

// recorded wraps a resolver's result: on success it records the event ev
// builds from it (when ev says there is one) and passes the result on.
//
//	return recorded(ctx, r.Resolver, orderEvent)(r.placeOrder(ctx, input))
func recorded[T any](ctx context.Context, r *Resolver, ev func(T) (events.Event, bool)) func(T, error) (T, error) {
	return func(v T, err error) (T, error) {
		if err == nil {
			if e, ok := ev(v); ok {
				if e.City == "" {
					e.City = r.bookedCity(ctx, v)
				}
				r.record(ctx, e)
			}
		}
		return v, err
	}
}

// bookedCity is a booking's city: its doctor's, lawyer's or office's, read
// through the request's loaders (the load the mutation's answer makes when
// the client asks for them, so at most one entity read per booking, and
// none per click or view); "" for anything else or when the read fails.
// A provider in several cities books in one of them.
func (r *Resolver) bookedCity(ctx context.Context, v any) string {
	switch b := v.(type) {
	case *model.Appointment:
		if d, err := r.appointmentDoctor(ctx, b); err == nil && d != nil {
			return d.City
		}
	case *model.Consultation:
		if b.DoctorID != "" {
			if d, err := r.consultationDoctor(ctx, b); err == nil && d != nil {
				return d.City
			}
		}
	case *model.LegalConsultation:
		if l, err := r.legalConsultationLawyer(ctx, b); err == nil && l != nil {
			return l.City
		}
	case *model.ServiceApplication:
		if o, err := r.serviceApplicationOffice(ctx, b); err == nil && o != nil {
			return o.City
		}
	}
	return ""
}

// recordedViews records a view of every object nodes returned, queued
// together (one offer to the recorder for the whole list).
func recordedViews(ctx context.Context, r *Resolver) func([]model.Node, error) ([]model.Node, error) {
	return func(ns []model.Node, err error) ([]model.Node, error) {
		if r.opt.recorder == nil || err != nil {
			return ns, err
		}
		var user string
		if p, ok := auth.From(ctx); ok {
			user = p.UserID
		}
		evs := make([]events.Event, 0, len(ns))
		for _, n := range ns {
			if e, ok := viewEvent(n); ok {
				e.User = user
				evs = append(evs, e)
			}
		}
		r.opt.recorder.RecordMany(evs)
		return ns, err
	}
}

// searchEvent records the first page of a search (later pages of the same
// search are not new searches) with the items it showed, ranked from 1.
func searchEvent(text *string, vertical *model.Vertical, city *string, cursor string) func(*model.SearchConnection) (events.Event, bool) {
	return func(c *model.SearchConnection) (events.Event, bool) {
		if c == nil || cursor != "" {
			return events.Event{}, false
		}
		ev := events.Event{Kind: events.KindSearch, Query: deref(text), City: deref(city), Results: c.TotalCount}
		if vertical != nil {
			ev.Vertical = string(*vertical)
		}
		for i, e := range c.Edges {
			if im, ok := impression(e.Node, i+1); ok {
				ev.Shown = append(ev.Shown, im)
			}
		}
		return ev, true
	}
}

// homeEvent records the items a home page showed, numbered across its
// sections from the top.
func homeEvent(p *model.HomePage) events.Event {
	ev := events.Event{Kind: events.KindHome, City: deref(p.City)}
	for _, s := range p.Sections {
		for _, it := range s.Items {
			if im, ok := impression(it.Node, len(ev.Shown)+1); ok {
				ev.Shown = append(ev.Shown, im)
			}
		}
	}
	return ev
}

// impression is the item a result shows, for its provider: a catalogue
// item (as viewEvent names it) or a provider card.
func impression(n model.SearchResult, rank int) (events.Impression, bool) {
	if p, ok := n.(*model.Provider); ok && p != nil {
		return events.Impression{Item: p.ID, Provider: p.Key, Rank: rank}, true
	}
	node, ok := n.(model.Node)
	if !ok {
		return events.Impression{}, false
	}
	ev, ok := viewEvent(node)
	return events.Impression{Item: ev.Item, Provider: ev.Provider, Rank: rank}, ok && ev.Provider != ""
}

// viewEvent describes a detail view of the kinds the home page can show.
func viewEvent(n model.Node) (events.Event, bool) {
	ev := events.Event{Kind: events.KindView}
	switch v := n.(type) {
	case *model.Product:
		ev.Item, ev.Provider, ev.Name, ev.Category, ev.Vertical = v.ID, v.ProviderID, v.Name, v.Category, string(model.VerticalGrocery)
	case *model.Store:
		ev.Item, ev.Provider, ev.Name, ev.City, ev.Vertical = v.ID, v.ProviderID, v.Name, v.City, string(model.VerticalGrocery)
	case *model.Doctor:
		ev.Item, ev.Provider, ev.Name, ev.Category, ev.City, ev.Vertical = v.ID, v.ProviderID, v.Name, v.Specialty, v.City, string(model.VerticalMedical)
	case *model.Lawyer:
		ev.Item, ev.Provider, ev.Name, ev.City, ev.Vertical = v.ID, v.ProviderID, v.Name, v.City, string(model.VerticalLegal)
		if len(v.PracticeAreas) > 0 {
			ev.Category = v.PracticeAreas[0]
		}
	case *model.GovService:
		ev.Item, ev.Provider, ev.Name, ev.Category, ev.Vertical = v.ID, v.ProviderID, v.Name, v.Category, string(model.VerticalPublicService)
	default:
		return ev, false
	}
	return ev, true
}

func orderEvent(o *model.GroceryOrder) (events.Event, bool) {
	if o == nil {
		return events.Event{}, false
	}
	ev := events.Event{Kind: events.KindOrder, Provider: o.ProviderID, Vertical: string(model.VerticalGrocery),
		Item: gid.Encode(gid.Store, o.ProviderID, o.StoreID)}
	if o.DeliveryAddress != nil {
		ev.City = o.DeliveryAddress.City // where it is delivered: the store's city
	}
	if o.Total != nil {
		ev.Value, ev.Currency = int64(o.Total.Amount), o.Total.Currency
	}
	for _, it := range o.Items {
		ev.Items = append(ev.Items, gid.Encode(gid.Product, it.ProviderID, it.ProductID))
	}
	return ev, true
}

func bookingEvent(a *model.Appointment) (events.Event, bool) {
	if a == nil {
		return events.Event{}, false
	}
	return events.Event{Kind: events.KindBooking, Provider: a.ProviderID, Vertical: string(model.VerticalMedical),
		Item: gid.Encode(gid.Doctor, a.ProviderID, a.DoctorID)}, true
}

func consultationEvent(c *model.Consultation) (events.Event, bool) {
	if c == nil {
		return events.Event{}, false
	}
	ev := events.Event{Kind: events.KindConsultation, Provider: c.ProviderID, Vertical: string(model.VerticalMedical), Category: c.Specialty}
	if c.DoctorID != "" {
		ev.Item = gid.Encode(gid.Doctor, c.ProviderID, c.DoctorID)
	}
	return ev, true
}

func legalEvent(c *model.LegalConsultation) (events.Event, bool) {
	if c == nil {
		return events.Event{}, false
	}
	return events.Event{Kind: events.KindConsultation, Provider: c.ProviderID, Vertical: string(model.VerticalLegal),
		Item: gid.Encode(gid.Lawyer, c.ProviderID, c.LawyerID)}, true
}

func applicationEvent(a *model.ServiceApplication) (events.Event, bool) {
	if a == nil {
		return events.Event{}, false
	}
	return events.Event{Kind: events.KindApplication, Provider: a.ProviderID, Vertical: string(model.VerticalPublicService),
		Item: gid.Encode(gid.GovService, a.ProviderID, a.ServiceID)}, true
}

// verticalOf is the vertical of the objects of kind k ("" for providers,
// users and the like).
func verticalOf(k gid.Kind) string {
	switch k {
	case gid.Product, gid.Store:
		return string(model.VerticalGrocery)
	case gid.Doctor:
		return string(model.VerticalMedical)
	case gid.Lawyer:
		return string(model.VerticalLegal)
	case gid.GovService:
		return string(model.VerticalPublicService)
	}
	return ""
}

// reportSearchClick records that a search result was opened.
func (r *Resolver) reportSearchClick(ctx context.Context, query, itemID string, city *string) (*bool, error) {
	if err := checkTexts(textArg{"query", &query}, textArg{"city", city}); err != nil {
		return nil, err
	}
	id, err := gid.Decode(itemID)
	if err != nil {
		return nil, connectors.Errorf(connectors.KindInvalid, "invalid itemId %q: not a Plaza global ID", truncate(itemID, 80))
	}
	r.record(ctx, events.Event{Kind: events.KindClick, Query: query, Item: itemID, Provider: id.Provider, Vertical: verticalOf(id.Kind), City: deref(city)})
	ok := true
	return &ok, nil
}

// personalized reports whether user allows personalisation. When the
// setting cannot be read the answer is no: privacy first.
func (r *Resolver) personalized(ctx context.Context, user string) bool {
	if r.opt.settings == nil {
		return true
	}
	on, err := r.opt.settings.Personalization(ctx, user)
	if err != nil {
		r.log.WarnContext(ctx, "settings unavailable; treating user as opted out", "err", err)
		return false
	}
	return on
}

func (r *Resolver) userSettings(ctx context.Context) (*model.UserSettings, error) {
	me, err := user(ctx)
	if err != nil {
		return nil, err
	}
	return &model.UserSettings{Personalization: r.personalized(ctx, me)}, nil
}

// updateSettings stores the choice first, so the recorder drops the user's
// queued events from here on, then makes the engine, the page cache and the
// history store forget the user.
func (r *Resolver) updateSettings(ctx context.Context, personalization bool) (*model.UserSettings, error) {
	me, err := user(ctx)
	if err != nil {
		return nil, err
	}
	if r.opt.settings == nil {
		return nil, connectors.Errorf(connectors.KindUnavailable, "settings are not available on this gateway")
	}
	if err := r.opt.settings.SetPersonalization(ctx, me, personalization); err != nil {
		return nil, connectors.Errorf(connectors.KindInternal, "save settings: %v", err)
	}
	if !personalization {
		if r.opt.home != nil {
			r.opt.home.Forget(me)
		}
		if r.opt.store != nil {
			if err := r.opt.store.Forget(ctx, me); err != nil {
				r.log.WarnContext(ctx, "forget history failed", "err", err)
			}
		}
	}
	return &model.UserSettings{Personalization: personalization}, nil
}

// home builds the signed-in user's home page: on the engine when one is
// configured (personalised unless the user opted out), else the
// non-personalised page.
func (r *Resolver) home(ctx context.Context, city *string) (*model.HomePage, error) {
	if err := checkTexts(textArg{"city", city}); err != nil {
		return nil, err
	}
	me, err := user(ctx)
	if err != nil {
		return nil, err
	}
	var page gateway.HomePage
	var errs []error
	if r.opt.home != nil {
		page, errs = r.opt.home.Home(ctx, r.loaders(ctx), me, deref(city), r.personalized(ctx, me))
	} else {
		page, errs = r.gw.Home(ctx, r.loaders(ctx), me, deref(city))
	}
	addErrors(ctx, errs)
	if r.opt.growth != nil {
		page = page.Demote(r.opt.growth.Penalty) // DEMOTED providers rank lower on home as in search
	}
	out := &model.HomePage{Sections: []*model.HomeSection{}}
	if page.City != "" {
		out.City = &page.City
	}
	// Candidates from the index carry what providers published: every
	// section's items are completed live at once (one batch per provider
	// and kind for the whole page), like a page of search. pos numbers the
	// items across sections.
	var all []rankedItem
	var section []int // section of each item of all, by pos
	for si, s := range page.Sections {
		for _, it := range s.Items {
			all = append(all, rankedItem{pos: len(all), hit: it.Hit})
			section = append(section, si)
		}
	}
	reasons := func(pos int) string {
		si := section[pos]
		first := pos
		for first > 0 && section[first-1] == si {
			first--
		}
		return page.Sections[si].Items[pos-first].Reason
	}
	base := graphql.GetPath(ctx)
	all = r.completeHits(ctx, all, r.completions(ctx), func(kept []rankedItem, it rankedItem) ast.Path {
		si := section[it.pos]
		n := 0
		for _, k := range kept {
			if section[k.pos] == si {
				n++
			}
		}
		return append(append(ast.Path{}, base...), ast.PathName("sections"), ast.PathIndex(si), ast.PathName("items"), ast.PathIndex(n), ast.PathName("node"))
	})
	secs := make([]*model.HomeSection, len(page.Sections))
	for si, s := range page.Sections {
		secs[si] = &model.HomeSection{Key: s.Key, Title: s.Title, Items: []*model.HomeItem{}}
	}
	for _, it := range all {
		sec := secs[section[it.pos]]
		sec.Items = append(sec.Items, &model.HomeItem{Node: hitModel[model.SearchResult](it.hit), Reason: reasons(it.pos), Score: it.hit.Score})
	}
	out.Sections = append(out.Sections, secs...)
	r.record(ctx, homeEvent(out))
	return prefetch(ctx, r, out), nil
}
