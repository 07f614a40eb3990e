package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"testing/quick"

	"github.com/plaza-gateway/plaza/ledger"
)

// op is one event of a random script: testing/quick (the standard
// library's property tester, enough here: the script is a plain slice)
// generates scripts of them.
type op struct {
	Kind   int // 0 reward, 1 reverse, 2 payout, 3 disburse, 4 repay, 5 adjust
	Event  int // which of a few events (so deliveries repeat and reversals meet their originals in any order)
	Amount int64
}

type script []op

// Generate implements quick.Generator.
func (script) Generate(r *rand.Rand, size int) reflect.Value {
	s := make(script, r.Intn(size*2+1))
	for i := range s {
		s[i] = op{Kind: r.Intn(6), Event: r.Intn(8), Amount: int64(r.Intn(2000)) - 100}
	}
	return reflect.ValueOf(s)
}

// model is what the script should leave, computed without the ledger:
// payable - receivable - loan equals the rewards that stand, minus payouts
// and loans' principal and fees.
type model struct {
	posted   map[string]bool // keys posted with money
	reversed map[string]bool // events reversed (before or after)
	net      int64
}

// run applies s to l for provider and checks the invariants after every
// step: postings sum to zero, payable and receivable never negative, each
// event posted at most once, and the net position matches the model.
// Totals scans every posting: checked after every step when totalsEachStep,
// else once at the end.
func run(ctx context.Context, l *ledger.Ledger, provider string, s script, totalsEachStep bool) error {
	m := model{posted: map[string]bool{}, reversed: map[string]bool{}}
	rewardOf := map[string]int64{}
	for i, o := range s {
		ev := fmt.Sprintf("%s:ev%d", provider, o.Event)
		switch o.Kind {
		case 0:
			p, err := l.Reward(ctx, reward(ev, provider, o.Amount))
			if o.Amount <= 0 {
				if !errors.Is(err, ledger.ErrInvalid) {
					return fmt.Errorf("step %d: reward %d: %v, want ErrInvalid", i, o.Amount, err)
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
			switch {
			case m.posted[ev]: // a redelivery, reversed since or not
				if !p.Duplicate {
					return fmt.Errorf("step %d: %s posted twice", i, ev)
				}
			case m.reversed[ev]:
				if !p.Voided {
					return fmt.Errorf("step %d: reward of reversed %s posted: %+v", i, ev, p)
				}
			default:
				m.posted[ev], rewardOf[ev] = true, o.Amount
				m.net += o.Amount
			}
		case 1:
			if _, err := l.Reverse(ctx, ev+":rev"+fmt.Sprint(o.Amount%3), provider, "CNY", ev, ""); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
			if !m.reversed[ev] && m.posted[ev] {
				m.net -= rewardOf[ev]
			}
			m.reversed[ev] = true
		case 2:
			b, _ := l.Balances(ctx, provider, "CNY")
			_, err := l.Payout(ctx, fmt.Sprintf("%s:payout%d", provider, i), provider, "CNY", o.Amount)
			switch {
			case o.Amount <= 0:
				if !errors.Is(err, ledger.ErrInvalid) {
					return fmt.Errorf("step %d: payout %d: %v", i, o.Amount, err)
				}
			case o.Amount > b.Payable:
				if !errors.Is(err, ledger.ErrConflict) {
					return fmt.Errorf("step %d: payout %d above %d: %v", i, o.Amount, b.Payable, err)
				}
			case err != nil:
				return fmt.Errorf("step %d: %w", i, err)
			default:
				m.net -= o.Amount
			}
		case 3:
			if o.Amount <= 0 {
				continue
			}
			if _, err := l.Disburse(ctx, fmt.Sprintf("%s:loan%d", provider, i), provider, "CNY", o.Amount, o.Amount/10); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
			m.net -= o.Amount + o.Amount/10
		case 4:
			if o.Amount <= 0 {
				continue
			}
			if _, err := l.Repay(ctx, fmt.Sprintf("%s:repay%d", provider, i), provider, "CNY", o.Amount); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		case 5:
			if o.Amount == 0 {
				continue
			}
			if _, err := l.Adjust(ctx, ledger.Movement{Key: fmt.Sprintf("%s:adj%d", provider, i), Provider: provider, Currency: "CNY", Amount: o.Amount}); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
			m.net += o.Amount
		}
		b, err := l.Balances(ctx, provider, "CNY")
		if err != nil {
			return err
		}
		if b.Payable < 0 || b.Receivable < 0 || b.Loan < 0 {
			return fmt.Errorf("step %d: a negative balance %+v", i, b)
		}
		if got := b.Payable - b.Receivable - b.Loan; got != m.net {
			return fmt.Errorf("step %d (%+v): net position %d, model says %d (%+v)", i, o, got, m.net, b)
		}
		if totalsEachStep || i == len(s)-1 {
			tot, err := l.Totals(ctx)
			if err != nil {
				return err
			}
			if tot["CNY"] != 0 {
				return fmt.Errorf("step %d: postings sum to %d", i, tot["CNY"])
			}
		}
	}
	es, err := l.Entries(ctx, provider, 10_000)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, e := range es {
		if seen[e.Key] {
			return fmt.Errorf("key %s posted twice", e.Key)
		}
		seen[e.Key] = true
	}
	return nil
}

func TestLedgerProperties(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			n, eachStep := 300, true
			if b.name == "postgres" {
				n, eachStep = 8, false // each script is a few hundred round trips
			}
			shared := ledger.New(b.open(t), nil)
			var i atomic.Int64
			prop := func(s script) bool {
				provider := fmt.Sprintf("p%d", i.Add(1))
				l := shared
				if b.name == "memory" { // a ledger per script keeps Totals cheap
					l = ledger.New(ledger.NewMemory(), nil)
				}
				if err := run(ctx, l, provider, s, eachStep); err != nil {
					t.Log(err)
					return false
				}
				return true
			}
			if err := quick.Check(prop, &quick.Config{MaxCount: n}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestConcurrentOrders completes and cancels 1,000 orders at once through
// two ledgers (two instances) over one database, every completion
// delivered to both: the ledger balances, every reward is posted at most
// once, and exactly the orders not cancelled keep theirs.
func TestConcurrentOrders(t *testing.T) {
	ctx := context.Background()
	pool := mustPool(t)
	instances := []*ledger.Ledger{ledger.New(ledger.NewPostgres(pool), nil), ledger.New(ledger.NewPostgres(mustPoolOn(t, pool)), nil)}
	const orders, amount = 1000, 100
	providers := []string{"mart-a", "mart-b", "mart-c", "mart-d"}
	var wg sync.WaitGroup
	errs := make(chan error, orders*4)
	sem := make(chan struct{}, 16)
	for i := range orders {
		provider := providers[i%len(providers)]
		key := fmt.Sprintf("order:%d:completed", i)
		calls := []func() error{
			func() error { _, err := instances[0].Reward(ctx, reward(key, provider, amount)); return err },
			func() error { _, err := instances[1].Reward(ctx, reward(key, provider, amount)); return err },
		}
		if i%2 == 1 {
			calls = append(calls, func() error {
				_, err := instances[i%2].Reverse(ctx, fmt.Sprintf("order:%d:cancelled", i), provider, "CNY", key, "")
				return err
			})
		}
		for _, c := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				if err := c(); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mustBalanced(t, instances[0])
	var payable int64
	rewards := 0
	for _, p := range providers {
		b := mustBalances(t, instances[1], p)
		payable += b.Payable
		es, err := instances[0].Entries(ctx, p, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Kind == ledger.KindReward {
				rewards++
			}
		}
	}
	if payable != orders/2*amount {
		t.Fatalf("payable %d, want %d (the %d orders not cancelled)", payable, orders/2*amount, orders/2)
	}
	var distinct int
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT key) FROM ledger_entries WHERE kind = 'REWARD'`).Scan(&distinct); err != nil {
		t.Fatal(err)
	}
	if distinct != rewards || rewards < orders/2 || rewards > orders {
		t.Fatalf("%d reward entries (%d distinct), want each posted once, between %d and %d", rewards, distinct, orders/2, orders)
	}
	t.Logf("%d rewards posted, %d voided by a cancellation that came first", rewards, orders-rewards)
}
