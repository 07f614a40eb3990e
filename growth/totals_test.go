package growth_test

import (
	"context"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/ledger"
)

// clinic is a provider of another vertical and city than the fixture's
// mart and other (GROCERY, Hangzhou).
var clinic = directory.Provider{ID: "clinic", Vertical: connectors.VerticalMedical, Name: "Clinic", Cities: []string{"Shanghai", "Suzhou"}}

// totalsStores open the two backends with the directory's providers where
// the store reads them: PostgreSQL joins its providers table.
var totalsStores = []struct {
	name string
	open func(t *testing.T) (growth.Store, ledger.Backend)
}{
	{"memory", stores[0].open},
	{"postgres", func(t *testing.T) (growth.Store, ledger.Backend) {
		pool := pgtest.Pool(t)
		if _, err := directory.Migrate(context.Background(), pool); err != nil {
			t.Fatal(err)
		}
		mustImport(t, pool, directory.ImportEntry{ID: "mart", Vertical: connectors.VerticalGrocery, Name: "Mart", Cities: []string{"Hangzhou"}},
			directory.ImportEntry{ID: "other", Vertical: connectors.VerticalGrocery, Name: "Other", Cities: []string{"Hangzhou"}},
			directory.ImportEntry{ID: clinic.ID, Vertical: clinic.Vertical, Name: clinic.Name, Cities: clinic.Cities})
		return growth.NewPostgres(pool), ledger.NewPostgres(pool)
	}},
}

func mustImport(t *testing.T, pool *pgxpool.Pool, es ...directory.ImportEntry) {
	t.Helper()
	var key [32]byte
	_, _ = rand.Read(key[:])
	sealer, err := directory.NewSealer(key[:])
	if err != nil {
		t.Fatal(err)
	}
	for i := range es {
		es[i].Endpoint, es[i].Secret = "https://"+es[i].ID+".invalid", "a-test-secret-of-enough-length-0123456789"
	}
	if _, err := directory.Import(context.Background(), pool, es, directory.ImportOptions{Sealer: sealer, Policy: directory.Policy{Development: true},
		Actor: "test", Reason: "totals"}); err != nil {
		t.Fatal(err)
	}
}

// totalsFixture is newFixture with the clinic registered as long ago as
// the others (its loan offer needs the tenure).
func totalsFixture(t *testing.T, open func(*testing.T) (growth.Store, ledger.Backend)) fixture {
	t.Helper()
	f := newFixture(t, open)
	f.clock.Advance(-200 * 24 * time.Hour)
	if err := f.dir.Seed([]directory.Provider{clinic}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(200 * 24 * time.Hour)
	return f
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestAnalystTotals(t *testing.T) {
	ctx := context.Background()
	for _, s := range totalsStores {
		t.Run(s.name, func(t *testing.T) {
			f := totalsFixture(t, s.open)
			t0 := f.clock.Now() // 2026-06-01 12:00 UTC
			// Day 0: 90 days of history (one user each) for mart and the
			// clinic, posted now; both take a loan.
			history(t, f, "mart", 1, 50_000)
			history(t, f, "clinic", 1, 50_000)
			martOffer := must[growth.StoredOffer](t)(f.svc.CurrentOffer(ctx, "mart"))
			clinicOffer := must[growth.StoredOffer](t)(f.svc.CurrentOffer(ctx, "clinic"))
			if martOffer.Max < 100_000 || clinicOffer.Max < 200_000 {
				t.Fatalf("offers %d and %d: the history should earn more", martOffer.Max, clinicOffer.Max)
			}
			martLoan := must[growth.Loan](t)(f.svc.Apply(ctx, "mart", growth.Application{Amount: 100_000, Currency: "CNY", TermDays: 30,
				IdempotencyKey: "m1", Consent: true})) // fee 1,500; at least 3,384 a day
			must[growth.Loan](t)(f.svc.Apply(ctx, "clinic", growth.Application{Amount: 200_000, Currency: "CNY", TermDays: 60,
				IdempotencyKey: "c1", Consent: true})) // fee 6,000; at least 3,434 a day
			// A second offer for mart, made after its loan took the first: made, not accepted.
			second := must[growth.StoredOffer](t)(f.svc.CurrentOffer(ctx, "mart"))

			// Day 1: orders in Ningbo, one of them cancelled after completing,
			// one cancelled before (nothing posted), the clinic's without a
			// city, a monthly bonus, an adjustment and an early repayment.
			f.clock.Advance(24 * time.Hour)
			for _, o := range []growth.Order{
				{Provider: "mart", ID: "a1", User: "x1", City: "Ningbo", Currency: "CNY", Amount: 10_000, Status: growth.OrderCompleted},
				{Provider: "mart", ID: "a2", User: "x1", Currency: "CNY", Amount: 10_000, Status: growth.OrderPlaced, City: "Ningbo"},
				{Provider: "mart", ID: "a2", Currency: "CNY", Amount: 10_000, Status: growth.OrderCompleted}, // the placed record's city
				{Provider: "mart", ID: "a1", Status: growth.OrderCancelled},
				{Provider: "mart", ID: "a3", User: "x3", City: "Ningbo", Status: growth.OrderCancelled},
				{Provider: "mart", ID: "a3", User: "x3", City: "Ningbo", Status: growth.OrderCompleted},
				{Provider: "clinic", ID: "c1", User: "y1", Status: growth.OrderCompleted},
			} {
				mustRecord(t, f, o)
			}
			if ok := must[bool](t)(f.svc.MonthlyBonus(ctx, "other", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))); !ok {
				t.Fatal("no monthly bonus for other")
			}
			adj := must[growth.Approval](t)(f.svc.RequestAdjustment(ctx, "other", -300, "CNY", "duplicate bonus", "ops-1"))
			must[growth.Approval](t)(f.svc.Decide(ctx, adj.ID, "ops-2", true))
			must[growth.Loan](t)(f.svc.Repay(ctx, "mart", martLoan.ID, 50_000, "early-1"))
			day1 := t0.Add(24 * time.Hour)

			t.Run("program totals count each posting and reversal of the range by vertical and city", func(t *testing.T) {
				got := must[[]growth.ProgramTotal](t)(f.svc.ProgramTotals(ctx, day1, day1.Add(24*time.Hour)))
				want := []growth.ProgramTotal{
					{Program: growth.ProgramAdjustment, Vertical: "GROCERY", City: "Hangzhou", Currency: "CNY", Reversals: 1, Reversed: 300},
					{Program: growth.ProgramFirstOrder, Vertical: "GROCERY", City: "Ningbo", Currency: "CNY", Postings: 1, Posted: 500, Reversals: 1, Reversed: 500},
					{Program: growth.ProgramFirstOrder, Vertical: "MEDICAL", City: "Shanghai", Currency: "CNY", Postings: 1, Posted: 500},
					{Program: growth.ProgramMonthlyOK, Vertical: "GROCERY", City: "Hangzhou", Currency: "CNY", Postings: 1, Posted: 10_000},
					{Program: growth.ProgramPerOrder, Vertical: "GROCERY", City: "Ningbo", Currency: "CNY", Postings: 2, Posted: 200, Reversals: 1, Reversed: 100},
					{Program: growth.ProgramPerOrder, Vertical: "MEDICAL", City: "Shanghai", Currency: "CNY", Postings: 1, Posted: 100},
				}
				if !slices.Equal(got, want) {
					t.Fatalf("totals\n got %+v\nwant %+v", got, want)
				}
				if net := got[4].Net(); net != 100 {
					t.Fatalf("per-order net in Ningbo %d, want 100", net)
				}
			})
			t.Run("the history's day is its own range, with the provider's city for orders that named none", func(t *testing.T) {
				got := must[[]growth.ProgramTotal](t)(f.svc.ProgramTotals(ctx, t0.Add(-time.Hour), day1))
				want := []growth.ProgramTotal{
					{Program: growth.ProgramFirstOrder, Vertical: "GROCERY", City: "Hangzhou", Currency: "CNY", Postings: 1, Posted: 500},
					{Program: growth.ProgramFirstOrder, Vertical: "MEDICAL", City: "Shanghai", Currency: "CNY", Postings: 1, Posted: 500},
					{Program: growth.ProgramPerOrder, Vertical: "GROCERY", City: "Hangzhou", Currency: "CNY", Postings: 90, Posted: 9_000},
					{Program: growth.ProgramPerOrder, Vertical: "MEDICAL", City: "Shanghai", Currency: "CNY", Postings: 90, Posted: 9_000},
				}
				if !slices.Equal(got, want) {
					t.Fatalf("totals\n got %+v\nwant %+v", got, want)
				}
			})
			t.Run("loan totals give the offers, the loans and where they stand now", func(t *testing.T) {
				f.clock.Advance(9 * 24 * time.Hour) // ten days after both loans
				got := must[[]growth.LoanTotal](t)(f.svc.LoanTotals(ctx, t0.Add(-time.Hour), day1))
				want := []growth.LoanTotal{
					// mart repaid 50,000 early and 10% of a2 (a1's share was taken
					// too, before its cancellation): owes 101,500 - 52,000.
					{Vertical: "GROCERY", City: "Hangzhou", Currency: "CNY", OffersMade: 2, OffersAccepted: 1, Offered: martOffer.Max + second.Max,
						Loans: 1, Principal: 100_000, Fees: 1_500, Outstanding: 49_500},
					// the clinic repaid nothing: 10 days × 3,434 behind.
					{Vertical: "MEDICAL", City: "Shanghai", Currency: "CNY", OffersMade: 1, OffersAccepted: 1, Offered: clinicOffer.Max,
						Loans: 1, Principal: 200_000, Fees: 6_000, Outstanding: 206_000, Arrears: 34_340, InArrears: 1},
				}
				if !slices.Equal(got, want) {
					t.Fatalf("totals\n got %+v\nwant %+v", got, want)
				}
				if later := must[[]growth.LoanTotal](t)(f.svc.LoanTotals(ctx, day1, day1.Add(24*time.Hour))); len(later) != 0 {
					t.Fatalf("a range without offers or loans: %+v", later)
				}
			})
			t.Run("a range that is empty, reversed or longer than 366 days is refused", func(t *testing.T) {
				for _, r := range [][2]time.Time{{t0, t0}, {t0, t0.Add(-time.Hour)}, {t0, t0.Add(growth.MaxTotalsRange + time.Second)}} {
					_, err := f.svc.ProgramTotals(ctx, r[0], r[1])
					wantCode(t, err, growth.Invalid)
					_, err = f.svc.LoanTotals(ctx, r[0], r[1])
					wantCode(t, err, growth.Invalid)
				}
				if _, err := f.svc.ProgramTotals(ctx, t0, t0.Add(growth.MaxTotalsRange)); err != nil {
					t.Fatalf("366 days: %v", err)
				}
			})
		})
	}
}
