package growth_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/ledger"
)

func mustRecord(t *testing.T, f fixture, o growth.Order) {
	t.Helper()
	if err := f.svc.RecordOrder(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

func wantProblems(t *testing.T, r growth.Reconciliation, want ...string) {
	t.Helper()
	if len(r.Problem) != len(want) {
		t.Fatalf("%d mismatches %q, want %d %q", len(r.Problem), r.Problem, len(want), want)
	}
	for _, w := range want {
		if !slices.ContainsFunc(r.Problem, func(p string) bool { return strings.Contains(p, w) }) {
			t.Fatalf("no mismatch mentions %q: %q", w, r.Problem)
		}
	}
}

// TestPayoutsAndReconciliation: rewards settle into payouts through the
// ledger, once; reconciliation agrees on a sound day and names every
// mismatch injected into the order records, the payouts and the ledger.
func TestPayoutsAndReconciliation(t *testing.T) {
	ctx := context.Background()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, s.open)
			day := f.clock.Now().Truncate(24 * time.Hour)
			for i := range 3 {
				o := order(fmt.Sprintf("p%d", i), "u1", growth.OrderCompleted, 2_000)
				o.At = day.Add(time.Hour)
				mustRecord(t, f, o)
			}
			o := order("q1", "u2", growth.OrderCompleted, 2_000)
			o.Provider, o.At = "other", day.Add(time.Hour)
			mustRecord(t, f, o)

			run, err := f.svc.Payouts(ctx, day)
			if err != nil || run.Paid != 2 || run.Amount != 3*100+500+100+500 {
				t.Fatalf("first run: %+v %v, want 2 payouts of 1400 in all", run, err)
			}
			for _, p := range []string{"mart", "other"} {
				if b := mustBalances(t, f, p); b.Payable != 0 {
					t.Fatalf("%s after its payout: %+v", p, b)
				}
			}
			ps, err := f.svc.ProviderPayouts(ctx, "mart", 10)
			if err != nil || len(ps) != 1 || ps[0].Amount != 800 || ps[0].Status != growth.PayoutPaid || !ps[0].Day.Equal(day) {
				t.Fatalf("mart's payouts %+v %v", ps, err)
			}
			if again, err := f.svc.Payouts(ctx, day); err != nil || again.Paid != 0 {
				t.Fatalf("a second run of the day paid again: %+v %v", again, err)
			}
			r, err := f.svc.Reconcile(ctx, day)
			if err != nil || r.Orders != 4 || r.Payouts != 2 || r.Totals["CNY"] != 0 {
				t.Fatalf("a sound day: %+v %v", r, err)
			}
			wantProblems(t, r)

			// Inject one mismatch of each kind.
			lost := order("lost", "u3", growth.OrderCompleted, 1_000)
			lost.At = day.Add(3 * time.Hour)
			if _, err := f.store.RecordOrder(ctx, lost); err != nil { // no reward posted
				t.Fatal(err)
			}
			if _, _, err := f.store.CreatePayout(ctx, growth.Payout{ID: "payout_phantom", Provider: "mart", Currency: "CNY", Amount: 50,
				Day: day, Status: growth.PayoutPaid, CreatedAt: day}); err != nil { // PAID, never posted
				t.Fatal(err)
			}
			if _, _, err := f.store.CreatePayout(ctx, growth.Payout{ID: "payout_stuck", Provider: "other", Currency: "CNY", Amount: 20,
				Day: day, Status: growth.PayoutPending, CreatedAt: day}); err != nil { // a run that stopped, never finished
				t.Fatal(err)
			}
			l := f.svc.Ledger()
			if _, err := l.Reward(ctx, ledger.Movement{Key: "gift", Provider: "other", Currency: "CNY", Amount: 300}); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Payout(ctx, growth.PayoutKey("payout_ghost"), "other", "CNY", 300); err != nil { // posted, no payout
				t.Fatal(err)
			}
			r, err = f.svc.Reconcile(ctx, day)
			if err != nil || r.Orders != 5 || r.Payouts != 4 {
				t.Fatalf("an inconsistent day: %+v %v", r, err)
			}
			wantProblems(t, r, "mart's order lost completed without its reward", "payout payout_phantom of mart is PAID but has no ledger entry",
				"payout payout_stuck of other is still PENDING", "the ledger paid 300 to other (payout:payout_ghost) without a PAID payout")
			stored, err := f.svc.Reconciliations(ctx, 10)
			if err != nil || len(stored) != 2 || len(stored[0].Problem) != 4 || len(stored[1].Problem) != 0 || !stored[0].Day.Equal(day) {
				t.Fatalf("stored reconciliations %+v %v", stored, err)
			}
			_, err = f.svc.Reconciliations(ctx, 0)
			wantCode(t, err, growth.Invalid)
		})
	}
}

// TestReconcileFindsATamperedBalance: a running balance changed outside the
// ledger (PostgreSQL only: the memory ledger has no separate balance row to
// change) is named with both figures.
func TestReconcileFindsATamperedBalance(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	if _, err := directory.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(*testing.T) (growth.Store, ledger.Backend) {
		return growth.NewPostgres(pool), ledger.NewPostgres(pool)
	})
	day := f.clock.Now().Truncate(24 * time.Hour)
	mustRecord(t, f, order("t1", "u1", growth.OrderCompleted, 1_000))
	if _, err := pool.Exec(ctx, `UPDATE ledger_balances SET balance = balance - 7 WHERE account = 'provider:mart:payable'`); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.Reconcile(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	wantProblems(t, r, "mart's running balance of provider:mart:payable is -607 but its postings sum to -600")
}

// TestPayoutRepaysArrearsFirst: a provider behind on its loan has the
// arrears taken from its payable before the rest is paid out.
func TestPayoutRepaysArrearsFirst(t *testing.T) {
	ctx := context.Background()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, s.open)
			history(t, f, "mart", 2, 50_000)
			offer, err := f.svc.CurrentOffer(ctx, "mart")
			if err != nil || offer.Max == 0 {
				t.Fatal(offer, err)
			}
			loan, err := f.svc.Apply(ctx, "mart", growth.Application{Amount: offer.Max / 2, Currency: "CNY", TermDays: 90, IdempotencyKey: "k", Consent: true})
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(5 * 24 * time.Hour)
			st, _ := f.svc.Standing(ctx, loan)
			if st.Arrears != 5*loan.MinimumDaily {
				t.Fatalf("arrears %+v", st)
			}
			before := mustBalances(t, f, "mart")
			if _, err := f.svc.Ledger().Reward(ctx, ledger.Movement{Key: "big", Provider: "mart", Currency: "CNY", Amount: 1_000_000}); err != nil {
				t.Fatal(err)
			}
			day := f.clock.Now().Truncate(24 * time.Hour)
			run, err := f.svc.Payouts(ctx, day)
			if err != nil || run.Repaid != st.Arrears || run.Amount != before.Payable+1_000_000-st.Arrears {
				t.Fatalf("run %+v %v, want %d repaid first", run, err, st.Arrears)
			}
			after := mustBalances(t, f, "mart")
			if after.Payable != 0 || after.Loan != before.Loan-st.Arrears {
				t.Fatalf("balances %+v (before %+v)", after, before)
			}
			if st, _ := f.svc.Standing(ctx, loan); st.Arrears != 0 {
				t.Fatalf("still in arrears after the payout: %+v", st)
			}
			r, err := f.svc.Reconcile(ctx, day)
			if err != nil {
				t.Fatal(err)
			}
			wantProblems(t, r)
		})
	}
}

// TestScheduleRunsEachJobOnceAcrossInstances: two services on one store
// and ledger (two gateway instances) run the schedule at the same time,
// over and over: each provider gets its monthly bonus once, each is paid
// once, and the day is reconciled once. Without the lock (MonthlyBonuses
// called on both at once), the once-per-key posting still pays once.
func TestScheduleRunsEachJobOnceAcrossInstances(t *testing.T) {
	ctx := context.Background()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, s.open) // 2026-06-01 12:00
			second := growth.New(f.store, f.svc.Ledger(), f.dir, growth.DefaultPrograms, growth.WithClock(f.clock.Now))
			april, may := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
			for _, p := range []string{"mart", "other"} {
				for _, m := range []time.Time{april, may} {
					o := order(p+m.Format("01"), "u-"+p, growth.OrderCompleted, 1_000)
					o.Provider, o.At = p, m.AddDate(0, 0, 3)
					mustRecord(t, f, o)
				}
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			posted := 0
			for _, svc := range []*growth.Service{f.svc, second} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := svc.MonthlyBonuses(ctx, april)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					posted += n
					mu.Unlock()
				}()
			}
			wg.Wait()
			if posted != 2 {
				t.Fatalf("April's bonuses posted %d times by two instances, want 2 (one per provider)", posted)
			}
			for _, svc := range []*growth.Service{f.svc, second} {
				for range 5 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, _, err := svc.RunDue(ctx); err != nil {
							t.Error(err)
						}
					}()
				}
			}
			wg.Wait()
			// Once more, one after the other: nothing is left to do.
			for _, svc := range []*growth.Service{f.svc, second} {
				d, ran, err := svc.RunDue(ctx)
				if err != nil || !ran || d.Payouts != nil || d.Reconciliation != nil || d.MonthlyBonuses != 0 {
					t.Fatalf("a pass after everything was done: %+v %v %v", d, ran, err)
				}
			}
			for _, p := range []string{"mart", "other"} {
				// Paid today: April's bonus and the orders' rewards; May's
				// bonus (posted in the same pass, after the payouts) waits
				// for tomorrow's payout. Exactly once each.
				if b := mustBalances(t, f, p); b.Payable != growth.DefaultPrograms.MonthlyOK {
					t.Fatalf("%s's payable %+v, want May's bonus %d once", p, b, growth.DefaultPrograms.MonthlyOK)
				}
				ps, _ := f.svc.ProviderPayouts(ctx, p, 10)
				want := growth.DefaultPrograms.MonthlyOK + 2*100 + 500
				if len(ps) != 1 || ps[0].Amount != want {
					t.Fatalf("%s's payouts %+v, want one of %d", p, ps, want)
				}
			}
			if rs, _ := f.svc.Reconciliations(ctx, 10); len(rs) != 1 || !rs[0].Day.Equal(time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC)) {
				t.Fatalf("reconciliations %+v, want one of May 31", rs)
			}
			for _, job := range [][2]string{{growth.JobPayouts, "2026-06-01"}, {growth.JobReconcile, "2026-05-31"}, {growth.JobMonthlyOK, "2026-05"}} {
				if done, err := f.store.JobDone(ctx, job[0], job[1]); err != nil || !done {
					t.Fatalf("job %v not marked done: %v", job, err)
				}
			}
			tot, _ := f.svc.Ledger().Totals(ctx)
			if tot["CNY"] != 0 {
				t.Fatalf("ledger off by %d", tot["CNY"])
			}
		})
	}
}

// TestRecordsFromTheGatewaysOwnMutations: a PLACED record (the gateway's
// booking or order mutation) moves no money but names the user and amount
// that a later completion without them uses; a status never moves back.
func TestRecordsFromTheGatewaysOwnMutations(t *testing.T) {
	ctx := context.Background()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, s.open)
			history(t, f, "mart", 2, 50_000)
			offer, _ := f.svc.CurrentOffer(ctx, "mart")
			if _, err := f.svc.Apply(ctx, "mart", growth.Application{Amount: offer.Max / 2, Currency: "CNY", TermDays: 90, IdempotencyKey: "k", Consent: true}); err != nil {
				t.Fatal(err)
			}
			before := mustBalances(t, f, "mart")
			mustRecord(t, f, growth.Order{Provider: "mart", ID: "appt-1", User: "new-patient", Status: growth.OrderPlaced, Currency: "CNY", Amount: 20_000})
			if b := mustBalances(t, f, "mart"); b != before {
				t.Fatalf("a PLACED record moved money: %+v -> %+v", before, b)
			}
			// The provider's webhook completes it with neither user nor amount.
			mustRecord(t, f, growth.Order{Provider: "mart", ID: "appt-1", Status: growth.OrderCompleted})
			b := mustBalances(t, f, "mart")
			if b.Payable != before.Payable+100+500 {
				t.Fatalf("completion: payable %d, want %d (per order + the PLACED user's first order)", b.Payable, before.Payable+600)
			}
			if b.Loan != before.Loan-2_000 {
				t.Fatalf("the loan's 10%% share of the PLACED amount: loan %d, want %d", b.Loan, before.Loan-2_000)
			}
			mustRecord(t, f, growth.Order{Provider: "mart", ID: "appt-1", Status: growth.OrderPlaced}) // late, out of order
			if got := mustBalances(t, f, "mart"); got != b {
				t.Fatalf("a late PLACED changed money: %+v -> %+v", b, got)
			}
			mustRecord(t, f, growth.Order{Provider: "mart", ID: "appt-1", Status: growth.OrderCancelled})
			if got := mustBalances(t, f, "mart"); got.Payable != before.Payable {
				t.Fatalf("the cancellation reverses both rewards: %+v, want payable %d", got, before.Payable)
			}
		})
	}
}

// TestOffersAreStored: an offer keeps its terms until it expires, is
// accepted by one loan, and a new one is made after.
func TestOffersAreStored(t *testing.T) {
	ctx := context.Background()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, s.open)
			if o, err := f.svc.CurrentOffer(ctx, "other"); err != nil || o.ID != "" || o.Max != 0 {
				t.Fatalf("no sales, no stored offer: %+v %v", o, err)
			}
			history(t, f, "mart", 2, 50_000)
			first, err := f.svc.CurrentOffer(ctx, "mart")
			if err != nil || first.ID == "" || !first.ExpiresAt.Equal(first.CreatedAt.Add(growth.DefaultLoanPolicy.OfferValidity)) {
				t.Fatalf("offer %+v %v", first, err)
			}
			history(t, f, "mart", 5, 90_000) // more sales: a fresh computation would offer more
			again, _ := f.svc.CurrentOffer(ctx, "mart")
			if again.ID != first.ID || again.Max != first.Max || again.Terms != first.Terms || len(again.Factors) != len(first.Factors) ||
				again.Factors[0] != first.Factors[0] {
				t.Fatalf("the offer changed while it holds: %+v, was %+v", again, first)
			}
			f.clock.Advance(growth.DefaultLoanPolicy.OfferValidity)
			expired, _ := f.svc.CurrentOffer(ctx, "mart")
			if expired.ID == first.ID || expired.Max <= first.Max {
				t.Fatalf("after expiry: %+v, want a new, larger offer than %d", expired, first.Max)
			}
			a := growth.Application{Amount: expired.Max, Currency: "CNY", TermDays: 60, IdempotencyKey: "k1", Consent: true}
			loan, err := f.svc.Apply(ctx, "mart", a)
			if err != nil || loan.Offer != expired.ID || loan.Consent != expired.Terms {
				t.Fatalf("apply: %+v %v", loan, err)
			}
			if retry, err := f.svc.Apply(ctx, "mart", a); err != nil || retry.ID != loan.ID {
				t.Fatalf("the same key again: %+v %v", retry, err)
			}
			latest, ok, err := f.store.LatestOffer(ctx, "mart")
			if err != nil || !ok || latest.ID != expired.ID || latest.Loan != loan.ID {
				t.Fatalf("the accepted offer %+v %v %v", latest, ok, err)
			}
			err = f.store.AcceptOffer(ctx, expired.ID, "loan_other")
			wantCode(t, err, growth.Conflict)
			if next, _ := f.svc.CurrentOffer(ctx, "mart"); next.ID == expired.ID {
				t.Fatalf("an accepted offer is offered again: %+v", next)
			}
		})
	}
}

// TestServiceLevelInputs drives a provider through each new input's states
// and back: the cancellation rate, the catalogue's freshness and a failed
// conformance run, each with its reason.
func TestServiceLevelInputs(t *testing.T) {
	ctx := context.Background()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, s.open)
			want := func(p string, l growth.Level, reason string) {
				t.Helper()
				if err := f.svc.EvaluateLevels(ctx); err != nil {
					t.Fatal(err)
				}
				sl, err := f.svc.ServiceLevel(ctx, p)
				if err != nil || sl.Level != l {
					t.Fatalf("%s is %s (%v), want %s; transitions %+v", p, sl.Level, err, l, sl.Transitions)
				}
				if reason != "" && (len(sl.Transitions) == 0 || !strings.Contains(sl.Transitions[0].Reason, reason)) {
					t.Fatalf("%s's last transition %+v, want a reason with %q", p, sl.Transitions, reason)
				}
			}
			for i := range 10 {
				mustRecord(t, f, growth.Order{Provider: "mart", ID: fmt.Sprintf("c%d", i), User: "u", Status: growth.OrderPlaced})
			}
			mustRecord(t, f, growth.Order{Provider: "mart", ID: "c0", Status: growth.OrderCancelled})
			want("mart", growth.LevelWarning, "cancellation rate 10.0% (1 of 10 orders")
			for i := 1; i < 3; i++ {
				mustRecord(t, f, growth.Order{Provider: "mart", ID: fmt.Sprintf("c%d", i), Status: growth.OrderCancelled})
			}
			want("mart", growth.LevelDemoted, "fix: cancel fewer than 25% of orders to leave DEMOTED")
			f.clock.Advance(25 * time.Hour) // out of the cancellation window
			want("mart", growth.LevelOK, "recovered")

			if err := growth.CatalogReached(ctx, f.store, "mart", f.clock.Now()); err != nil {
				t.Fatal(err)
			}
			want("mart", growth.LevelOK, "")
			f.clock.Advance(49 * time.Hour)
			want("mart", growth.LevelWarning, "catalogue last reached the index 49h0m0s ago")
			f.clock.Advance(6 * 24 * time.Hour)
			want("mart", growth.LevelDemoted, "publish your catalogue")
			if err := f.svc.RefreshLevels(ctx); err != nil || f.svc.Penalty("mart") != growth.DemotedPenalty {
				t.Fatalf("a stale catalogue demotes in ranking: %v %v", f.svc.Penalty("mart"), err)
			}
			if err := growth.CatalogReached(ctx, f.store, "mart", f.clock.Now()); err != nil {
				t.Fatal(err)
			}
			want("mart", growth.LevelOK, "recovered")

			if err := growth.ConformanceRun(ctx, f.store, "other", false, f.clock.Now()); err != nil {
				t.Fatal(err)
			}
			want("other", growth.LevelDemoted, "conformance run")
			if err := growth.ConformanceRun(ctx, f.store, "other", true, f.clock.Now()); err != nil {
				t.Fatal(err)
			}
			want("other", growth.LevelOK, "recovered")
		})
	}
}

func TestParseServiceLevelInputs(t *testing.T) {
	for _, c := range []struct {
		spec string
		ok   bool
		want func(growth.Thresholds) bool
	}{
		{"cancel-window=48h,min-orders=5,warning-cancels=0.2,demoted-cancels=0.4", true,
			func(t growth.Thresholds) bool {
				return t.CancelWindow == 48*time.Hour && t.MinOrders == 5 && t.DemotedCancels == 0.4
			}},
		{"stale-catalog=0,failed-conformance=warning", true,
			func(t growth.Thresholds) bool {
				return t.StaleCatalog == 0 && t.FailedConformance == growth.LevelWarning
			}},
		{"warning-cancels=0.5,demoted-cancels=0.2", false, nil},
		{"stale-catalog=72h,demoted-catalog=24h", false, nil},
		{"failed-conformance=SUSPENDED", false, nil},
		{"min-orders=0", false, nil},
		{"stale-catalog=-1h", false, nil},
	} {
		got, err := growth.ParseThresholds(c.spec)
		if (err == nil) != c.ok || c.ok && !c.want(got) {
			t.Errorf("ParseThresholds(%q) = %+v, %v", c.spec, got, err)
		}
	}
}

// TestStalePendingPayoutsAreFinished: payouts an earlier day's run
// recorded and never finished (the instance died, and the day passed
// before a run came again) are finished by the next run, each posted once:
// one the ledger never took is paid now, one it took before the stop is
// marked PAID without paying it again; the days reconcile clean.
func TestStalePendingPayoutsAreFinished(t *testing.T) {
	ctx := context.Background()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, s.open)
			today := f.clock.Now().Truncate(24 * time.Hour)
			before, yesterday := today.AddDate(0, 0, -2), today.AddDate(0, 0, -1)
			for _, o := range []growth.Order{
				{Provider: "mart", ID: "m1", User: "u1", Currency: "CNY", Amount: 1_000, Status: growth.OrderCompleted, At: before.Add(time.Hour)},
				{Provider: "other", ID: "o1", User: "u1", Currency: "CNY", Amount: 1_000, Status: growth.OrderCompleted, At: yesterday.Add(time.Hour)},
			} {
				mustRecord(t, f, o)
			}
			// mart's run of two days ago stopped after recording its payout;
			// other's of yesterday after posting it, before marking it.
			stuck := []growth.Payout{
				{ID: "payout_stale_mart", Provider: "mart", Currency: "CNY", Amount: 600, Day: before, Status: growth.PayoutPending, CreatedAt: before},
				{ID: "payout_stale_other", Provider: "other", Currency: "CNY", Amount: 600, Day: yesterday, Status: growth.PayoutPending, CreatedAt: yesterday},
			}
			for _, p := range stuck {
				if _, _, err := f.store.CreatePayout(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.svc.Ledger().Payout(ctx, growth.PayoutKey("payout_stale_other"), "other", "CNY", 600); err != nil {
				t.Fatal(err)
			}

			run, err := f.svc.Payouts(ctx, today)
			if err != nil || run.Stale != 2 || run.Paid != 2 || run.Amount != 1_200 {
				t.Fatalf("today's run: %+v %v, want both stale payouts finished (1200 in all) and nothing else owed", run, err)
			}
			for _, p := range stuck {
				got, ok, err := f.store.Payout(ctx, p.ID)
				if err != nil || !ok || got.Status != growth.PayoutPaid {
					t.Fatalf("%s: %+v %v %v, want PAID", p.ID, got, ok, err)
				}
				if b := mustBalances(t, f, p.Provider); b.Payable != 0 {
					t.Fatalf("%s paid once leaves nothing owed: %+v", p.Provider, b)
				}
			}
			if again, err := f.svc.Payouts(ctx, today); err != nil || again.Paid != 0 || again.Stale != 0 {
				t.Fatalf("a second run: %+v %v, want nothing", again, err)
			}
			for _, d := range []time.Time{before, yesterday} {
				r, err := f.svc.Reconcile(ctx, d)
				if err != nil || r.Payouts != 1 || r.Totals["CNY"] != 0 {
					t.Fatalf("reconciling %s: %+v %v", d.Format(time.DateOnly), r, err)
				}
				wantProblems(t, r)
			}
		})
	}
}

// TestCompletionWithoutAUser: a completion that names no user (and whose
// order no earlier record named one for) earns the per-order reward and no
// first-order bonus, and takes no first-order lock: with the lock an empty
// user would take held elsewhere (PostgreSQL), it still completes at once.
func TestCompletionWithoutAUser(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"memory", "postgres"} {
		t.Run(name, func(t *testing.T) {
			var store growth.Store = growth.NewMemory()
			var lb ledger.Backend = ledger.NewMemory()
			if name == "postgres" {
				pool := pgtest.Pool(t)
				if _, err := directory.Migrate(ctx, pool); err != nil {
					t.Fatal(err)
				}
				store, lb = growth.NewPostgres(pool), ledger.NewPostgres(pool)
				conn, err := pool.Acquire(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Release()
				if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('plaza-growth-order:mart:', 0))`); err != nil {
					t.Fatal(err)
				}
				defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock_all()`)
			}
			f := newFixture(t, func(*testing.T) (growth.Store, ledger.Backend) { return store, lb })
			deadline, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			for _, id := range []string{"anon-1", "anon-2"} {
				if err := f.svc.RecordOrder(deadline, growth.Order{Provider: "mart", ID: id, Currency: "CNY", Amount: 1_000,
					Status: growth.OrderCompleted}); err != nil {
					t.Fatalf("a user-less completion waited on the first-order lock or failed: %v", err)
				}
			}
			if b := mustBalances(t, f, "mart"); b.Payable != 2*growth.DefaultPrograms.PerOrder {
				t.Fatalf("payable %d, want the per-order reward twice and no first-order bonus", b.Payable)
			}
			if _, err := f.svc.Ledger().Entry(ctx, "first-order:mart:"); !errors.Is(err, ledger.ErrNotFound) {
				t.Fatalf("a first-order bonus for no user: %v", err)
			}
		})
	}
}
