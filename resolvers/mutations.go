package resolvers

import (
	"context"
	"github.com/plaza-gateway/plaza/growth"
	"strings"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph/model"
)

// Input mapping for mutations: decode global IDs, check that every ID of one
// mutation belongs to the same provider, and build the contract's input.

// sameProvider decodes ids of the given kinds and checks they all name one
// provider; the first names it.
func sameProvider(ids ...idOf) ([]gateway.Key, error) {
	keys := make([]gateway.Key, len(ids))
	for i, x := range ids {
		k, err := decode(x.id, x.kind)
		if err != nil {
			return nil, err
		}
		if i > 0 && k.Provider != keys[0].Provider {
			return nil, connectors.Errorf(connectors.KindInvalid, "%s %q belongs to another provider than %s %q", x.kind, truncate(x.id, 80), ids[0].kind, truncate(ids[0].id, 80))
		}
		keys[i] = k
	}
	return keys, nil
}

type idOf struct {
	id   string
	kind gid.Kind
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return connectors.Errorf(connectors.KindInvalid, "%s is required", field)
	}
	return nil
}

func (r *Resolver) placeOrder(ctx context.Context, in model.PlaceGroceryOrderInput) (*model.GroceryOrder, error) {
	me, err := user(ctx)
	if err != nil {
		return nil, err
	}
	if len(in.Items) == 0 {
		return nil, connectors.Errorf(connectors.KindInvalid, "items must not be empty")
	}
	if max := r.gw.Config().MaxIDs; len(in.Items) > max {
		return nil, connectors.Errorf(connectors.KindInvalid, "at most %d items per order, got %d", max, len(in.Items))
	}
	ids := []idOf{{in.StoreID, gid.Store}, {in.SlotID, gid.DeliverySlot}}
	for _, it := range in.Items {
		ids = append(ids, idOf{it.ProductID, gid.Product})
	}
	keys, err := sameProvider(ids...)
	if err != nil {
		return nil, err
	}
	order := connectors.PlaceOrderInput{UserID: me, StoreID: keys[0].ID, SlotID: keys[1].ID, IdempotencyKey: deref(in.IdempotencyKey)}
	for i, it := range in.Items {
		if it.Quantity < 1 || it.Quantity > 100 {
			return nil, connectors.Errorf(connectors.KindInvalid, "items[%d].quantity must be between 1 and 100, got %d", i, it.Quantity)
		}
		order.Items = append(order.Items, connectors.OrderLineItem{ProductID: keys[2+i].ID, Quantity: it.Quantity})
	}
	if order.DeliveryAddress, err = r.deliveryAddress(ctx, in.DeliveryAddressID, in.DeliveryAddress); err != nil {
		return nil, err
	}
	o, err := r.gw.PlaceOrder(ctx, keys[0].Provider, order)
	if err != nil {
		return nil, slotRefusal(err, func() (bool, error) { return r.deliverySlotBookable(ctx, keys[0], keys[1].ID) })
	}
	placed := growth.Order{Provider: keys[0].Provider, ID: o.ID, User: me, Currency: o.Total.Currency, Amount: o.Total.Amount,
		Status: growth.OrderPlaced}
	if order.DeliveryAddress != nil {
		placed.City = order.DeliveryAddress.City
	}
	r.recordOrder(ctx, placed)
	return toOrder(keys[0].Provider, o), nil
}

func (r *Resolver) cancelOrder(ctx context.Context, id string) (*model.GroceryOrder, error) {
	me, err := user(ctx)
	if err != nil {
		return nil, err
	}
	k, err := decode(id, gid.GroceryOrder)
	if err != nil {
		return nil, err
	}
	o, err := r.gw.CancelOrder(ctx, k.Provider, me, k.ID)
	if err != nil {
		return nil, err
	}
	r.recordOrder(ctx, growth.Order{Provider: k.Provider, ID: k.ID, User: me, Currency: o.Total.Currency,
		Amount: o.Total.Amount, Status: growth.OrderCancelled})
	return toOrder(k.Provider, o), nil
}

func (r *Resolver) payOrder(ctx context.Context, in model.PayGroceryOrderInput) (*model.GroceryOrder, error) {
	me, k, err := mine(ctx, in.OrderID, gid.GroceryOrder)
	if err != nil {
		return nil, err
	}
	if err := required("paymentToken", in.PaymentToken); err != nil {
		return nil, err
	}
	o, err := r.gw.PayOrder(ctx, k.Provider, connectors.PayOrderInput{
		UserID: me, OrderID: k.ID, PaymentToken: in.PaymentToken, IdempotencyKey: deref(in.IdempotencyKey)})
	if err != nil {
		return nil, err
	}
	return toOrder(k.Provider, o), nil
}

func (r *Resolver) bookAppointment(ctx context.Context, in model.BookDoctorAppointmentInput) (*model.Appointment, error) {
	me, err := user(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := sameProvider(idOf{in.DoctorID, gid.Doctor}, idOf{in.SlotID, gid.AppointmentSlot})
	if err != nil {
		return nil, err
	}
	a, err := r.gw.BookAppointment(ctx, keys[0].Provider, connectors.BookAppointmentInput{
		UserID: me, DoctorID: keys[0].ID, SlotID: keys[1].ID, Reason: in.Reason, IdempotencyKey: deref(in.IdempotencyKey)})
	if err != nil {
		return nil, slotRefusal(err, func() (bool, error) { return r.appointmentSlotBookable(ctx, keys[0], keys[1].ID) })
	}
	r.recordOrder(ctx, growth.Order{Provider: keys[0].Provider, ID: a.ID, User: me, Status: growth.OrderPlaced})
	return toAppointment(keys[0].Provider, a), nil
}

func (r *Resolver) askDoctor(ctx context.Context, in model.AskDoctorInput) (*model.Consultation, error) {
	me, err := user(ctx)
	if err != nil {
		return nil, err
	}
	if err := required("question", in.Question); err != nil {
		return nil, err
	}
	ask := connectors.AskDoctorInput{UserID: me, Specialty: in.Specialty, Question: in.Question, IdempotencyKey: deref(in.IdempotencyKey)}
	var provider string
	switch {
	case in.DoctorID != nil:
		k, err := decode(*in.DoctorID, gid.Doctor)
		if err != nil {
			return nil, err
		}
		provider, ask.DoctorID = k.Provider, k.ID
	case in.Provider != nil:
		k, err := decode(*in.Provider, gid.Provider)
		if err != nil {
			return nil, err
		}
		provider = k.Provider
		if err := required("specialty", in.Specialty); err != nil {
			return nil, err
		}
	default:
		return nil, connectors.Errorf(connectors.KindInvalid, "give doctorId, or provider and specialty")
	}
	c, err := r.gw.AskDoctor(ctx, provider, ask)
	if err != nil {
		return nil, err
	}
	return toConsultation(provider, c), nil
}

func (r *Resolver) requestLegal(ctx context.Context, in model.RequestLegalConsultationInput) (*model.LegalConsultation, error) {
	me, err := user(ctx)
	if err != nil {
		return nil, err
	}
	k, err := decode(in.LawyerID, gid.Lawyer)
	if err != nil {
		return nil, err
	}
	if err := required("topic", in.Topic); err != nil {
		return nil, err
	}
	c, err := r.gw.RequestConsultation(ctx, k.Provider, connectors.LegalConsultationInput{
		UserID: me, LawyerID: k.ID, Topic: in.Topic, Description: in.Description, IdempotencyKey: deref(in.IdempotencyKey)})
	if err != nil {
		return nil, err
	}
	r.recordOrder(ctx, growth.Order{Provider: k.Provider, ID: c.ID, User: me, Status: growth.OrderPlaced})
	return toLegalConsultation(k.Provider, c), nil
}

func (r *Resolver) apply(ctx context.Context, in model.ApplyForGovServiceInput) (*model.ServiceApplication, error) {
	me, err := user(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := sameProvider(idOf{in.ServiceID, gid.GovService}, idOf{in.OfficeID, gid.Office}, idOf{in.SlotID, gid.OfficeSlot})
	if err != nil {
		return nil, err
	}
	a, err := r.gw.Apply(ctx, keys[0].Provider, connectors.ApplicationInput{
		UserID: me, ServiceID: keys[0].ID, OfficeID: keys[1].ID, SlotID: keys[2].ID,
		Documents: in.Documents, IdempotencyKey: deref(in.IdempotencyKey)})
	if err != nil {
		return nil, slotRefusal(err, func() (bool, error) { return r.officeSlotBookable(ctx, keys[0], keys[1].ID, keys[2].ID) })
	}
	r.recordOrder(ctx, growth.Order{Provider: keys[0].Provider, ID: a.ID, User: me, Status: growth.OrderPlaced})
	return toApplication(keys[0].Provider, a), nil
}

// Changing bookings: decode the booking's ID (its provider comes with it),
// the signed-in user is the owner the provider checks.

func (r *Resolver) cancelAppointment(ctx context.Context, id string) (*model.Appointment, error) {
	me, k, err := mine(ctx, id, gid.Appointment)
	if err != nil {
		return nil, err
	}
	a, err := r.gw.CancelAppointment(ctx, k.Provider, me, k.ID)
	if err != nil {
		return nil, err
	}
	r.recordOrder(ctx, growth.Order{Provider: k.Provider, ID: k.ID, User: me, Status: growth.OrderCancelled})
	return toAppointment(k.Provider, a), nil
}

func (r *Resolver) rescheduleAppointment(ctx context.Context, id, slotID string) (*model.Appointment, error) {
	me, k, err := mine(ctx, id, gid.Appointment)
	if err != nil {
		return nil, err
	}
	slot, err := decode(slotID, gid.AppointmentSlot)
	if e, ok := connectors.AsError(err); ok {
		return nil, &ArgError{Arg: "slotId", Err: e}
	}
	if slot.Provider != k.Provider {
		return nil, &ArgError{Arg: "slotId", Err: connectors.Errorf(connectors.KindInvalid, "the slot belongs to another provider than the appointment")}
	}
	a, err := r.gw.RescheduleAppointment(ctx, k.Provider, me, k.ID, slot.ID)
	if err != nil {
		return nil, err
	}
	return toAppointment(k.Provider, a), nil
}

func (r *Resolver) cancelLegalConsultation(ctx context.Context, id string) (*model.LegalConsultation, error) {
	me, k, err := mine(ctx, id, gid.LegalConsultation)
	if err != nil {
		return nil, err
	}
	c, err := r.gw.CancelLegalConsultation(ctx, k.Provider, me, k.ID)
	if err != nil {
		return nil, err
	}
	r.recordOrder(ctx, growth.Order{Provider: k.Provider, ID: k.ID, User: me, Status: growth.OrderCancelled})
	return toLegalConsultation(k.Provider, c), nil
}

func (r *Resolver) cancelApplication(ctx context.Context, id string) (*model.ServiceApplication, error) {
	me, k, err := mine(ctx, id, gid.ServiceApplication)
	if err != nil {
		return nil, err
	}
	a, err := r.gw.CancelApplication(ctx, k.Provider, me, k.ID)
	if err != nil {
		return nil, err
	}
	r.recordOrder(ctx, growth.Order{Provider: k.Provider, ID: k.ID, User: me, Status: growth.OrderCancelled})
	return toApplication(k.Provider, a), nil
}

func (r *Resolver) rescheduleApplication(ctx context.Context, id, slotID string) (*model.ServiceApplication, error) {
	me, k, err := mine(ctx, id, gid.ServiceApplication)
	if err != nil {
		return nil, err
	}
	slot, err := decode(slotID, gid.OfficeSlot)
	if e, ok := connectors.AsError(err); ok {
		return nil, &ArgError{Arg: "slotId", Err: e}
	}
	if slot.Provider != k.Provider {
		return nil, &ArgError{Arg: "slotId", Err: connectors.Errorf(connectors.KindInvalid, "the slot belongs to another provider than the application")}
	}
	a, err := r.gw.RescheduleApplication(ctx, k.Provider, me, k.ID, slot.ID)
	if err != nil {
		return nil, err
	}
	return toApplication(k.Provider, a), nil
}

// mine is the signed-in user and the decoded ID of one of their records.
func mine(ctx context.Context, id string, kind gid.Kind) (string, gateway.Key, error) {
	me, err := user(ctx)
	if err != nil {
		return "", gateway.Key{}, err
	}
	k, err := decode(id, kind)
	return me, k, err
}
