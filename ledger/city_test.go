package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/ledger"
)

// TestEntriesCarryTheirCity: an entry keeps the city of its causing event
// on both backends, and a reversal carries its original's, so the analysts'
// totals by city put both in the same place.
func TestEntriesCarryTheirCity(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			l := ledger.New(b.open(t), fixedNow)
			m := reward("order:p:1:completed", "p", 100)
			m.City = "Ningbo"
			if _, err := l.Reward(ctx, m); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Reverse(ctx, "order:p:1:completed:cancelled", "p", "CNY", "order:p:1:completed", "cancelled"); err != nil {
				t.Fatal(err)
			}
			es, err := l.Entries(ctx, "p", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 2 || es[0].Kind != ledger.KindReversal || es[0].City != "Ningbo" || es[1].City != "Ningbo" {
				t.Fatalf("entries %+v, want the reward and its reversal in Ningbo", es)
			}
			rev, err := l.EntriesOfKind(ctx, ledger.KindReversal, t0, t0.Add(time.Second), "", 10)
			if err != nil || len(rev) != 1 || rev[0].City != "Ningbo" {
				t.Fatalf("reversals of the range %+v %v", rev, err)
			}
		})
	}
}
