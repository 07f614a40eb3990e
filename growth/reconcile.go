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
	Orders  int
	Totals  map[string]int64 // every posting summed by currency: zero when balanced
	Problem []string         // each mismatch, for the log and the analysts
}

// maxProblems bounds what one reconciliation reports (the count of orders
// checked says how far it got).
const maxProblems = 100

// Reconcile checks the ledger against the order records of the day that
// starts at day (UTC): every order completed that day has its reward, every
// one of them cancelled since has its reversal, and the ledger's postings
// sum to zero. It reads the day's orders a page at a time.
func (s *Service) Reconcile(ctx context.Context, day time.Time) (Reconciliation, error) {
	from := day.UTC().Truncate(24 * time.Hour)
	r := Reconciliation{Day: from}
	var after [2]string
	for {
		page, err := s.store.CompletedOrders(ctx, from, from.Add(24*time.Hour), after, 500)
		if err != nil {
			return r, err
		}
		for _, o := range page {
			r.Orders++
			if err := s.reconcileOrder(ctx, o); err != nil {
				if !errors.Is(err, errMismatch) {
					return r, err
				}
				if len(r.Problem) < maxProblems {
					r.Problem = append(r.Problem, err.Error())
				}
			}
		}
		if len(page) < 500 {
			break
		}
		after = [2]string{page[len(page)-1].Provider, page[len(page)-1].ID}
	}
	totals, err := s.ledger.Totals(ctx)
	if err != nil {
		return r, err
	}
	r.Totals = totals
	for c, n := range totals {
		if n != 0 {
			r.Problem = append(r.Problem, fmt.Sprintf("the ledger's postings in %s sum to %d, not zero", c, n))
		}
	}
	return r, nil
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

// RunReconciliation reconciles the previous day every interval (a day),
// on the instance that holds the job lock then, and hands each result to
// report (which logs it and counts mismatches in a metric).
func (s *Service) RunReconciliation(ctx context.Context, every time.Duration, report func(Reconciliation, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var r Reconciliation
		ran, err := s.store.WithJobLock(ctx, func(ctx context.Context) (err error) {
			r, err = s.Reconcile(ctx, s.now().UTC().AddDate(0, 0, -1))
			return err
		})
		if ran || err != nil {
			report(r, err)
		}
	}
}
