package gateway

import (
	"context"
	"sort"
	"sync"

	"github.com/plaza-gateway/plaza/connectors"
)

// Sourced is a value together with the provider it came from.
type Sourced[T any] struct {
	Provider string
	Value    T
}

// fanOut calls fn on every connector of vertical v (that is a C) in parallel
// and gathers what the healthy ones returned. A failing provider is left out,
// recorded as degraded in the request's Stats, and its error returned in
// errs so the caller can report it next to the partial data.
func fanOut[C connectors.Connector, T any](ctx context.Context, g *Gateway, reg *connectors.Registry, v connectors.Vertical, op string, fn func(C, context.Context) ([]T, error)) (items []Sourced[T], errs []error) {
	conns := reg.ByVertical(v)
	per := make([][]T, len(conns))
	perErr := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, conn := range conns {
		c, ok := conn.(C)
		if !ok {
			continue
		}
		provider := conn.Describe().ID
		wg.Add(1)
		go func() {
			defer wg.Done()
			perErr[i] = g.call(ctx, v, provider, op, 0, true, func(ctx context.Context) error {
				var err error
				per[i], err = fn(c, ctx)
				return err
			})
		}()
	}
	wg.Wait()
	for i, conn := range conns {
		provider := conn.Describe().ID
		if perErr[i] != nil {
			StatsFrom(ctx).AddDegraded(provider, string(connectors.KindOf(perErr[i])))
			errs = append(errs, perErr[i])
			continue
		}
		for _, t := range per[i] {
			items = append(items, Sourced[T]{Provider: provider, Value: t})
		}
	}
	return items, errs
}

// UserLists are the signed-in user's objects gathered from every provider.
// Each list is ordered newest first.

// UserOrders returns user's grocery orders from every grocery provider.
func (g *Gateway) UserOrders(ctx context.Context, user string) ([]Sourced[connectors.GroceryOrder], []error) {
	items, errs := fanOut(ctx, g, g.registryFor(ctx), connectors.VerticalGrocery, "UserOrders",
		func(c connectors.Grocery, ctx context.Context) ([]connectors.GroceryOrder, error) {
			return c.UserOrders(ctx, user)
		})
	return newestFirst(items, func(o connectors.GroceryOrder) (int64, string) { return o.CreatedAt.UnixNano(), o.ID }), errs
}

// UserAppointments returns user's appointments from every medical provider.
func (g *Gateway) UserAppointments(ctx context.Context, user string) ([]Sourced[connectors.Appointment], []error) {
	items, errs := fanOut(ctx, g, g.registryFor(ctx), connectors.VerticalMedical, "UserAppointments",
		func(c connectors.Medical, ctx context.Context) ([]connectors.Appointment, error) {
			return c.UserAppointments(ctx, user)
		})
	return newestFirst(items, func(a connectors.Appointment) (int64, string) { return a.CreatedAt.UnixNano(), a.ID }), errs
}

// UserConsultations returns user's online consultations from every medical provider.
func (g *Gateway) UserConsultations(ctx context.Context, user string) ([]Sourced[connectors.Consultation], []error) {
	items, errs := fanOut(ctx, g, g.registryFor(ctx), connectors.VerticalMedical, "UserConsultations",
		func(c connectors.Medical, ctx context.Context) ([]connectors.Consultation, error) {
			return c.UserConsultations(ctx, user)
		})
	return newestFirst(items, func(c connectors.Consultation) (int64, string) { return c.CreatedAt.UnixNano(), c.ID }), errs
}

// UserLegalConsultations returns user's legal consultations from every legal provider.
func (g *Gateway) UserLegalConsultations(ctx context.Context, user string) ([]Sourced[connectors.LegalConsultation], []error) {
	items, errs := fanOut(ctx, g, g.registryFor(ctx), connectors.VerticalLegal, "UserLegalConsultations",
		func(c connectors.Legal, ctx context.Context) ([]connectors.LegalConsultation, error) {
			return c.UserLegalConsultations(ctx, user)
		})
	return newestFirst(items, func(c connectors.LegalConsultation) (int64, string) { return c.CreatedAt.UnixNano(), c.ID }), errs
}

// UserApplications returns user's service applications from every public-service provider.
func (g *Gateway) UserApplications(ctx context.Context, user string) ([]Sourced[connectors.ServiceApplication], []error) {
	items, errs := fanOut(ctx, g, g.registryFor(ctx), connectors.VerticalPublicService, "UserApplications",
		func(c connectors.PublicService, ctx context.Context) ([]connectors.ServiceApplication, error) {
			return c.UserApplications(ctx, user)
		})
	return newestFirst(items, func(a connectors.ServiceApplication) (int64, string) { return a.CreatedAt.UnixNano(), a.ID }), errs
}

// newestFirst sorts by time descending, then provider and ID, so the merged
// order is total and stable across requests (cursors depend on it).
func newestFirst[T any](items []Sourced[T], key func(T) (int64, string)) []Sourced[T] {
	sort.SliceStable(items, func(i, j int) bool {
		ti, idi := key(items[i].Value)
		tj, idj := key(items[j].Value)
		if ti != tj {
			return ti > tj
		}
		if items[i].Provider != items[j].Provider {
			return items[i].Provider < items[j].Provider
		}
		return idi < idj
	})
	return items
}
