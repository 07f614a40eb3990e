package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/ledger"
)

// backends runs the contract on both backends: every rule lives in
// ledger.Ledger, so both must give the same answers.
var backends = []struct {
	name string
	open func(t *testing.T) ledger.Backend
}{
	{"memory", func(*testing.T) ledger.Backend { return ledger.NewMemory() }},
	{"postgres", func(t *testing.T) ledger.Backend { return ledger.NewPostgres(mustPool(t)) }},
}

// mustPool returns a pool on a migrated database of the test's own.
func mustPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.Pool(t)
	if _, err := directory.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

func reward(key, provider string, amount int64) ledger.Movement {
	return ledger.Movement{Key: key, Provider: provider, Currency: "CNY", Amount: amount}
}

func mustBalances(t *testing.T, l *ledger.Ledger, provider string) ledger.Balances {
	t.Helper()
	b, err := l.Balances(context.Background(), provider, "CNY")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustBalanced(t *testing.T, l *ledger.Ledger) {
	t.Helper()
	tot, err := l.Totals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for c, n := range tot {
		if n != 0 {
			t.Fatalf("postings in %s sum to %d, want 0", c, n)
		}
	}
}

func wantBalances(t *testing.T, l *ledger.Ledger, provider string, want ledger.Balances) {
	t.Helper()
	want.Currency = "CNY"
	if got := mustBalances(t, l, provider); got != want {
		t.Fatalf("balances of %s = %+v, want %+v", provider, got, want)
	}
	mustBalanced(t, l)
}

func TestLedgerContract(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			newLedger := func(t *testing.T) *ledger.Ledger { return ledger.New(b.open(t), fixedNow) }
			t.Run("a reward credits the payable from the rewards expense and balances", func(t *testing.T) {
				l := newLedger(t)
				p, err := l.Reward(ctx, reward("order:o1:completed", "mart", 500))
				if err != nil || p.Duplicate || p.Voided {
					t.Fatalf("reward: %+v, %v", p, err)
				}
				if got := p.Entry.Amount(ledger.RewardsExpense); got != 500 {
					t.Fatalf("expense debit %d, want 500", got)
				}
				wantBalances(t, l, "mart", ledger.Balances{Payable: 500})
			})
			t.Run("an event delivered twice is posted once", func(t *testing.T) {
				l := newLedger(t)
				for range 3 {
					if _, err := l.Reward(ctx, reward("order:o1:completed", "mart", 500)); err != nil {
						t.Fatal(err)
					}
				}
				p, err := l.Reward(ctx, reward("order:o1:completed", "mart", 500))
				if err != nil || !p.Duplicate {
					t.Fatalf("fourth delivery: %+v, %v; want a duplicate", p, err)
				}
				wantBalances(t, l, "mart", ledger.Balances{Payable: 500})
				es, err := l.Entries(ctx, "mart", 10)
				if err != nil || len(es) != 1 {
					t.Fatalf("entries %d (%v), want 1", len(es), err)
				}
			})
			t.Run("a cancellation reverses the reward with a new entry", func(t *testing.T) {
				l := newLedger(t)
				mustReward(t, l, "c1", "mart", 500)
				p, err := l.Reverse(ctx, "c1:cancelled", "mart", "CNY", "c1", "order cancelled")
				if err != nil || p.Entry.Reverses != "c1" || p.Entry.Amount(ledger.RewardsExpense) != -500 {
					t.Fatalf("reverse: %+v, %v", p, err)
				}
				wantBalances(t, l, "mart", ledger.Balances{})
				if orig, err := l.Entry(ctx, "c1"); err != nil || orig.Amount(ledger.Payable("mart")) != -500 {
					t.Fatalf("the original entry changed: %+v, %v", orig, err)
				}
				again, err := l.Reverse(ctx, "c1:refunded", "mart", "CNY", "c1", "second cancel")
				if err != nil || !again.Duplicate || again.Entry.Key != "c1:cancelled" {
					t.Fatalf("second reversal under another key: %+v, %v; want the first as duplicate", again, err)
				}
				wantBalances(t, l, "mart", ledger.Balances{})
			})
			t.Run("a reversal that finds the payable spent books the rest to the receivable, recovered from later rewards", func(t *testing.T) {
				l := newLedger(t)
				mustReward(t, l, "r1", "mart", 500)
				if _, err := l.Payout(ctx, "payout:1", "mart", "CNY", 400); err != nil {
					t.Fatal(err)
				}
				if _, err := l.Reverse(ctx, "r1:cancelled", "mart", "CNY", "r1", ""); err != nil {
					t.Fatal(err)
				}
				wantBalances(t, l, "mart", ledger.Balances{Payable: 0, Receivable: 400})
				mustReward(t, l, "r2", "mart", 300)
				wantBalances(t, l, "mart", ledger.Balances{Payable: 0, Receivable: 100})
				mustReward(t, l, "r3", "mart", 300)
				wantBalances(t, l, "mart", ledger.Balances{Payable: 200, Receivable: 0})
			})
			t.Run("a cancellation that arrives first voids the completion that follows", func(t *testing.T) {
				l := newLedger(t)
				p, err := l.Reverse(ctx, "v1:cancelled", "mart", "CNY", "v1", "")
				if err != nil || len(p.Entry.Postings) != 0 {
					t.Fatalf("early reversal: %+v, %v; want an empty entry", p, err)
				}
				late, err := l.Reward(ctx, reward("v1", "mart", 500))
				if err != nil || !late.Voided {
					t.Fatalf("late completion: %+v, %v; want voided", late, err)
				}
				wantBalances(t, l, "mart", ledger.Balances{})
			})
			t.Run("a loan is disbursed and repaid from the payable, never more than either holds", func(t *testing.T) {
				l := newLedger(t)
				if _, err := l.Disburse(ctx, "loan:1", "mart", "CNY", 10_000, 300); err != nil {
					t.Fatal(err)
				}
				wantBalances(t, l, "mart", ledger.Balances{Loan: 10_300})
				mustReward(t, l, "k1", "mart", 1_000)
				p, err := l.Repay(ctx, "repay:1", "mart", "CNY", 5_000)
				if err != nil || p.Entry.Amount(ledger.Loan("mart")) != -1_000 {
					t.Fatalf("repay: %+v, %v; want 1000 (all the payable)", p, err)
				}
				wantBalances(t, l, "mart", ledger.Balances{Loan: 9_300})
				empty, err := l.Repay(ctx, "repay:2", "mart", "CNY", 5_000)
				if err != nil || len(empty.Entry.Postings) != 0 {
					t.Fatalf("repay with nothing payable: %+v, %v", empty, err)
				}
				mustReward(t, l, "k2", "mart", 20_000)
				if _, err := l.Repay(ctx, "repay:3", "mart", "CNY", 50_000); err != nil {
					t.Fatal(err)
				}
				wantBalances(t, l, "mart", ledger.Balances{Payable: 20_000 - 9_300})
			})
			t.Run("collections repay the loan from outside the payable, never beyond what it owes", func(t *testing.T) {
				l := newLedger(t)
				if _, err := l.Disburse(ctx, "loan:c", "mart", "CNY", 1_000, 50); err != nil {
					t.Fatal(err)
				}
				p, err := l.Collect(ctx, "share:o1", "mart", "CNY", 400)
				if err != nil || p.Entry.Amount(ledger.Cash) != 400 {
					t.Fatalf("collect: %+v, %v", p, err)
				}
				if _, err := l.Collect(ctx, "share:o1", "mart", "CNY", 400); err != nil {
					t.Fatal(err)
				}
				wantBalances(t, l, "mart", ledger.Balances{Loan: 650})
				if _, err := l.Collect(ctx, "early", "mart", "CNY", 5_000); err != nil {
					t.Fatal(err)
				}
				wantBalances(t, l, "mart", ledger.Balances{})
			})
			t.Run("manual adjustments credit and debit like rewards and reversals", func(t *testing.T) {
				l := newLedger(t)
				if _, err := l.Adjust(ctx, ledger.Movement{Key: "adj:1", Provider: "mart", Currency: "CNY", Amount: 700, Actor: "ops-1"}); err != nil {
					t.Fatal(err)
				}
				p, err := l.Adjust(ctx, ledger.Movement{Key: "adj:2", Provider: "mart", Currency: "CNY", Amount: -1000, Actor: "ops-1"})
				if err != nil || p.Entry.Kind != ledger.KindAdjustment || p.Entry.Actor != "ops-1" {
					t.Fatalf("debit adjustment: %+v, %v", p, err)
				}
				wantBalances(t, l, "mart", ledger.Balances{Receivable: 300})
			})
			t.Run("bad input is refused and changes nothing", func(t *testing.T) {
				l := newLedger(t)
				mustReward(t, l, "base", "mart", 100)
				for _, c := range []struct {
					name string
					call func() error
					want error
				}{
					{"zero amount", func() error { _, err := l.Reward(ctx, reward("b1", "mart", 0)); return err }, ledger.ErrInvalid},
					{"negative reward", func() error { _, err := l.Reward(ctx, reward("b2", "mart", -5)); return err }, ledger.ErrInvalid},
					{"oversized amount", func() error { _, err := l.Reward(ctx, reward("b3", "mart", ledger.MaxAmount+1)); return err }, ledger.ErrInvalid},
					{"bad currency", func() error {
						_, err := l.Reward(ctx, ledger.Movement{Key: "b4", Provider: "mart", Currency: "yuan", Amount: 1})
						return err
					}, ledger.ErrInvalid},
					{"empty key", func() error { _, err := l.Reward(ctx, reward("", "mart", 1)); return err }, ledger.ErrInvalid},
					{"payout above the payable", func() error { _, err := l.Payout(ctx, "b5", "mart", "CNY", 101); return err }, ledger.ErrConflict},
					{"a key another provider used", func() error { _, err := l.Reward(ctx, reward("base", "other", 1)); return err }, ledger.ErrConflict},
					{"reversing another provider's entry", func() error { _, err := l.Reverse(ctx, "b6", "other", "CNY", "base", ""); return err }, ledger.ErrConflict},
					{"reversing in another currency", func() error { _, err := l.Reverse(ctx, "b7", "mart", "USD", "base", ""); return err }, ledger.ErrConflict},
					{"negative fee", func() error { _, err := l.Disburse(ctx, "b8", "mart", "CNY", 100, -1); return err }, ledger.ErrInvalid},
				} {
					if err := c.call(); !errors.Is(err, c.want) {
						t.Errorf("%s: %v, want %v", c.name, err, c.want)
					}
				}
				wantBalances(t, l, "mart", ledger.Balances{Payable: 100})
				wantBalances(t, l, "other", ledger.Balances{})
				es, _ := l.Entries(ctx, "mart", 10)
				if len(es) != 1 {
					t.Fatalf("%d entries after refused input, want 1", len(es))
				}
			})
			t.Run("entries are listed newest first, bounded", func(t *testing.T) {
				l := newLedger(t)
				for _, k := range []string{"e1", "e2", "e3"} {
					mustReward(t, l, k, "mart", 10)
				}
				es, err := l.Entries(ctx, "mart", 2)
				if err != nil || len(es) != 2 || es[0].Key != "e3" || es[1].Key != "e2" {
					t.Fatalf("entries %+v, %v", es, err)
				}
				if !es[0].At.Equal(t0) || es[0].Currency != "CNY" || es[0].Kind != ledger.KindReward {
					t.Fatalf("entry fields %+v", es[0])
				}
			})
			t.Run("an entry that does not exist is not found", func(t *testing.T) {
				if _, err := newLedger(t).Entry(ctx, "nope"); !errors.Is(err, ledger.ErrNotFound) {
					t.Fatalf("%v, want ErrNotFound", err)
				}
			})
		})
	}
}

func mustReward(t *testing.T, l *ledger.Ledger, key, provider string, amount int64) {
	t.Helper()
	p, err := l.Reward(context.Background(), reward(key, provider, amount))
	if err != nil || p.Duplicate || p.Voided {
		t.Fatalf("reward %s: %+v, %v", key, p, err)
	}
}

// mustPoolOn opens a second pool on pool's database: another instance.
func mustPoolOn(t testing.TB, pool *pgxpool.Pool) *pgxpool.Pool {
	t.Helper()
	other, err := pgxpool.NewWithConfig(context.Background(), pool.Config().Copy())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	return other
}
