package growth

import (
	"context"
	"fmt"
	"time"

	"github.com/plaza-gateway/plaza/ledger"
)

// maxOrderAmount bounds one order's value as reported (ten million yuan).
const maxOrderAmount = 1_000_000_000

// RecordOrder takes an order or booking record (a provider's status
// webhook, or the gateway's own mutation) and posts what it earns: the
// per-order reward when it completes, the first-order bonus for the user's
// first completed order with the provider, and their reversals when a
// completed order is cancelled. A PLACED record (the gateway's own
// placeGroceryOrder, bookDoctorAppointment, requestLegalConsultation,
// applyForGovService) moves no money: it names the user and the amount,
// which a later record without them keeps, and counts in the cancellation
// rate. Every posting is keyed by the order and the status, so a record
// delivered again, by any instance, posts nothing new.
func (s *Service) RecordOrder(ctx context.Context, o Order) error {
	if o.Currency == "" && o.Amount == 0 {
		o.Currency = s.programs.Currency // a record without money facts
	}
	if err := s.CheckOrder(o); err != nil {
		return err
	}
	if o.At.IsZero() {
		o.At = s.now().UTC()
	}
	ch, err := s.store.RecordOrder(ctx, o)
	if err != nil {
		return err
	}
	o.Amount, o.User, o.City = ch.Amount, ch.User, ch.City
	completed := completedKey(o.Provider, o.ID)
	switch o.Status {
	case OrderCompleted:
		if ch.Previous == OrderCancelled {
			return nil // a late completion of a cancelled order earns nothing
		}
		if s.programs.PerOrder > 0 {
			if _, err := s.ledger.Reward(ctx, ledger.Movement{Key: completed, Provider: o.Provider, Currency: o.Currency,
				Amount: s.programs.PerOrder, Memo: "order " + o.ID, City: o.City}); err != nil {
				return fmt.Errorf("growth: reward order %s: %w", o.ID, err)
			}
		}
		if ch.FirstForUser && s.programs.FirstOrder > 0 {
			if err := s.firstOrderBonus(ctx, o); err != nil {
				return err
			}
		}
		if err := s.collect(ctx, o); err != nil {
			return fmt.Errorf("growth: loan share of order %s: %w", o.ID, err)
		}
	case OrderCancelled:
		if s.programs.PerOrder > 0 {
			if _, err := s.ledger.Reverse(ctx, completed+":cancelled", o.Provider, o.Currency, completed, "order "+o.ID+" cancelled"); err != nil {
				return fmt.Errorf("growth: reverse order %s: %w", o.ID, err)
			}
		}
		if o.User != "" && s.programs.FirstOrder > 0 {
			// The bonus goes with the order that earned it.
			if e, err := s.ledger.Entry(ctx, firstOrderKey(o.Provider, o.User)); err == nil && e.Memo == "order "+o.ID {
				return s.reverseBonus(ctx, o)
			}
		}
	}
	return nil
}

// firstOrderBonus posts the bonus of the user's first completed order o.
// A cancellation of o taken while this ran (by another instance) may have
// found no bonus to reverse: once posted, the bonus is reversed here if o
// is cancelled by then. One of the two sees the other (each reads after it
// wrote), and the reversal is once by its key.
func (s *Service) firstOrderBonus(ctx context.Context, o Order) error {
	p, err := s.ledger.Reward(ctx, ledger.Movement{Key: firstOrderKey(o.Provider, o.User), Provider: o.Provider,
		Currency: o.Currency, Amount: s.programs.FirstOrder, Memo: "order " + o.ID, City: o.City})
	if err != nil {
		return fmt.Errorf("growth: first-order bonus %s: %w", o.ID, err)
	}
	if p.Voided || p.Entry.Memo != "order "+o.ID {
		return nil
	}
	status, err := s.store.OrderStatus(ctx, o.Provider, o.ID)
	if err != nil {
		return fmt.Errorf("growth: first-order bonus %s: %w", o.ID, err)
	}
	if status == OrderCancelled {
		return s.reverseBonus(ctx, o)
	}
	return nil
}

// reverseBonus reverses the first-order bonus o earned.
func (s *Service) reverseBonus(ctx context.Context, o Order) error {
	bonus := firstOrderKey(o.Provider, o.User)
	if _, err := s.ledger.Reverse(ctx, bonus+":cancelled", o.Provider, o.Currency, bonus, "order "+o.ID+" cancelled"); err != nil {
		return fmt.Errorf("growth: reverse first-order bonus %s: %w", o.ID, err)
	}
	return nil
}

// CheckOrder reports what RecordOrder would refuse in o (an *Error with
// code Invalid), without storing anything: a webhook carrying several
// records checks them all before it records any, so a batch with a bad
// record is refused whole.
func (s *Service) CheckOrder(o Order) error {
	switch {
	case o.Provider == "" || o.ID == "" || len(o.ID) > 128:
		return errorf(Invalid, "orderId", "an order id has 1 to 128 characters")
	case o.Status != OrderPlaced && o.Status != OrderCompleted && o.Status != OrderCancelled:
		return errorf(Invalid, "status", "status must be PLACED, COMPLETED or CANCELLED")
	case o.Amount < 0 || o.Amount > maxOrderAmount:
		return errorf(Invalid, "amount", "amount must be 0 to %d minor units", maxOrderAmount)
	case o.Currency != s.programs.Currency && !(o.Currency == "" && o.Amount == 0):
		return errorf(Invalid, "currency", "orders are settled in %s", s.programs.Currency)
	case len(o.User) > 128 || len(o.City) > 64:
		return errorf(Invalid, "user", "user at most 128 and city at most 64 characters")
	}
	return nil
}

// The reward programs' ledger keys begin with their program's prefix:
// the analysts' totals tell the programs apart by it (a reversal by its
// original's key).
const (
	prefixPerOrder   = "order"
	prefixFirstOrder = "first-order"
	prefixMonthlyOK  = "monthly-ok"
)

func completedKey(provider, order string) string {
	return prefixPerOrder + ":" + provider + ":" + order + ":completed"
}

func firstOrderKey(provider, user string) string {
	return prefixFirstOrder + ":" + provider + ":" + user
}

// MonthlyBonus credits the monthly-OK bonus for month (its first day) if
// the provider spent all of it OK: no transition recorded from the month's
// start, and OK at its end. Posted once per provider and month.
func (s *Service) MonthlyBonus(ctx context.Context, provider string, month time.Time) (bool, error) {
	if s.programs.MonthlyOK == 0 {
		return false, nil
	}
	start := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	if s.now().Before(start.AddDate(0, 1, 0)) {
		return false, errorf(Invalid, "month", "the month has not ended")
	}
	level, _, err := s.store.Level(ctx, provider)
	if err != nil {
		return false, err
	}
	ts, err := s.store.Transitions(ctx, provider, 1)
	if err != nil {
		return false, err
	}
	if level != LevelOK || len(ts) > 0 && !ts[0].At.Before(start) {
		return false, nil
	}
	p, err := s.ledger.Reward(ctx, ledger.Movement{Key: fmt.Sprintf("%s:%s:%s", prefixMonthlyOK, provider, start.Format("2006-01")),
		Provider: provider, Currency: s.programs.Currency, Amount: s.programs.MonthlyOK, Memo: "OK all of " + start.Format("January 2006")})
	return err == nil && !p.Duplicate, err
}

// Balances returns the provider's balances in the programs' currency.
func (s *Service) Balances(ctx context.Context, provider string) (ledger.Balances, error) {
	return s.ledger.Balances(ctx, provider, s.programs.Currency)
}

// History returns the provider's ledger entries, newest first.
func (s *Service) History(ctx context.Context, provider string, limit int) ([]ledger.Entry, error) {
	if limit < 1 || limit > 100 {
		return nil, errorf(Invalid, "first", "first must be 1 to 100")
	}
	return s.ledger.Entries(ctx, provider, limit)
}
