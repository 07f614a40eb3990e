package growth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/plaza-gateway/plaza/ledger"
)

// Reconciliation is what a day's reconciliation found.
type Reconciliation struct {
	Day     time.Time
	Orders  int              // order records completed that day, checked
	Payouts int              // payouts of that day, checked
	Totals  map[string]int64 // every posting summed by currency: zero when balanced
	Problem []string         // each mismatch, for the log, the metric and the operators' view
	RanAt   time.Time
}

// maxProblems bounds what one reconciliation reports (the counts of orders
// and payouts checked say how far it got).
const maxProblems = 100

// reconcilePage is how many records reconciliation reads at a time.
const reconcilePage = 500

// Reconcile compares the three records of money for the day that starts
// at day (UTC) and reports every mismatch:
//   - order records and the ledger: every order completed that day has its
//     reward, every one of them cancelled since has its reversal;
//   - payouts and the ledger: every payout of the day PAID has its ledger
//     entry of the same amount, none PENDING or VOID has one, none is left
//     PENDING (a run that stopped and was not finished that day), and
//     every payout entry posted that day has its PAID payout;
//   - ledger balances: the running balances of every provider touched by
//     the day's orders and payouts equal the sum of their postings, and
//     all postings sum to zero.
//
// It reads the day's records a page at a time; the run is stored for the
// operators' view (Reconciliations).
func (s *Service) Reconcile(ctx context.Context, day time.Time) (Reconciliation, error) {
	from := day.UTC().Truncate(24 * time.Hour)
	r := Reconciliation{Day: from}
	problem := func(format string, args ...any) {
		if len(r.Problem) < maxProblems {
			r.Problem = append(r.Problem, fmt.Sprintf(format, args...))
		}
	}
	// Providers to audit, one page at a time: each page's providers are
	// audited before the next page is read, so memory stays bounded.
	audit := func(providers map[string]bool) error {
		for p := range providers {
			drift, err := s.ledger.Audit(ctx, p, s.programs.Currency)
			if err != nil {
				return err
			}
			for _, d := range drift {
				problem("%s's running balance of %s is %d but its postings sum to %d", p, d.Account, d.Running, d.Posted)
			}
		}
		return nil
	}
	var after [2]string
	for {
		page, err := s.store.CompletedOrders(ctx, from, from.Add(24*time.Hour), after, reconcilePage)
		if err != nil {
			return r, err
		}
		touched := map[string]bool{}
		for _, o := range page {
			r.Orders++
			touched[o.Provider] = true
			if err := s.reconcileOrder(ctx, o); errors.Is(err, errMismatch) {
				problem("%s", err)
			} else if err != nil {
				return r, err
			}
		}
		if err := audit(touched); err != nil {
			return r, err
		}
		if len(page) < reconcilePage {
			break
		}
		after = [2]string{page[len(page)-1].Provider, page[len(page)-1].ID}
	}
	if err := s.reconcilePayouts(ctx, &r, problem, audit); err != nil {
		return r, err
	}
	totals, err := s.ledger.Totals(ctx)
	if err != nil {
		return r, err
	}
	r.Totals = totals
	for c, n := range totals {
		if n != 0 {
			problem("the ledger's postings in %s sum to %d, not zero", c, n)
		}
	}
	r.RanAt = s.now().UTC()
	return r, s.store.SaveReconciliation(ctx, r)
}

// reconcilePayouts checks the day's payouts against the ledger both ways.
func (s *Service) reconcilePayouts(ctx context.Context, r *Reconciliation, problem func(string, ...any), audit func(map[string]bool) error) error {
	var after string
	for {
		page, err := s.store.PayoutsOn(ctx, r.Day, after, reconcilePage)
		if err != nil {
			return err
		}
		touched := map[string]bool{}
		for _, p := range page {
			r.Payouts++
			touched[p.Provider] = true
			e, err := s.ledger.Entry(ctx, PayoutKey(p.ID))
			posted := err == nil
			if err != nil && !errors.Is(err, ledger.ErrNotFound) {
				return err
			}
			switch {
			case p.Status == PayoutPaid && !posted:
				problem("payout %s of %s is PAID but has no ledger entry", p.ID, p.Provider)
			case p.Status != PayoutPaid && posted:
				problem("payout %s of %s is %s but the ledger paid it", p.ID, p.Provider, p.Status)
			case p.Status == PayoutPending:
				problem("payout %s of %s is still PENDING: recorded, never posted", p.ID, p.Provider)
			case posted && (e.Amount(ledger.Payable(p.Provider)) != p.Amount || e.Provider != p.Provider):
				problem("payout %s of %s is %d %s but the ledger paid %d to %s", p.ID, p.Provider, p.Amount, p.Currency,
					e.Amount(ledger.Payable(p.Provider)), e.Provider)
			}
		}
		if err := audit(touched); err != nil {
			return err
		}
		if len(page) < reconcilePage {
			break
		}
		after = page[len(page)-1].ID
	}
	after = ""
	for {
		page, err := s.ledger.EntriesOfKind(ctx, ledger.KindPayout, r.Day, r.Day.Add(24*time.Hour), after, reconcilePage)
		if err != nil {
			return err
		}
		for _, e := range page {
			id := e.Key[len(PayoutKey("")):]
			p, ok, err := s.store.Payout(ctx, id)
			if err != nil {
				return err
			}
			if !ok || p.Status != PayoutPaid {
				problem("the ledger paid %d to %s (%s) without a PAID payout", e.Amount(ledger.Payable(e.Provider)), e.Provider, e.Key)
			}
		}
		if len(page) < reconcilePage {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

var errMismatch = errors.New("mismatch")

func (s *Service) reconcileOrder(ctx context.Context, o Order) error {
	if s.programs.PerOrder == 0 {
		return nil
	}
	key := completedKey(o.Provider, o.ID)
	e, err := s.ledger.Entry(ctx, key)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return fmt.Errorf("%w: %s's order %s completed without its reward", errMismatch, o.Provider, o.ID)
	case err != nil:
		return err
	case e.Provider != o.Provider:
		return fmt.Errorf("%w: the reward of %s's order %s was posted to %s", errMismatch, o.Provider, o.ID, e.Provider)
	}
	if o.Status != OrderCancelled {
		return nil
	}
	if _, err := s.ledger.Entry(ctx, key+":cancelled"); errors.Is(err, ledger.ErrNotFound) {
		return fmt.Errorf("%w: %s's order %s was cancelled but keeps its reward", errMismatch, o.Provider, o.ID)
	} else if err != nil {
		return err
	}
	return nil
}

// Reconciliations returns the stored reconciliation runs, newest first.
func (s *Service) Reconciliations(ctx context.Context, limit int) ([]Reconciliation, error) {
	if limit < 1 || limit > 100 {
		return nil, errorf(Invalid, "first", "first must be 1 to 100")
	}
	return s.store.Reconciliations(ctx, limit)
}
