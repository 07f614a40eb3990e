package conformance

import (
	"context"
	"fmt"

	"github.com/plaza-gateway/plaza/connectors"
)

// checkCancel: the kit's user creates a booking and cancels it. Another
// user's cancel is NOT_FOUND; the owner's answers the record CANCELLED (a
// status of its kind's list) and gives back what the booking took (the
// slot, the stock); a second cancel is CONFLICT. A provider of contract
// 1.2 without cancellation is skipped (its bookings stay until they pass).
func checkCancel(ctx context.Context, e *env) (string, error) {
	if e.v.cancel == nil {
		return "", skipf("the connector cannot cancel %ss (contract %s)", e.v.entity, legacy(e.desc.ContractVersion))
	}
	m, err := e.prepare(ctx, false)
	if err != nil {
		return "", err
	}
	before := -1
	if m.level != nil {
		if before, err = e.level(ctx, m); err != nil {
			return "", err
		}
	}
	mine, err := e.do(ctx, m, e.key("cancel"))
	if err != nil {
		return "", fmt.Errorf("%s: %w", m.what, err)
	}
	cancel := func(user string) (item, error) {
		cctx, done := e.call(ctx)
		defer done()
		return e.v.cancel(cctx, user, mine.id)
	}
	if _, err := cancel(e.cfg.user + "-other"); connectors.KindOf(err) != connectors.KindNotFound {
		if k := connectors.KindOf(err); k == connectors.KindInvalid && !connectors.ContractAtLeast(e.contractVersion(ctx), connectors.ContractDisplay) {
			e.undo(context.WithoutCancel(ctx), m, mine.id)
			return "", skipf("contract %s: the provider does not let users cancel (%v)", legacy(e.contractVersion(ctx)), err)
		}
		return "", fmt.Errorf("another user's cancel of %s: got %v, want NOT_FOUND", mine.id, err)
	}
	got, err := cancel(e.cfg.user)
	if err != nil {
		return "", fmt.Errorf("cancel of %s: %w", mine.id, err)
	}
	if err := connectors.Validate(got.value); err != nil {
		return "", fmt.Errorf("cancelled %s: %w", mine.id, err)
	}
	if s := statusOf(got.value); s != connectors.StatusCancelled {
		return "", fmt.Errorf("cancelled %s has status %q, want CANCELLED", mine.id, s)
	}
	if _, err := cancel(e.cfg.user); connectors.KindOf(err) != connectors.KindConflict {
		return "", fmt.Errorf("a second cancel of %s: got %v, want CONFLICT", mine.id, err)
	}
	back := ""
	if m.level != nil {
		after, err := e.level(ctx, m)
		if err != nil {
			return "", err
		}
		if after != before {
			return "", fmt.Errorf("after the cancel the resource is at %d, was %d before the %s", after, before, m.what)
		}
		back = fmt.Sprintf(", resource back at %d", after)
	}
	return fmt.Sprintf("%s cancelled: CANCELLED%s; a second cancel CONFLICT, another user's NOT_FOUND", mine.id, back), nil
}

// statusOf is the status of a record of any kind.
func statusOf(v any) string {
	switch x := v.(type) {
	case connectors.GroceryOrder:
		return x.Status
	case connectors.Appointment:
		return x.Status
	case connectors.LegalConsultation:
		return x.Status
	case connectors.ServiceApplication:
		return x.Status
	case connectors.Consultation:
		return x.Status
	}
	return ""
}
