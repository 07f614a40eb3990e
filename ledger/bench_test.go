package ledger_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/plaza-gateway/plaza/ledger"
)

// BenchmarkReward posts one reward per iteration, each for a new event,
// spread over 64 providers, on each backend.
func BenchmarkReward(b *testing.B) {
	ctx := context.Background()
	for _, backend := range []struct {
		name string
		open func(tb testing.TB) ledger.Backend
	}{
		{"memory", func(testing.TB) ledger.Backend { return ledger.NewMemory() }},
		{"postgres", func(tb testing.TB) ledger.Backend { return ledger.NewPostgres(mustPool(tb)) }},
	} {
		b.Run(backend.name, func(b *testing.B) {
			l := ledger.New(backend.open(b), nil)
			b.ResetTimer()
			for i := range b.N {
				if _, err := l.Reward(ctx, reward(fmt.Sprintf("bench-%d", i), fmt.Sprintf("p%d", i%64), 100)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
