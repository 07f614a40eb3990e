package growth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/ledger"
)

// benchEntries is the ledger the totals benchmark reads: order rewards of
// 1,000 providers in 6 cities spread over a year, the per-order reward of
// every tenth one reversed; 10^5 with PLAZA_BENCH_SCALE=1 (make bench),
// 2,000 in the CI micro-benchmark pass.
func benchEntries() int {
	if benchScale() {
		return 100_000
	}
	return 2_000
}

// BenchmarkProgramTotals reads the analysts' program totals over a month
// and over the longest range (a year and a day) of a ledger of
// benchEntries rewards, on each backend.
func BenchmarkProgramTotals(b *testing.B) {
	ctx := context.Background()
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []struct {
		name string
		open func(b *testing.B) (growth.Store, ledger.Backend)
	}{
		{"memory", func(b *testing.B) (growth.Store, ledger.Backend) {
			lb := ledger.NewMemory()
			var at time.Time
			l := ledger.New(lb, func() time.Time { return at })
			for i := range benchEntries() {
				at = end.Add(-time.Duration(i%365)*24*time.Hour - time.Hour)
				key := fmt.Sprintf("order:p%d:o%d:completed", i%1000, i)
				if _, err := l.Reward(ctx, ledger.Movement{Key: key, Provider: fmt.Sprintf("p%d", i%1000), Currency: "CNY", Amount: 100,
					City: fmt.Sprintf("city%d", i%6)}); err != nil {
					b.Fatal(err)
				}
				if i%10 == 0 {
					if _, err := l.Reverse(ctx, key+":cancelled", fmt.Sprintf("p%d", i%1000), "CNY", key, ""); err != nil {
						b.Fatal(err)
					}
				}
			}
			return growth.NewMemory(), lb
		}},
		{"postgres", func(b *testing.B) (growth.Store, ledger.Backend) {
			pool := pgtest.Pool(b)
			if _, err := directory.Migrate(ctx, pool); err != nil {
				b.Fatal(err)
			}
			// Straight into the tables: the ledger's rules are not what is measured.
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO ledger_entries (key, kind, provider, currency, city, at)
					SELECT 'order:p' || (i % 1000) || ':o' || i || ':completed', 'REWARD', 'p' || (i % 1000), 'CNY', 'city' || (i % 6),
						$1::timestamptz - (i % 365) * interval '1 day' - interval '1 hour' FROM generate_series(0, $2 - 1) i`, []any{end, benchEntries()}},
				{`INSERT INTO ledger_entries (key, kind, provider, currency, reverses, city, at)
					SELECT key || ':cancelled', 'REVERSAL', provider, currency, key, city, at FROM ledger_entries
					WHERE substring(key from ':o([0-9]+):')::int % 10 = 0`, nil},
				{`INSERT INTO ledger_postings (entry_id, account, currency, amount)
					SELECT id, 'platform:rewards', 'CNY', CASE kind WHEN 'REWARD' THEN 100 ELSE -100 END FROM ledger_entries`, nil},
				{`INSERT INTO ledger_postings (entry_id, account, currency, amount)
					SELECT id, 'provider:' || provider || ':payable', 'CNY', CASE kind WHEN 'REWARD' THEN -100 ELSE 100 END FROM ledger_entries`, nil},
				{`ANALYZE`, nil},
			} {
				if _, err := pool.Exec(ctx, q.sql, q.args...); err != nil {
					b.Fatalf("%s: %v", q.sql, err)
				}
			}
			return growth.NewPostgres(pool), ledger.NewPostgres(pool)
		}},
	} {
		b.Run(s.name, func(b *testing.B) {
			store, lb := s.open(b)
			dir := directory.NewMemory(nil, directory.Policy{Development: true})
			f := growth.New(store, ledger.New(lb, nil), dir, growth.DefaultPrograms, growth.WithClock(func() time.Time { return end }))
			b.ResetTimer()
			for _, r := range []struct {
				name string
				days int
			}{{"month", 30}, {"year", 366}} {
				b.Run(r.name, func(b *testing.B) {
					var rows int
					for range b.N {
						ts, err := f.ProgramTotals(ctx, end.AddDate(0, 0, -r.days), end)
						if err != nil {
							b.Fatal(err)
						}
						rows = len(ts)
					}
					if rows != 6 { // per-order rewards and their reversals in 6 cities
						b.Fatalf("%d rows, want 6", rows)
					}
				})
			}
		})
	}
}
