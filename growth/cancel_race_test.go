package growth_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/ledger"
)

// TestCancellationRacingItsCompletion: a provider's cancellation of an
// order arrives while its completion (delivered twice) is still being
// taken, on another instance say. Whatever the interleaving, a cancelled
// order keeps no reward and no first-order bonus. Users 0, 3, … 27 have
// only cancelled orders. On PostgreSQL this found two races: the first
// records of a new order both reading no row (the upsert then moved the
// status back from CANCELLED), and a cancellation finding no bonus yet to
// reverse while its completion was about to post it.
func TestCancellationRacingItsCompletion(t *testing.T) {
	const orders, users = 300, 30
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, s.open)
			ctx := context.Background()
			var wg sync.WaitGroup
			sem := make(chan struct{}, 16)
			for i := range orders {
				statuses := []growth.OrderStatus{growth.OrderCompleted, growth.OrderCompleted}
				if i%3 == 0 {
					statuses = append(statuses, growth.OrderCancelled)
				}
				for _, st := range statuses {
					wg.Add(1)
					go func() {
						defer wg.Done()
						sem <- struct{}{}
						defer func() { <-sem }()
						o := growth.Order{Provider: "mart", ID: fmt.Sprintf("o-%04d", i), User: fmt.Sprintf("u-%d", i%users),
							Currency: "CNY", Amount: 2000, Status: st}
						if err := f.svc.RecordOrder(ctx, o); err != nil {
							t.Error(err)
						}
					}()
				}
			}
			wg.Wait()
			es, err := f.svc.Ledger().Entries(ctx, "mart", 10_000)
			if err != nil {
				t.Fatal(err)
			}
			reversed := map[string]bool{}
			for _, e := range es {
				if e.Kind == ledger.KindReversal && len(e.Postings) > 0 {
					reversed[e.Reverses] = true
				}
			}
			for _, e := range es {
				if e.Kind != ledger.KindReward || reversed[e.Key] {
					continue
				}
				var n int
				if _, err := fmt.Sscanf(strings.TrimPrefix(e.Memo, "order "), "o-%d", &n); err == nil && n%3 == 0 {
					t.Errorf("%s (%s) kept although its order was cancelled", e.Key, e.Memo)
					for _, x := range es {
						if strings.Contains(x.Key, e.Key) || strings.Contains(x.Reverses, e.Key) || strings.Contains(x.Memo, strings.TrimPrefix(e.Memo, "order ")) {
							t.Logf("  %s %s reverses=%q memo=%q postings=%d at=%v", x.Kind, x.Key, x.Reverses, x.Memo, len(x.Postings), x.At)
						}
					}
				}
			}
		})
	}
}
