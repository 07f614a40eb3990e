package conformance

import (
	"context"
	"errors"
	"fmt"

	"github.com/plaza-gateway/plaza/connectors"
)

// checkReschedule: the kit's user books a slot and moves the booking to
// another free slot of the same doctor or office (appointments, contract
// 1.3; applications, optional in 1.4). Another user's move is NOT_FOUND;
// the owner's answers the same record, in the new slot, in the status it
// had, and in one step frees the old slot and takes the new one; a move
// into a slot that was taken meanwhile is CONFLICT and leaves the booking
// where it was; a slot ID the provider never issued is refused. Verticals
// without rescheduling (orders, legal consultations), connectors without
// the capability and providers that answer it is not supported are
// skipped. Bookings are cancelled afterwards where the provider lets
// users cancel.
func checkReschedule(ctx context.Context, e *env) (string, error) {
	if e.v.reschedule == nil {
		return "", skipf("the connector cannot reschedule bookings of %ss", e.v.entity)
	}
	m, err := e.prepare(ctx, false)
	if err != nil {
		return "", err
	}
	if m.at == nil {
		return "", skipf("%s takes no slot to move", m.what)
	}
	to, err := e.otherFreeSlot(ctx, m)
	if err != nil {
		return "", err
	}
	moved := m.at(to)
	mine, err := e.do(ctx, m, e.key("reschedule"))
	if err != nil {
		return "", fmt.Errorf("%s: %w", m.what, err)
	}
	created := []string{mine.id}
	defer func() { e.cancelAll(context.WithoutCancel(ctx), created...) }()
	move := func(user, id, slot string) (item, error) {
		cctx, done := e.call(ctx)
		defer done()
		return e.v.reschedule(cctx, user, id, slot)
	}

	if _, err := move(e.cfg.user+"-other", mine.id, to); connectors.KindOf(err) != connectors.KindNotFound {
		if errors.Is(err, errors.ErrUnsupported) {
			return "", skipf("the provider does not let users reschedule (%v)", err)
		}
		return "", fmt.Errorf("another user's reschedule of %s: got %v, want NOT_FOUND", mine.id, err)
	}
	got, err := move(e.cfg.user, mine.id, to)
	if err != nil {
		return "", fmt.Errorf("reschedule of %s from %s to %s: %w", mine.id, m.slot, to, err)
	}
	if err := connectors.Validate(got.value); err != nil {
		return "", fmt.Errorf("rescheduled %s: %w", mine.id, err)
	}
	if got.id != mine.id || got.user != e.cfg.user {
		return "", fmt.Errorf("rescheduling %s answered %s of %q, want the same booking of %q", mine.id, got.id, got.user, e.cfg.user)
	}
	if s := slotOf(got.value); s != to {
		return "", fmt.Errorf("rescheduled %s is in slot %q, want %q", mine.id, s, to)
	}
	if was, is := statusOf(mine.value), statusOf(got.value); was != is {
		return "", fmt.Errorf("rescheduling %s changed its status from %s to %s", mine.id, was, is)
	}
	if err := e.slotLevels(ctx, m, 1, moved, 0); err != nil {
		return "", fmt.Errorf("after moving %s from %s to %s: %w", mine.id, m.slot, to, err)
	}

	// The old slot is free again: the kit's user books it with a second
	// booking, and moving the first back into it must be refused.
	second, err := e.do(ctx, m, e.key("reschedule-taken"))
	if err != nil {
		return "", fmt.Errorf("booking the freed slot %s again: %w", m.slot, err)
	}
	created = append(created, second.id)
	if _, err := move(e.cfg.user, mine.id, m.slot); connectors.KindOf(err) != connectors.KindConflict {
		return "", fmt.Errorf("moving %s into slot %s, taken by %s: got %v, want CONFLICT", mine.id, m.slot, second.id, err)
	}
	if err := e.slotLevels(ctx, m, 0, moved, 0); err != nil {
		return "", fmt.Errorf("after a refused move of %s: %w", mine.id, err)
	}
	if err := e.inSlot(ctx, mine.id, to); err != nil {
		return "", fmt.Errorf("after a refused move: %w", err)
	}

	unknown := e.key("unknown-slot")
	if _, err := move(e.cfg.user, mine.id, unknown); err == nil || connectors.KindOf(err) != connectors.KindNotFound && connectors.KindOf(err) != connectors.KindInvalid {
		return "", fmt.Errorf("moving %s into slot %s, which the provider never issued: got %v, want NOT_FOUND or BAD_USER_INPUT", mine.id, unknown, err)
	}
	if err := e.inSlot(ctx, mine.id, to); err != nil {
		return "", fmt.Errorf("after a move into an unknown slot: %w", err)
	}
	return fmt.Sprintf("%s moved from %s to %s (old slot free, new taken, status kept); into a taken slot CONFLICT, an unknown slot refused, another user's NOT_FOUND", mine.id, m.slot, to), nil
}

// otherFreeSlot is a free slot of m's doctor or office other than m's own.
func (e *env) otherFreeSlot(ctx context.Context, m *mutation) (string, error) {
	cctx, done := e.call(ctx)
	defer done()
	free, err := m.free(cctx)
	if err != nil {
		return "", fmt.Errorf("reading the free slots: %w", err)
	}
	for _, s := range free {
		if s != m.slot {
			return s, nil
		}
	}
	return "", noFixture("second free slot beside " + m.slot)
}

// slotLevels checks that a's slot has aFree and b's slot bFree units left
// (1 free, 0 taken).
func (e *env) slotLevels(ctx context.Context, a *mutation, aFree int, b *mutation, bFree int) error {
	for _, c := range []struct {
		m    *mutation
		want int
	}{{a, aFree}, {b, bFree}} {
		got, err := e.level(ctx, c.m)
		if err != nil {
			return err
		}
		if got != c.want {
			return fmt.Errorf("slot %s is %s, want %s", c.m.slot, freeOrTaken(got), freeOrTaken(c.want))
		}
	}
	return nil
}

func freeOrTaken(n int) string {
	if n > 0 {
		return "free"
	}
	return "taken"
}

// inSlot checks that booking id, read back, is in slot.
func (e *env) inSlot(ctx context.Context, id, slot string) error {
	cctx, done := e.call(ctx)
	defer done()
	res, err := e.v.records(cctx, []string{id})
	if err != nil || len(res) != 1 || res[0].err != nil {
		return fmt.Errorf("reading %s back: %v %+v", id, err, res)
	}
	if s := slotOf(res[0].value); s != slot {
		return fmt.Errorf("%s is in slot %q, want %q", id, s, slot)
	}
	return nil
}

// cancelAll cancels the kit user's bookings where the connector can (best
// effort: a failure here does not fail the check).
func (e *env) cancelAll(ctx context.Context, ids ...string) {
	if e.v.cancel == nil {
		return
	}
	for _, id := range ids {
		cctx, done := e.call(ctx)
		_, _ = e.v.cancel(cctx, e.cfg.user, id)
		done()
	}
}

// slotOf is the slot a booking takes ("" for records without one).
func slotOf(v any) string {
	switch x := v.(type) {
	case connectors.Appointment:
		return x.SlotID
	case connectors.ServiceApplication:
		return x.SlotID
	}
	return ""
}
