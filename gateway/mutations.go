package gateway

import (
	"context"

	"github.com/plaza-gateway/plaza/connectors"
)

// mutate runs one create/update call at provider. Mutations are never
// retried by the policy (read=false): a retry without an idempotency key
// could order twice.
func mutate[C connectors.Connector, T any](ctx context.Context, g *Gateway, provider, op string, fn func(C, context.Context) (T, error)) (T, error) {
	return single(ctx, g, provider, op, false, fn)
}

// single runs one call at one provider that must be a C.
func single[C connectors.Connector, T any](ctx context.Context, g *Gateway, provider, op string, read bool, fn func(C, context.Context) (T, error)) (T, error) {
	var out T
	conn, ok := g.Registry().Get(provider)
	c, isC := conn.(C)
	if !ok || !isC {
		return out, connectors.Errorf(connectors.KindNotFound, "provider %q not found", provider)
	}
	err := g.call(ctx, provider, op, 1, read, func(ctx context.Context) error {
		var err error
		out, err = fn(c, ctx)
		return err
	})
	return out, err
}

// PlaceOrder places a grocery order at provider.
func (g *Gateway) PlaceOrder(ctx context.Context, provider string, in connectors.PlaceOrderInput) (connectors.GroceryOrder, error) {
	return mutate(ctx, g, provider, "PlaceOrder", func(c connectors.Grocery, ctx context.Context) (connectors.GroceryOrder, error) {
		return c.PlaceOrder(ctx, in)
	})
}

// CancelOrder cancels one of user's orders at provider.
func (g *Gateway) CancelOrder(ctx context.Context, provider, user, orderID string) (connectors.GroceryOrder, error) {
	return mutate(ctx, g, provider, "CancelOrder", func(c connectors.Grocery, ctx context.Context) (connectors.GroceryOrder, error) {
		return c.CancelOrder(ctx, user, orderID)
	})
}

// BookAppointment books a doctor's slot at provider.
func (g *Gateway) BookAppointment(ctx context.Context, provider string, in connectors.BookAppointmentInput) (connectors.Appointment, error) {
	return mutate(ctx, g, provider, "BookAppointment", func(c connectors.Medical, ctx context.Context) (connectors.Appointment, error) {
		return c.BookAppointment(ctx, in)
	})
}

// AskDoctor asks a medical question at provider.
func (g *Gateway) AskDoctor(ctx context.Context, provider string, in connectors.AskDoctorInput) (connectors.Consultation, error) {
	return mutate(ctx, g, provider, "AskDoctor", func(c connectors.Medical, ctx context.Context) (connectors.Consultation, error) {
		return c.AskDoctor(ctx, in)
	})
}

// RequestConsultation requests a lawyer's consultation at provider.
func (g *Gateway) RequestConsultation(ctx context.Context, provider string, in connectors.LegalConsultationInput) (connectors.LegalConsultation, error) {
	return mutate(ctx, g, provider, "RequestConsultation", func(c connectors.Legal, ctx context.Context) (connectors.LegalConsultation, error) {
		return c.RequestConsultation(ctx, in)
	})
}

// Apply applies for a government service at provider.
func (g *Gateway) Apply(ctx context.Context, provider string, in connectors.ApplicationInput) (connectors.ServiceApplication, error) {
	return mutate(ctx, g, provider, "Apply", func(c connectors.PublicService, ctx context.Context) (connectors.ServiceApplication, error) {
		return c.Apply(ctx, in)
	})
}

// StoreProducts pages through one store's products with the provider's own
// ranking and cursor.
func (g *Gateway) StoreProducts(ctx context.Context, store Key, q connectors.Query) (connectors.Page[connectors.Product], error) {
	q.StoreID = store.ID
	return single(ctx, g, store.Provider, "SearchProducts", true, func(c connectors.Grocery, ctx context.Context) (connectors.Page[connectors.Product], error) {
		return c.SearchProducts(ctx, q)
	})
}
