package growth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/plaza-gateway/plaza/ledger"
)

// payoutPage is how many owed providers a payout run reads at a time.
const payoutPage = 500

// PayoutRun is what one day's payout run did.
type PayoutRun struct {
	Day    time.Time
	Paid   int   // payouts posted
	Amount int64 // paid out in total
	Repaid int64 // moved to loans first
	Void   int   // recorded, then found above the payable (a reversal in between)
	// Stale is how many PENDING payouts of earlier days the run finished
	// (counted in Paid or Void as well).
	Stale int
}

func payoutID(provider string, day time.Time) string {
	return "payout_" + day.Format("20060102") + "_" + provider
}

// PayoutKey is the ledger key of payout id.
func PayoutKey(id string) string { return "payout:" + id }

// Payouts settles every provider's payable on day (its date, UTC):
// rewards credited since the last payout, less what its open loan is in
// arrears, which moves to the loan first. Each payout is recorded PENDING,
// posted to the ledger (key payout:<id>) and marked PAID, so a run that
// stopped half-way (a crash, a lost connection) is finished by the next
// one: the record keeps its amount, the posting is once per key. The run
// pages through the providers the ledger says are owed money, so its cost
// follows them, not the directory.
func (s *Service) Payouts(ctx context.Context, day time.Time) (PayoutRun, error) {
	day = day.UTC().Truncate(24 * time.Hour)
	run := PayoutRun{Day: day}
	// First the payouts an earlier run recorded and did not finish, this
	// day's or an earlier one's (a run that stopped and a day that passed
	// before any instance ran again): each is posted under its own key, so
	// one the ledger took before the stop is marked PAID, not paid twice.
	var after string
	for {
		page, err := s.store.PendingPayouts(ctx, day, after, payoutPage)
		if err != nil {
			return run, err
		}
		for _, p := range page {
			if !p.Day.Equal(day) {
				run.Stale++
			}
			if err := s.pay(ctx, p, &run); err != nil {
				return run, err
			}
		}
		if len(page) < payoutPage {
			break
		}
		after = page[len(page)-1].ID
	}
	after = ""
	var mu sync.Mutex // guards run
	for {
		owed, err := s.ledger.Payables(ctx, s.programs.Currency, after, payoutPage)
		if err != nil {
			return run, err
		}
		// Providers are paid payoutWorkers at a time: each payout is a
		// dozen round trips and three commits of its own provider's
		// records (the ledger locks per provider), so one at a time the
		// run is bound by latency, not by the database.
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(payoutWorkers)
		for _, o := range owed {
			g.Go(func() error {
				var mine PayoutRun
				if err := s.payout(gctx, o.Provider, day, &mine); err != nil {
					return fmt.Errorf("growth: payout of %s: %w", o.Provider, err)
				}
				mu.Lock()
				run.Paid, run.Amount, run.Repaid, run.Void = run.Paid+mine.Paid, run.Amount+mine.Amount, run.Repaid+mine.Repaid, run.Void+mine.Void
				mu.Unlock()
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return run, err
		}
		if len(owed) < payoutPage {
			return run, nil
		}
		after = owed[len(owed)-1].Provider
	}
}

// payoutWorkers is how many providers a payout run pays at once.
const payoutWorkers = 8

// payout records and pays provider's payout of day.
func (s *Service) payout(ctx context.Context, provider string, day time.Time, run *PayoutRun) error {
	id := payoutID(provider, day)
	if _, ok, err := s.store.Payout(ctx, id); err != nil || ok {
		return err // done (or being finished by the sweep above)
	}
	var repaid int64
	if l, ok, err := s.openLoan(ctx, provider); err != nil {
		return err
	} else if ok {
		st, err := s.Standing(ctx, l)
		if err != nil {
			return err
		}
		if st.Arrears > 0 {
			p, err := s.ledger.Repay(ctx, "loan:"+l.ID+":payout:"+day.Format("20060102"), provider, l.Currency, st.Arrears)
			if err != nil {
				return err
			}
			repaid = -p.Entry.Amount(ledger.Loan(provider))
			if _, err := s.settle(ctx, l); err != nil {
				return err
			}
		}
	}
	b, err := s.ledger.Balances(ctx, provider, s.programs.Currency)
	if err != nil {
		return err
	}
	run.Repaid += repaid
	if b.Payable <= 0 {
		return nil // all of it went to the loan
	}
	p, _, err := s.store.CreatePayout(ctx, Payout{ID: id, Provider: provider, Currency: s.programs.Currency, Amount: b.Payable,
		Repaid: repaid, Day: day, Status: PayoutPending, CreatedAt: s.now().UTC()})
	if err != nil {
		return err
	}
	return s.pay(ctx, p, run)
}

// pay posts a recorded payout and marks it.
func (s *Service) pay(ctx context.Context, p Payout, run *PayoutRun) error {
	status := PayoutPaid
	_, err := s.ledger.Payout(ctx, PayoutKey(p.ID), p.Provider, p.Currency, p.Amount)
	switch {
	case errors.Is(err, ledger.ErrConflict):
		status = PayoutVoid // the payable shrank since it was recorded; the next day's run pays what is left
		s.log.Warn("growth: payout above the payable, voided", "payout", p.ID, "amount", p.Amount, "err", err)
	case err != nil:
		return err
	}
	if err := s.store.SetPayoutStatus(ctx, p.ID, status); err != nil {
		return err
	}
	if status == PayoutPaid {
		run.Paid++
		run.Amount += p.Amount
	} else {
		run.Void++
	}
	return nil
}

// openLoan returns the provider's open loan, if any.
func (s *Service) openLoan(ctx context.Context, provider string) (Loan, bool, error) {
	loans, err := s.store.Loans(ctx, provider)
	if err != nil {
		return Loan{}, false, err
	}
	for _, l := range loans {
		if l.Status == LoanOpen {
			return l, true, nil
		}
	}
	return Loan{}, false, nil
}

// ProviderPayouts returns the provider's payouts, newest first.
func (s *Service) ProviderPayouts(ctx context.Context, provider string, limit int) ([]Payout, error) {
	if limit < 1 || limit > 100 {
		return nil, errorf(Invalid, "first", "first must be 1 to 100")
	}
	return s.store.Payouts(ctx, provider, limit)
}
