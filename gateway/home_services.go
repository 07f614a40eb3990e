package gateway

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/recommend"
)

// servicesToSuggest proposes well-rated public services in the city, for
// pages the engine knew too little about.
func servicesToSuggest(hits []Hit, skip map[string]bool) []HomeItem {
	var items []HomeItem
	for _, h := range hits {
		if h.Kind != gid.GovService || skip[hitID(h)] {
			continue
		}
		items = append(items, HomeItem{Hit: h, Reason: "Often needed by people near you"})
		if len(items) == homeSectionSize {
			break
		}
	}
	return items
}

// SeedStats says what Seed taught the engine.
type SeedStats struct {
	Users    int
	Events   int
	Items    int
	Duration time.Duration
}

// Seed teaches the engine the existing histories of users (their orders,
// appointments, consultations and applications at every provider), so home
// pages are personal from the first request after a start. Users for whom
// allowed returns false (opted out) are skipped. Provider failures skip that
// part of a user's history; Seed itself only fails when ctx ends.
func (r *Recommender) Seed(ctx context.Context, g *Gateway, users []string, allowed func(ctx context.Context, user string) bool) (SeedStats, error) {
	start := time.Now()
	var (
		mu    sync.Mutex
		evs   []recommend.Event
		keys  = map[gid.ID]bool{}
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 8)
		stats SeedStats
	)
	for _, u := range users {
		if allowed != nil && !allowed(ctx, u) {
			continue
		}
		stats.Users++
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			e, k := r.history(connectors.WithUser(ctx, u), g, u)
			mu.Lock()
			evs = append(evs, e...)
			for _, id := range k {
				keys[id] = true
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return stats, err
	}
	items := r.describe(ctx, g, keys)
	r.engine.AddItems(items...)
	cities := make(map[string]string, len(items))
	for _, it := range items {
		cities[it.ID] = it.City
	}
	for i := range evs {
		evs[i].City = cities[evs[i].ItemID] // city trends learn from events that name a city
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	r.engine.Observe(evs...)
	stats.Events, stats.Items, stats.Duration = len(evs), len(items), time.Since(start)
	return stats, nil
}

// history returns one user's past interactions as engine events, and the
// items they name.
func (r *Recommender) history(ctx context.Context, g *Gateway, user string) ([]recommend.Event, []gid.ID) {
	var evs []recommend.Event
	var ids []gid.ID
	add := func(kind gid.Kind, provider, local string, ek recommend.EventKind, t time.Time) {
		id := gid.ID{Kind: kind, Provider: provider, Local: local}
		ids = append(ids, id)
		evs = append(evs, recommend.Event{UserID: user, ItemID: id.String(), Kind: ek, Time: t})
	}
	orders, _ := g.UserOrders(ctx, user)
	for _, o := range orders {
		if o.Value.Status == connectors.StatusCancelled {
			continue
		}
		for _, it := range o.Value.Items {
			add(gid.Product, o.Provider, it.ProductID, recommend.Order, o.Value.CreatedAt)
		}
	}
	appts, _ := g.UserAppointments(ctx, user)
	for _, a := range appts {
		add(gid.Doctor, a.Provider, a.Value.DoctorID, recommend.Booking, a.Value.CreatedAt)
	}
	cons, _ := g.UserConsultations(ctx, user)
	for _, c := range cons {
		if c.Value.DoctorID != "" {
			add(gid.Doctor, c.Provider, c.Value.DoctorID, recommend.Consultation, c.Value.CreatedAt)
		}
	}
	legal, _ := g.UserLegalConsultations(ctx, user)
	for _, c := range legal {
		add(gid.Lawyer, c.Provider, c.Value.LawyerID, recommend.Consultation, c.Value.CreatedAt)
	}
	apps, _ := g.UserApplications(ctx, user)
	for _, a := range apps {
		add(gid.GovService, a.Provider, a.Value.ServiceID, recommend.Application, a.Value.CreatedAt)
	}
	return evs, ids
}

// describe loads the items and returns their engine metadata.
func (r *Recommender) describe(ctx context.Context, g *Gateway, keys map[gid.ID]bool) []recommend.Item {
	ids := make([]gid.ID, 0, len(keys))
	for id := range keys {
		ids = append(ids, id)
	}
	hits := r.load(ctx, g.loadersFor(ctx), ids)
	items := make([]recommend.Item, len(hits))
	for i, h := range hits {
		items[i] = ItemOf(h)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	return items
}

// ItemOf is the engine's metadata for a hit: name, category (product
// category, specialty, practice area, service category), city, provider.
func ItemOf(h Hit) recommend.Item {
	it := recommend.Item{ID: hitID(h), Provider: h.Provider, City: hitCity(h)}
	switch v := h.Value.(type) {
	case connectors.Product:
		it.Name, it.Category, it.Tags = v.Name, v.Category, v.Tags
	case connectors.Store:
		it.Name, it.Category, it.Tags = v.Name, "store", v.Tags
	case connectors.Doctor:
		it.Name, it.Category = v.Name, v.Specialty
	case connectors.Lawyer:
		it.Name = v.Name
		if len(v.PracticeAreas) > 0 {
			it.Category = v.PracticeAreas[0]
		}
	case connectors.GovService:
		it.Name, it.Category, it.Tags = v.Name, v.Category, v.Tags
	}
	return it
}
