package ledger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/ledger"
)

// TestReadsForPayoutsAndReconciliation: the pages a payout run and a
// reconciliation read, on both backends.
func TestReadsForPayoutsAndReconciliation(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			l := ledger.New(b.open(t), fixedNow)
			for i := range 5 {
				mustReward(t, l, fmt.Sprintf("r%d", i), fmt.Sprintf("p%d", i), int64(100*(i+1)))
			}
			if _, err := l.Payout(ctx, "payout:p0", "p0", "CNY", 100); err != nil { // p0 owed nothing now
				t.Fatal(err)
			}
			t.Run("payables page through the providers owed money", func(t *testing.T) {
				var got []ledger.Owed
				after := ""
				for {
					page, err := l.Payables(ctx, "CNY", after, 2)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, page...)
					if len(page) < 2 {
						break
					}
					after = page[len(page)-1].Provider
				}
				if fmt.Sprint(got) != "[{p1 200} {p2 300} {p3 400} {p4 500}]" {
					t.Fatalf("payables %v", got)
				}
				if other, _ := l.Payables(ctx, "USD", "", 10); len(other) != 0 {
					t.Fatalf("another currency: %v", other)
				}
			})
			t.Run("entries of a kind page by key within the period", func(t *testing.T) {
				es, err := l.EntriesOfKind(ctx, ledger.KindReward, t0, t0.Add(time.Second), "r1", 2)
				if err != nil || len(es) != 2 || es[0].Key != "r2" || es[1].Key != "r3" || len(es[0].Postings) == 0 {
					t.Fatalf("rewards after r1: %+v %v", es, err)
				}
				if es, _ := l.EntriesOfKind(ctx, ledger.KindPayout, t0.Add(time.Second), t0.Add(time.Hour), "", 10); len(es) != 0 {
					t.Fatalf("payouts outside the period: %+v", es)
				}
			})
			t.Run("a sound ledger audits clean", func(t *testing.T) {
				for i := range 5 {
					if d, err := l.Audit(ctx, fmt.Sprintf("p%d", i), "CNY"); err != nil || len(d) != 0 {
						t.Fatalf("p%d drifts: %+v %v", i, d, err)
					}
				}
			})
		})
	}
	t.Run("postgres: a balance changed outside the ledger is found", func(t *testing.T) {
		pool := mustPool(t)
		l := ledger.New(ledger.NewPostgres(pool), fixedNow)
		mustReward(t, l, "r", "p", 500)
		if _, err := pool.Exec(ctx, `UPDATE ledger_balances SET balance = 0 WHERE account = 'provider:p:payable'`); err != nil {
			t.Fatal(err)
		}
		d, err := l.Audit(ctx, "p", "CNY")
		if err != nil || len(d) != 1 || d[0] != (ledger.Drift{Account: ledger.Payable("p"), Currency: "CNY", Running: 0, Posted: -500}) {
			t.Fatalf("drift %+v %v", d, err)
		}
	})
}

func TestProviderOf(t *testing.T) {
	for a, want := range map[ledger.Account]string{ledger.Payable("a:b"): "a:b", ledger.Loan("x"): "x", ledger.Cash: "", "provider:": ""} {
		if got := ledger.ProviderOf(a); got != want {
			t.Errorf("ProviderOf(%s) = %q, want %q", a, got, want)
		}
	}
}
