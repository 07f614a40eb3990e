package resolvers

import (
	"context"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
)

// Bookings into the past are refused with the argument named, so an app
// can send the user back to the slot picker: BAD_USER_INPUT with
// extensions.field "input.slotId". The provider refuses them (the contract
// lists only upcoming slots and books only those; the demo providers say
// "… has already started"); when it refuses a booking as invalid, the
// gateway reads the slot's parent's upcoming slots and, when the slot is not
// among them (past, another parent's or unknown) or has started by the
// gateway's clock, names the field on the provider's error. The check runs
// only after a refusal: a booking that succeeds costs no extra call.

// slotField is the argument the refusal names.
const slotField = "input.slotId"

// slotRefusal returns err, naming input.slotId when it is a provider's
// BAD_USER_INPUT and bookable says the slot is not an upcoming one.
func slotRefusal(err error, bookable func() (bool, error)) error {
	e, ok := connectors.AsError(err)
	if !ok || e.Kind != connectors.KindInvalid {
		return err
	}
	if ok, lerr := bookable(); lerr == nil && !ok {
		return &ArgError{Arg: slotField, Err: e}
	}
	return err
}

// upcoming reports whether a slot starting at start is still ahead by the
// gateway's clock (a cached list may hold one that has started).
func (r *Resolver) upcoming(start time.Time) bool { return start.After(r.gw.Now()) }

// bookableAmong reports whether slotID is among slots and still ahead.
func bookableAmong[S any](r *Resolver, slots []S, slotID string, idStart func(S) (string, time.Time)) bool {
	for _, s := range slots {
		if id, start := idStart(s); id == slotID {
			return r.upcoming(start)
		}
	}
	return false
}

// deliverySlotBookable reports whether slotID is an upcoming slot of store.
func (r *Resolver) deliverySlotBookable(ctx context.Context, store gateway.Key, slotID string) (bool, error) {
	slots, err := loadRaw(ctx, gateway.DeliverySlots.Of(r.loaders(ctx)), store)
	return err == nil && bookableAmong(r, slots, slotID, func(s connectors.DeliverySlot) (string, time.Time) { return s.ID, s.Start }), err
}

// appointmentSlotBookable reports whether slotID is an upcoming slot of doctor.
func (r *Resolver) appointmentSlotBookable(ctx context.Context, doctor gateway.Key, slotID string) (bool, error) {
	slots, err := loadRaw(ctx, gateway.AppointmentSlots.Of(r.loaders(ctx)), doctor)
	return err == nil && bookableAmong(r, slots, slotID, func(s connectors.AppointmentSlot) (string, time.Time) { return s.ID, s.Start }), err
}

// officeSlotBookable reports whether slotID is an upcoming slot of the
// office under service. An office the service's list does not hold is the
// office's fault, not the slot's: reported bookable, so the provider's
// error stands alone.
func (r *Resolver) officeSlotBookable(ctx context.Context, service gateway.Key, officeID, slotID string) (bool, error) {
	offices, err := loadRaw(ctx, gateway.Offices.Of(r.loaders(ctx)), service)
	if err != nil {
		return false, err
	}
	for _, o := range offices {
		if o.ID == officeID {
			return bookableAmong(r, o.Slots, slotID, func(s connectors.OfficeSlot) (string, time.Time) { return s.ID, s.Start }), nil
		}
	}
	return true, nil
}
