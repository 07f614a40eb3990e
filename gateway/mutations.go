package gateway

import (
	"context"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
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
	conn, ok := g.registryFor(ctx).Get(provider)
	c, isC := conn.(C)
	if !ok || !isC {
		return out, connectors.Errorf(connectors.KindNotFound, "provider %q not found", provider)
	}
	err := g.call(ctx, conn.Describe().Vertical, provider, op, 1, read, func(ctx context.Context) error {
		var err error
		out, err = fn(c, ctx)
		return err
	})
	return out, err
}

// What each mutation changes, and which cache keys hold it (every key below is
// dropped before the mutation answers; api/e2e_invalidation_test.go reads each
// one right after its mutation on another instance):
//
//	mutation                  changes at the provider          cached under (invalidated)
//	placeGroceryOrder         product stock                    Product:<p>:<product>         per product ordered
//	                          the slot's remaining capacity    DeliverySlot:<p>:<store>      the store's slot list
//	cancelGroceryOrder        stock and slot capacity back     the same keys as placeGroceryOrder
//	payGroceryOrder           the order's status (personal)    nothing: stock and slot were taken by placing
//	bookDoctorAppointment     the slot becomes unavailable     AppointmentSlot:<p>:<doctor>  the doctor's slot list
//	applyForGovService        the office slot is taken         Office:<p>:<service>#<epoch>  every service's office list
//	                                                           of the provider, by deleting OfficeEpoch:<p> (an office
//	                                                           is listed under every service it handles: epochKinds)
//	cancelAppointment         the slot is free again           AppointmentSlot:<p>:<doctor>
//	rescheduleAppointment     old slot free, new one taken     AppointmentSlot:<p>:<doctor>  (one list holds both)
//	cancelApplication         the office slot is free again    as applyForGovService
//	rescheduleApplication     old slot free, new one taken     as applyForGovService
//	cancelLegalConsultation   a consultation (personal)        nothing: personal data is never cached
//	askDoctor                 a new consultation (personal)    nothing: personal data is never cached
//	requestLegalConsultation  a new consultation (personal)    nothing: personal data is never cached
//
// Not changed by any mutation: Store, Doctor, Lawyer, GovService (catalogue
// data; providers push changes through POST /providers/{id}/invalidate).
// Orders, appointments, consultations and applications are per user and read
// live. Search results are not cached; the home page's per-instance 15 s
// cache holds which items to show, whose stock and slots load through the
// keys above.

// PlaceOrder places a grocery order at provider. The stock of its products
// and its store's slots changed, so they are invalidated before it answers.
func (g *Gateway) PlaceOrder(ctx context.Context, provider string, in connectors.PlaceOrderInput) (connectors.GroceryOrder, error) {
	o, err := idempotent(ctx, g, "PlaceOrder", in.UserID, in.IdempotencyKey, in, func(ctx context.Context) (connectors.GroceryOrder, error) {
		return mutate(ctx, g, provider, "PlaceOrder", func(c connectors.Grocery, ctx context.Context) (connectors.GroceryOrder, error) {
			return c.PlaceOrder(ctx, in)
		})
	})
	if err == nil {
		g.invalidate(ctx, orderChanges(provider, o)...)
	}
	return o, err
}

// CancelOrder cancels one of user's orders at provider, putting stock and
// slot capacity back (invalidated like PlaceOrder).
func (g *Gateway) CancelOrder(ctx context.Context, provider, user, orderID string) (connectors.GroceryOrder, error) {
	o, err := mutate(ctx, g, provider, "CancelOrder", func(c connectors.Grocery, ctx context.Context) (connectors.GroceryOrder, error) {
		return c.CancelOrder(ctx, user, orderID)
	})
	if err == nil {
		g.invalidate(ctx, orderChanges(provider, o)...)
	}
	return o, err
}

// PayOrder pays one of the user's orders at provider (contract 1.4). Stock
// and slot were taken when it was placed, so nothing cached changes; a retry
// with the key returns the first payment (idempotent, as PlaceOrder).
func (g *Gateway) PayOrder(ctx context.Context, provider string, in connectors.PayOrderInput) (connectors.GroceryOrder, error) {
	return idempotent(ctx, g, "PayOrder", in.UserID, in.IdempotencyKey, in, func(ctx context.Context) (connectors.GroceryOrder, error) {
		return mutate(ctx, g, provider, "PayOrder", func(c connectors.Grocery, ctx context.Context) (connectors.GroceryOrder, error) {
			p, err := capability[connectors.OrderPayer](c, "paying orders")
			if err != nil {
				return connectors.GroceryOrder{}, err
			}
			return p.PayOrder(ctx, in)
		})
	})
}

func orderChanges(provider string, o connectors.GroceryOrder) []gid.ID {
	ids := []gid.ID{{Kind: gid.DeliverySlot, Provider: provider, Local: o.StoreID}}
	for _, it := range o.Items {
		ids = append(ids, gid.ID{Kind: gid.Product, Provider: provider, Local: it.ProductID})
	}
	return ids
}

// BookAppointment books a doctor's slot at provider; the doctor's slots are
// invalidated.
func (g *Gateway) BookAppointment(ctx context.Context, provider string, in connectors.BookAppointmentInput) (connectors.Appointment, error) {
	a, err := idempotent(ctx, g, "BookAppointment", in.UserID, in.IdempotencyKey, in, func(ctx context.Context) (connectors.Appointment, error) {
		return mutate(ctx, g, provider, "BookAppointment", func(c connectors.Medical, ctx context.Context) (connectors.Appointment, error) {
			return c.BookAppointment(ctx, in)
		})
	})
	if err == nil {
		g.invalidate(ctx, gid.ID{Kind: gid.AppointmentSlot, Provider: provider, Local: a.DoctorID})
	}
	return a, err
}

// AskDoctor asks a medical question at provider.
func (g *Gateway) AskDoctor(ctx context.Context, provider string, in connectors.AskDoctorInput) (connectors.Consultation, error) {
	return idempotent(ctx, g, "AskDoctor", in.UserID, in.IdempotencyKey, in, func(ctx context.Context) (connectors.Consultation, error) {
		return mutate(ctx, g, provider, "AskDoctor", func(c connectors.Medical, ctx context.Context) (connectors.Consultation, error) {
			return c.AskDoctor(ctx, in)
		})
	})
}

// RequestConsultation requests a lawyer's consultation at provider.
func (g *Gateway) RequestConsultation(ctx context.Context, provider string, in connectors.LegalConsultationInput) (connectors.LegalConsultation, error) {
	return idempotent(ctx, g, "RequestConsultation", in.UserID, in.IdempotencyKey, in, func(ctx context.Context) (connectors.LegalConsultation, error) {
		return mutate(ctx, g, provider, "RequestConsultation", func(c connectors.Legal, ctx context.Context) (connectors.LegalConsultation, error) {
			return c.RequestConsultation(ctx, in)
		})
	})
}

// Apply applies for a government service at provider. The office's slot is
// taken, and that office is listed under every service it handles, so every
// office list of the provider is invalidated (see epochKinds).
func (g *Gateway) Apply(ctx context.Context, provider string, in connectors.ApplicationInput) (connectors.ServiceApplication, error) {
	a, err := idempotent(ctx, g, "Apply", in.UserID, in.IdempotencyKey, in, func(ctx context.Context) (connectors.ServiceApplication, error) {
		return mutate(ctx, g, provider, "Apply", func(c connectors.PublicService, ctx context.Context) (connectors.ServiceApplication, error) {
			return c.Apply(ctx, in)
		})
	})
	if err == nil {
		g.invalidate(ctx, gid.ID{Kind: gid.Office, Provider: provider, Local: a.OfficeID})
	}
	return a, err
}

// capability is c as the optional capability T (contract 1.3), or the
// KindInvalid error saying the provider does not support what T does.
func capability[T any](c connectors.Connector, what string) (T, error) {
	t, ok := c.(T)
	if !ok {
		return t, connectors.Errorf(connectors.KindInvalid, "%s does not support %s through Plaza", c.Describe().Name, what)
	}
	return t, nil
}

// CancelAppointment cancels one of user's appointments at provider; its slot
// is free again, so the doctor's slots are invalidated.
func (g *Gateway) CancelAppointment(ctx context.Context, provider, user, id string) (connectors.Appointment, error) {
	a, err := mutate(ctx, g, provider, "CancelAppointment", func(c connectors.Medical, ctx context.Context) (connectors.Appointment, error) {
		ch, err := capability[connectors.AppointmentChanger](c, "cancelling appointments")
		if err != nil {
			return connectors.Appointment{}, err
		}
		return ch.CancelAppointment(ctx, user, id)
	})
	if err == nil {
		g.invalidate(ctx, gid.ID{Kind: gid.AppointmentSlot, Provider: provider, Local: a.DoctorID})
	}
	return a, err
}

// RescheduleAppointment moves one of user's appointments at provider to
// slotID of the same doctor; both slots changed (one list, invalidated).
func (g *Gateway) RescheduleAppointment(ctx context.Context, provider, user, id, slotID string) (connectors.Appointment, error) {
	a, err := mutate(ctx, g, provider, "RescheduleAppointment", func(c connectors.Medical, ctx context.Context) (connectors.Appointment, error) {
		ch, err := capability[connectors.AppointmentChanger](c, "rescheduling appointments")
		if err != nil {
			return connectors.Appointment{}, err
		}
		return ch.RescheduleAppointment(ctx, user, id, slotID)
	})
	if err == nil {
		g.invalidate(ctx, gid.ID{Kind: gid.AppointmentSlot, Provider: provider, Local: a.DoctorID})
	}
	return a, err
}

// CancelLegalConsultation cancels one of user's legal consultations at
// provider (personal data: nothing cached changes).
func (g *Gateway) CancelLegalConsultation(ctx context.Context, provider, user, id string) (connectors.LegalConsultation, error) {
	return mutate(ctx, g, provider, "CancelLegalConsultation", func(c connectors.Legal, ctx context.Context) (connectors.LegalConsultation, error) {
		ch, err := capability[connectors.LegalConsultationCanceller](c, "cancelling legal consultations")
		if err != nil {
			return connectors.LegalConsultation{}, err
		}
		return ch.CancelLegalConsultation(ctx, user, id)
	})
}

// CancelApplication withdraws one of user's applications at provider; its
// office slot is free again (every office list of the provider, as Apply).
func (g *Gateway) CancelApplication(ctx context.Context, provider, user, id string) (connectors.ServiceApplication, error) {
	a, err := mutate(ctx, g, provider, "CancelApplication", func(c connectors.PublicService, ctx context.Context) (connectors.ServiceApplication, error) {
		ch, err := capability[connectors.ApplicationCanceller](c, "withdrawing applications")
		if err != nil {
			return connectors.ServiceApplication{}, err
		}
		return ch.CancelApplication(ctx, user, id)
	})
	if err == nil {
		g.invalidate(ctx, gid.ID{Kind: gid.Office, Provider: provider, Local: a.OfficeID})
	}
	return a, err
}

// RescheduleApplication moves one of user's applications at provider to
// slotID of the same office (contract 1.4); both slots changed, so every
// office list of the provider is invalidated (as Apply).
func (g *Gateway) RescheduleApplication(ctx context.Context, provider, user, id, slotID string) (connectors.ServiceApplication, error) {
	a, err := mutate(ctx, g, provider, "RescheduleApplication", func(c connectors.PublicService, ctx context.Context) (connectors.ServiceApplication, error) {
		ch, err := capability[connectors.ApplicationRescheduler](c, "rescheduling applications")
		if err != nil {
			return connectors.ServiceApplication{}, err
		}
		return ch.RescheduleApplication(ctx, user, id, slotID)
	})
	if err == nil {
		g.invalidate(ctx, gid.ID{Kind: gid.Office, Provider: provider, Local: a.OfficeID})
	}
	return a, err
}

// invalidate drops changed entities from the cache. A failure is logged, not
// returned: the mutation happened, and the entries expire on their own.
func (g *Gateway) invalidate(ctx context.Context, ids ...gid.ID) {
	if err := g.cache.Invalidate(ctx, ids...); err != nil {
		g.log.WarnContext(ctx, "cache invalidation failed", "err", err, "entities", len(ids))
	}
}

// InvalidateForProvider drops entities a provider says changed. Each ID must
// belong to that provider (a provider can only invalidate its own entities).
func (g *Gateway) InvalidateForProvider(ctx context.Context, provider string, ids []string) error {
	decoded := make([]gid.ID, 0, len(ids))
	for _, s := range ids {
		id, err := gid.Decode(s)
		if err != nil {
			return connectors.Errorf(connectors.KindInvalid, "invalid id %q", s)
		}
		if id.Provider != provider {
			return connectors.Errorf(connectors.KindForbidden, "id %q belongs to another provider", s)
		}
		decoded = append(decoded, id)
		// Slots and offices are cached per parent: a change to a store,
		// doctor or service may be a change to its slots. An Office ID (or
		// a GovService's, through this map) drops all of the provider's
		// office lists (epochKinds).
		if child, ok := entities.derived().cachedPerParent[id.Kind]; ok {
			decoded = append(decoded, gid.ID{Kind: child, Provider: id.Provider, Local: id.Local})
		}
	}
	return g.cache.Invalidate(ctx, decoded...)
}

// StoreProducts pages through one store's products with the provider's own
// ranking and cursor.
func (g *Gateway) StoreProducts(ctx context.Context, store Key, q connectors.Query) (connectors.Page[connectors.Product], error) {
	q.StoreID = store.ID
	return single(ctx, g, store.Provider, "SearchProducts", true, func(c connectors.Grocery, ctx context.Context) (connectors.Page[connectors.Product], error) {
		return c.SearchProducts(ctx, q)
	})
}
