package growth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The periodic jobs, each run once per period (growth_job_runs). Several
// instances run the schedule; a named lock lets one work at a time, the
// job-run record says the period is done, and every posting is keyed by
// its event, so a job that stopped half-way is finished by whichever
// instance comes next and posts nothing twice.
const (
	JobPayouts   = "payouts"    // period: the day paid (YYYY-MM-DD)
	JobReconcile = "reconcile"  // period: the day reconciled, after its payouts
	JobMonthlyOK = "monthly-ok" // period: the month ended (YYYY-MM)
	scheduleLock = "growth-schedule"
)

// DueRun is what one pass of the schedule did.
type DueRun struct {
	Payouts        *PayoutRun
	Reconciliation *Reconciliation
	MonthlyBonuses int // bonuses posted for the month just ended
}

// RunDue runs whatever is due now and not yet done: today's payouts,
// yesterday's reconciliation (once yesterday's payouts are done), and the
// previous month's bonuses. It returns false when another instance holds
// the schedule's lock.
func (s *Service) RunDue(ctx context.Context) (DueRun, bool, error) {
	var out DueRun
	ran, err := s.store.WithNamedLock(ctx, scheduleLock, func(ctx context.Context) error {
		now := s.now().UTC()
		today := now.Truncate(24 * time.Hour)
		yesterday := today.AddDate(0, 0, -1)
		month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
		var errs []error
		if err := s.once(ctx, JobPayouts, today.Format(time.DateOnly), func() error {
			r, err := s.Payouts(ctx, today)
			out.Payouts = &r
			return err
		}); err != nil {
			errs = append(errs, err)
		}
		// Yesterday is reconciled once today's payouts are done: by then
		// yesterday's payouts, if any instance ran them, are finished (the
		// schedule only ever pays today).
		paidToday, err := s.store.JobDone(ctx, JobPayouts, today.Format(time.DateOnly))
		if err != nil {
			errs = append(errs, err)
		}
		if paidToday {
			if err := s.once(ctx, JobReconcile, yesterday.Format(time.DateOnly), func() error {
				r, err := s.Reconcile(ctx, yesterday)
				out.Reconciliation = &r
				return err
			}); err != nil {
				errs = append(errs, err)
			}
		}
		if err := s.once(ctx, JobMonthlyOK, month.Format("2006-01"), func() error {
			n, err := s.MonthlyBonuses(ctx, month)
			out.MonthlyBonuses = n
			return err
		}); err != nil {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	return out, ran, err
}

// once runs job for period unless it is done, and marks it done when it
// succeeds.
func (s *Service) once(ctx context.Context, job, period string, fn func() error) error {
	done, err := s.store.JobDone(ctx, job, period)
	if err != nil || done {
		return err
	}
	if err := fn(); err != nil {
		return fmt.Errorf("growth: %s %s: %w", job, period, err)
	}
	return s.store.MarkJobDone(ctx, job, period, s.now().UTC())
}

// MonthlyBonuses credits the monthly-OK bonus of month to every provider
// that sold in it (completed at least one order: the bonus rewards
// serving users well, which a provider without orders did not do) and
// stayed OK all of it. Each is posted once per provider and month, whoever
// runs it and however often. It returns how many it posted now.
func (s *Service) MonthlyBonuses(ctx context.Context, month time.Time) (int, error) {
	if s.programs.MonthlyOK == 0 {
		return 0, nil
	}
	start := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	posted, after := 0, ""
	for {
		page, err := s.store.SellingProviders(ctx, start, start.AddDate(0, 1, 0), after, payoutPage)
		if err != nil {
			return posted, err
		}
		for _, p := range page {
			ok, err := s.MonthlyBonus(ctx, p, start)
			if err != nil {
				return posted, fmt.Errorf("growth: monthly bonus of %s: %w", p, err)
			}
			if ok {
				posted++
			}
		}
		if len(page) < payoutPage {
			return posted, nil
		}
		after = page[len(page)-1]
	}
}

// RunSchedule runs RunDue every interval while ctx lives, and hands each
// pass that did something to report (which logs it and counts
// reconciliation mismatches in a metric).
func (s *Service) RunSchedule(ctx context.Context, interval time.Duration, report func(DueRun, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r, ran, err := s.RunDue(ctx)
		if ran && (err != nil || r.Payouts != nil || r.Reconciliation != nil || r.MonthlyBonuses > 0) && ctx.Err() == nil {
			report(r, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
