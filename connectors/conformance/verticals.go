package conformance

import (
	"context"
	"errors"
	"fmt"

	"github.com/plaza-gateway/plaza/connectors"
)

// The checks are written once against this vertical-neutral view of a
// connector: its main catalogue (products, doctors, lawyers, services), the
// user's records (orders, appointments, consultations, applications), and one
// mutation that creates a record.

// item is one batch result reduced to what the checks compare.
type item struct {
	id, user string
	value    any
	err      error
}

type page struct {
	ids   []string
	total int
	next  string
}

// mutation creates records of one kind for the kit's user from inputs the
// vertical discovered. level, when set, reads the scarce resource a creation
// consumes (stock, a slot's availability) and cost is how much one creation
// takes from it. undo, when set, reverts one creation.
type mutation struct {
	what  string
	do    func(ctx context.Context, key string) (item, error)
	level func(ctx context.Context) (int, error)
	cost  int
	undo  func(ctx context.Context, id string) error
	// resize, when set, returns the same mutation taking n units at once,
	// so a race can ask for more than what is left.
	resize func(n int) *mutation
	// slot is the slot a booking takes; at returns the same booking in
	// another slot of the same doctor or office, and free lists that
	// resource's free slots (for the reschedule check). Unset for
	// creations that take no slot.
	slot string
	at   func(slot string) *mutation
	free func(ctx context.Context) ([]string, error)
}

type vertical struct {
	entity string
	// batch is the catalogue's batch get.
	batch  func(ctx context.Context, ids []string) ([]item, error)
	search func(ctx context.Context, q connectors.Query) (page, error)
	// pagingQuery is a search narrow enough to page through (a store's
	// products rather than a whole grocery catalogue).
	pagingQuery func(ctx context.Context) (connectors.Query, error)
	records     func(ctx context.Context, ids []string) ([]item, error)
	list        func(ctx context.Context, user string) ([]item, error)
	// prepare discovers the inputs of one creation for user. scarce asks for
	// a resource with as little left as the provider has (for the
	// concurrency check), rather than plenty.
	prepare func(ctx context.Context, user string, scarce bool) (*mutation, error)
	// cancel cancels one of user's records (contract 1.3 for bookings;
	// grocery orders always): nil when the connector cannot.
	cancel func(ctx context.Context, user, id string) (item, error)
	// pay pays one of user's orders (contract 1.4, grocery): nil when the
	// connector cannot.
	pay func(ctx context.Context, in connectors.PayOrderInput) (connectors.GroceryOrder, error)
	// reschedule moves one of user's bookings to another slot (contract
	// 1.3 appointments, 1.4 applications): nil when the connector cannot.
	reschedule func(ctx context.Context, user, id, slot string) (item, error)
}

// cancelOf adapts a cancel method of capability T, when conn has it.
func cancelOf[T, R any](conn any, fn func(T, context.Context, string, string) (R, error), key func(R) (string, string)) func(context.Context, string, string) (item, error) {
	t, ok := conn.(T)
	if !ok {
		return nil
	}
	return func(ctx context.Context, user, id string) (item, error) {
		r, err := fn(t, ctx, user, id)
		return created(r, err, key)
	}
}

// rescheduleOf adapts a reschedule method of capability T, when conn has it.
func rescheduleOf[T, R any](conn any, fn func(T, context.Context, string, string, string) (R, error), key func(R) (string, string)) func(context.Context, string, string, string) (item, error) {
	t, ok := conn.(T)
	if !ok {
		return nil
	}
	return func(ctx context.Context, user, id, slot string) (item, error) {
		r, err := fn(t, ctx, user, id, slot)
		return created(r, err, key)
	}
}

func verticalOf(conn connectors.Connector, v connectors.Vertical) (*vertical, error) {
	switch v {
	case connectors.VerticalGrocery:
		if g, ok := conn.(connectors.Grocery); ok {
			return groceryVertical(g), nil
		}
	case connectors.VerticalMedical:
		if m, ok := conn.(connectors.Medical); ok {
			return medicalVertical(m), nil
		}
	case connectors.VerticalLegal:
		if l, ok := conn.(connectors.Legal); ok {
			return legalVertical(l), nil
		}
	case connectors.VerticalPublicService:
		if p, ok := conn.(connectors.PublicService); ok {
			return publicVertical(p), nil
		}
	default:
		return nil, fmt.Errorf("conformance: provider %q declares unknown vertical %q", conn.Describe().ID, v)
	}
	return nil, fmt.Errorf("conformance: provider %q declares %s but does not implement its interface", conn.Describe().ID, v)
}

func batchOf[T any](fn func(context.Context, []string) ([]connectors.Result[T], error), key func(T) (id, user string)) func(context.Context, []string) ([]item, error) {
	return func(ctx context.Context, ids []string) ([]item, error) {
		res, err := fn(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make([]item, len(res))
		for i, r := range res {
			out[i].err = r.Err
			if r.Err == nil {
				out[i].id, out[i].user = key(r.Value)
				out[i].value = r.Value
			}
		}
		return out, nil
	}
}

func searchOf[T any](fn func(context.Context, connectors.Query) (connectors.Page[T], error), key func(T) (string, string)) func(context.Context, connectors.Query) (page, error) {
	return func(ctx context.Context, q connectors.Query) (page, error) {
		p, err := fn(ctx, q)
		if err != nil {
			return page{}, err
		}
		out := page{total: p.Total, next: p.NextCursor, ids: make([]string, len(p.Items))}
		for i, it := range p.Items {
			out.ids[i], _ = key(it)
		}
		return out, nil
	}
}

func listOf[T any](fn func(context.Context, string) ([]T, error), key func(T) (string, string)) func(context.Context, string) ([]item, error) {
	return func(ctx context.Context, user string) ([]item, error) {
		res, err := fn(ctx, user)
		if err != nil {
			return nil, err
		}
		out := make([]item, len(res))
		for i, r := range res {
			out[i].id, out[i].user = key(r)
			out[i].value = r
		}
		return out, nil
	}
}

func created[T any](v T, err error, key func(T) (string, string)) (item, error) {
	if err != nil {
		return item{}, err
	}
	id, user := key(v)
	return item{id: id, user: user, value: v}, nil
}

func emptyQuery(context.Context) (connectors.Query, error) { return connectors.Query{}, nil }

// noFixture is the skip for a provider whose data offers nothing to mutate.
func noFixture(what string) error { return skipf("the provider's data has no %s to use", what) }

func groceryVertical(g connectors.Grocery) *vertical {
	product := func(p connectors.Product) (string, string) { return p.ID, "" }
	order := func(o connectors.GroceryOrder) (string, string) { return o.ID, o.UserID }
	return &vertical{
		entity: "product",
		batch:  batchOf(g.Products, product),
		search: searchOf(g.SearchProducts, product),
		pagingQuery: func(ctx context.Context) (connectors.Query, error) {
			stores, err := g.SearchStores(ctx, connectors.Query{First: 1})
			if err != nil {
				return connectors.Query{}, fmt.Errorf("search stores: %w", err)
			}
			if len(stores.Items) == 0 {
				return connectors.Query{}, nil
			}
			return connectors.Query{StoreID: stores.Items[0].ID}, nil
		},
		records: batchOf(g.Orders, order),
		list:    listOf(g.UserOrders, order),
		cancel:  cancelOf(g, connectors.Grocery.CancelOrder, order),
		pay:     payOf(g),
		prepare: func(ctx context.Context, user string, scarce bool) (*mutation, error) {
			store, slot, p, qty, err := groceryFixture(ctx, g, scarce)
			if err != nil {
				return nil, err
			}
			return groceryMutation(g, user, store, slot, p, qty), nil
		},
	}
}

// groceryMutation orders qty units of product p (qty < 1 means 1).
func groceryMutation(g connectors.Grocery, user, store, slot, p string, qty int) *mutation {
	qty = max(qty, 1)
	order := func(o connectors.GroceryOrder) (string, string) { return o.ID, o.UserID }
	return &mutation{
		what: fmt.Sprintf("order of %d x product %s in slot %s", qty, p, slot),
		do: func(ctx context.Context, key string) (item, error) {
			o, err := g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: user, StoreID: store, SlotID: slot,
				Items: []connectors.OrderLineItem{{ProductID: p, Quantity: qty}}, IdempotencyKey: key})
			return created(o, err, order)
		},
		level: func(ctx context.Context) (int, error) {
			res, err := g.Products(ctx, []string{p})
			if err != nil {
				return 0, err
			}
			if len(res) != 1 || res[0].Err != nil {
				return 0, fmt.Errorf("product %s cannot be read back", p)
			}
			return res[0].Value.Stock, nil
		},
		cost: qty,
		undo: func(ctx context.Context, id string) error {
			_, err := g.CancelOrder(ctx, user, id)
			return err
		},
		resize: func(n int) *mutation { return groceryMutation(g, user, store, slot, p, n) },
	}
}

// groceryFixture finds a store with a delivery slot that has room and a
// product in stock (the one with the most stock, or with scarce the one
// with the least), and the quantity of it that reaches the store's minimum order (contract 1.4
// stores refuse less; 1 without a minimum).
func groceryFixture(ctx context.Context, g connectors.Grocery, scarce bool) (store, slot, product string, qty int, err error) {
	stores, err := g.SearchStores(ctx, connectors.Query{First: 10})
	if err != nil {
		return "", "", "", 0, fmt.Errorf("search stores: %w", err)
	}
	for _, s := range stores.Items {
		slots, err := g.DeliverySlots(ctx, []string{s.ID})
		if err != nil {
			return "", "", "", 0, fmt.Errorf("delivery slots: %w", err)
		}
		if len(slots) != 1 {
			return "", "", "", 0, fmt.Errorf("delivery slots: %d results for 1 store", len(slots))
		}
		var best connectors.DeliverySlot
		for _, sl := range slots[0].Value {
			if sl.Remaining > best.Remaining {
				best = sl
			}
		}
		if best.ID == "" {
			continue
		}
		products, err := g.SearchProducts(ctx, connectors.Query{StoreID: s.ID, First: 100})
		if err != nil {
			return "", "", "", 0, fmt.Errorf("search products: %w", err)
		}
		var pick connectors.Product
		need := func(p connectors.Product) int {
			if s.MinimumOrder == nil || p.Price.Amount <= 0 {
				return 1
			}
			return int(max(1, (s.MinimumOrder.Amount+p.Price.Amount-1)/p.Price.Amount))
		}
		for _, p := range products.Items {
			if p.Stock >= need(p) && need(p) <= 100 && (pick.ID == "" || scarce && p.Stock < pick.Stock || !scarce && p.Stock > pick.Stock) {
				pick = p
			}
		}
		if pick.ID != "" {
			return s.ID, best.ID, pick.ID, need(pick), nil
		}
	}
	return "", "", "", 0, noFixture("store with a free delivery slot and a product in stock")
}

// slotState is one slot of a doctor or an office, as the kit reads it back.
type slotState struct {
	id        string
	available bool
}

// slotAccess reads slot's level (1 free, 0 taken) and the resource's free
// slots, both from slots.
func slotAccess(slots func(context.Context) ([]slotState, error), slot string) (level func(context.Context) (int, error), free func(context.Context) ([]string, error)) {
	level = slotLevel(func(ctx context.Context) (bool, bool, error) {
		all, err := slots(ctx)
		for _, s := range all {
			if s.id == slot {
				return s.available, true, nil
			}
		}
		return false, false, err
	})
	free = func(ctx context.Context) ([]string, error) {
		all, err := slots(ctx)
		var ids []string
		for _, s := range all {
			if s.available {
				ids = append(ids, s.id)
			}
		}
		return ids, err
	}
	return level, free
}

// slotLevel reads one slot's availability as 1 (free) or 0 (taken).
func slotLevel(available func(ctx context.Context) (bool, bool, error)) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		free, found, err := available(ctx)
		switch {
		case err != nil:
			return 0, err
		case !found:
			return 0, errors.New("the slot is no longer listed")
		case free:
			return 1, nil
		}
		return 0, nil
	}
}

func medicalVertical(m connectors.Medical) *vertical {
	doctor := func(d connectors.Doctor) (string, string) { return d.ID, "" }
	appt := func(a connectors.Appointment) (string, string) { return a.ID, a.UserID }
	return &vertical{
		entity:      "doctor",
		batch:       batchOf(m.Doctors, doctor),
		search:      searchOf(m.SearchDoctors, doctor),
		pagingQuery: emptyQuery,
		records:     batchOf(m.Appointments, appt),
		list:        listOf(m.UserAppointments, appt),
		cancel:      cancelOf(m, connectors.AppointmentChanger.CancelAppointment, appt),
		reschedule:  rescheduleOf(m, connectors.AppointmentChanger.RescheduleAppointment, appt),
		prepare: func(ctx context.Context, user string, _ bool) (*mutation, error) {
			docs, err := m.SearchDoctors(ctx, connectors.Query{First: 20})
			if err != nil {
				return nil, fmt.Errorf("search doctors: %w", err)
			}
			ids := make([]string, len(docs.Items))
			for i, d := range docs.Items {
				ids[i] = d.ID
			}
			slots, err := m.AppointmentSlots(ctx, ids)
			if err != nil {
				return nil, fmt.Errorf("appointment slots: %w", err)
			}
			for i, r := range slots {
				for _, s := range r.Value {
					if s.Available && i < len(ids) {
						return appointmentMutation(m, user, ids[i], s.ID), nil
					}
				}
			}
			return nil, noFixture("doctor with a free appointment slot")
		},
	}
}

// appointmentMutation books user an appointment with doc in slot.
func appointmentMutation(m connectors.Medical, user, doc, slot string) *mutation {
	appt := func(a connectors.Appointment) (string, string) { return a.ID, a.UserID }
	level, free := slotAccess(func(ctx context.Context) ([]slotState, error) {
		res, err := m.AppointmentSlots(ctx, []string{doc})
		if err != nil || len(res) != 1 {
			return nil, errors.Join(err, errors.New("slots cannot be read back"))
		}
		out := make([]slotState, len(res[0].Value))
		for i, s := range res[0].Value {
			out[i] = slotState{s.ID, s.Available}
		}
		return out, res[0].Err
	}, slot)
	return &mutation{
		what: "appointment in slot " + slot,
		do: func(ctx context.Context, key string) (item, error) {
			a, err := m.BookAppointment(ctx, connectors.BookAppointmentInput{UserID: user, DoctorID: doc, SlotID: slot,
				Reason: "conformance check", IdempotencyKey: key})
			return created(a, err, appt)
		},
		level: level,
		cost:  1,
		slot:  slot,
		at:    func(other string) *mutation { return appointmentMutation(m, user, doc, other) },
		free:  free,
	}
}

func legalVertical(l connectors.Legal) *vertical {
	lawyer := func(x connectors.Lawyer) (string, string) { return x.ID, "" }
	consult := func(c connectors.LegalConsultation) (string, string) { return c.ID, c.UserID }
	return &vertical{
		entity:      "lawyer",
		batch:       batchOf(l.Lawyers, lawyer),
		search:      searchOf(l.SearchLawyers, lawyer),
		pagingQuery: emptyQuery,
		records:     batchOf(l.LegalConsultations, consult),
		list:        listOf(l.UserLegalConsultations, consult),
		cancel:      cancelOf(l, connectors.LegalConsultationCanceller.CancelLegalConsultation, consult),
		prepare: func(ctx context.Context, user string, _ bool) (*mutation, error) {
			p, err := l.SearchLawyers(ctx, connectors.Query{First: 1})
			if err != nil {
				return nil, fmt.Errorf("search lawyers: %w", err)
			}
			if len(p.Items) == 0 {
				return nil, noFixture("lawyer")
			}
			law := p.Items[0]
			topic := "contract review"
			if len(law.PracticeAreas) > 0 {
				topic = law.PracticeAreas[0]
			}
			// Consultation requests take no scarce resource: level stays nil.
			return &mutation{
				what: "consultation request to lawyer " + law.ID,
				do: func(ctx context.Context, key string) (item, error) {
					c, err := l.RequestConsultation(ctx, connectors.LegalConsultationInput{UserID: user, LawyerID: law.ID,
						Topic: topic, Description: "conformance check", IdempotencyKey: key})
					return created(c, err, consult)
				},
			}, nil
		},
	}
}

func publicVertical(p connectors.PublicService) *vertical {
	service := func(s connectors.GovService) (string, string) { return s.ID, "" }
	app := func(a connectors.ServiceApplication) (string, string) { return a.ID, a.UserID }
	return &vertical{
		entity:      "service",
		batch:       batchOf(p.Services, service),
		search:      searchOf(p.SearchServices, service),
		pagingQuery: emptyQuery,
		records:     batchOf(p.Applications, app),
		list:        listOf(p.UserApplications, app),
		cancel:      cancelOf(p, connectors.ApplicationCanceller.CancelApplication, app),
		reschedule:  rescheduleOf(p, connectors.ApplicationRescheduler.RescheduleApplication, app),
		prepare: func(ctx context.Context, user string, _ bool) (*mutation, error) {
			svcs, err := p.SearchServices(ctx, connectors.Query{First: 20})
			if err != nil {
				return nil, fmt.Errorf("search services: %w", err)
			}
			ids := make([]string, len(svcs.Items))
			for i, s := range svcs.Items {
				ids[i] = s.ID
			}
			offices, err := p.Offices(ctx, ids)
			if err != nil {
				return nil, fmt.Errorf("offices: %w", err)
			}
			for i, r := range offices {
				if i >= len(svcs.Items) {
					break
				}
				for _, o := range r.Value {
					for _, s := range o.Slots {
						if s.Available {
							return applicationMutation(p, user, svcs.Items[i], o.ID, s.ID), nil
						}
					}
				}
			}
			return nil, noFixture("service with a free office slot")
		},
	}
}

// applicationMutation applies for svc at office in slot, as user.
func applicationMutation(p connectors.PublicService, user string, svc connectors.GovService, office, slot string) *mutation {
	app := func(a connectors.ServiceApplication) (string, string) { return a.ID, a.UserID }
	level, free := slotAccess(func(ctx context.Context) ([]slotState, error) {
		res, err := p.Offices(ctx, []string{svc.ID})
		if err != nil || len(res) != 1 {
			return nil, errors.Join(err, errors.New("offices cannot be read back"))
		}
		for _, o := range res[0].Value {
			if o.ID == office {
				out := make([]slotState, len(o.Slots))
				for i, s := range o.Slots {
					out[i] = slotState{s.ID, s.Available}
				}
				return out, nil
			}
		}
		return nil, res[0].Err
	}, slot)
	return &mutation{
		what: "application in slot " + slot,
		do: func(ctx context.Context, key string) (item, error) {
			a, err := p.Apply(ctx, connectors.ApplicationInput{UserID: user, ServiceID: svc.ID, OfficeID: office,
				SlotID: slot, Documents: svc.RequiredDocuments, IdempotencyKey: key})
			return created(a, err, app)
		},
		level: level,
		cost:  1,
		slot:  slot,
		at:    func(other string) *mutation { return applicationMutation(p, user, svc, office, other) },
		free:  free,
	}
}
