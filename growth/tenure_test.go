package growth_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/growth"
)

// TestTenureCountsFromTheFirstOrderRecord: a provider registered today
// whose order records go back further (its directory entry was imported
// into a new directory) has been on Plaza since its first record.
func TestTenureCountsFromTheFirstOrderRecord(t *testing.T) {
	ctx := context.Background()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, s.open)
			if err := f.dir.Seed([]directory.Provider{
				{ID: "moved", Vertical: connectors.VerticalGrocery, Name: "Moved", Cities: []string{"Hangzhou"}},
				{ID: "newcomer", Vertical: connectors.VerticalGrocery, Name: "Newcomer", Cities: []string{"Hangzhou"}},
			}); err != nil {
				t.Fatal(err)
			}
			now := f.clock.Now()
			record := func(provider string, days int) {
				for d := 1; d <= days; d++ {
					mustRecord(t, f, growth.Order{Provider: provider, ID: fmt.Sprintf("t%d", d), User: "u", Currency: "CNY", Amount: 50_000,
						Status: growth.OrderCompleted, At: now.AddDate(0, 0, -d)})
				}
			}
			record("moved", 120)
			record("newcomer", 20)
			tenure := func(o growth.Offer) float64 {
				for _, x := range o.Factors {
					if x.Name == "tenure" {
						return x.Value
					}
				}
				t.Fatalf("no tenure factor in %+v", o.Factors)
				return 0
			}
			moved, err := f.svc.Offer(ctx, "moved")
			if err != nil {
				t.Fatal(err)
			}
			// Its first record's day (UTC midnight) 120 days back; now is noon.
			if want := 120.5 / 180; math.Abs(tenure(moved)-want) > 1e-9 || moved.Max == 0 {
				t.Fatalf("tenure %f (want %f), offer %d", tenure(moved), want, moved.Max)
			}
			if moved.GMV90 != 90*50_000 {
				t.Fatalf("GMV90 %d: records older than 90 days count for tenure only", moved.GMV90)
			}
			newcomer, err := f.svc.Offer(ctx, "newcomer")
			if err != nil {
				t.Fatal(err)
			}
			if tenure(newcomer) != 0 || newcomer.Max != 0 {
				t.Fatalf("20 days on Plaza: tenure %f, offer %d, want none", tenure(newcomer), newcomer.Max)
			}
		})
	}
}
