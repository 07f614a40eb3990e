package growth_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/ledger"
)

// benchScale is whether `make bench` asked for the scale
// (PLAZA_BENCH_SCALE=1); the CI micro-benchmark pass runs each benchmark
// once at a tiny size.
func benchScale() bool { return os.Getenv("PLAZA_BENCH_SCALE") == "1" }

// benchBase is the generated data's "now".
var benchBase = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// migratedPool is a database of the benchmark's own with the directory's
// migrations (growth's tables among them).
func migratedPool(b *testing.B) *pgxpool.Pool {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.DatabaseURL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if _, err := directory.Migrate(ctx, pool); err != nil {
		b.Fatal(err)
	}
	return pool
}

// benchGradingPool returns a migrated database of the benchmark's own
// holding providers' service-level counters: every provider has order
// hours in the day's window (one hour each, spread over the day); one in
// ten is called every minute (15 minutes of call buckets, 40 calls a
// minute); one in a hundred fails 5% of its calls and is WARNING. The
// buckets are written with the triggers off and the windows summed from
// them in one statement (what the triggers would have built, in seconds
// rather than minutes).
func benchGradingPool(b *testing.B, providers int) *pgxpool.Pool {
	ctx := context.Background()
	pool := migratedPool(b)
	t0 := time.Now()
	for _, q := range []string{
		`ALTER TABLE growth_sl_counters DISABLE TRIGGER growth_sl_counters_window`,
		`ALTER TABLE growth_sl_orders DISABLE TRIGGER growth_sl_orders_window`,
		`INSERT INTO growth_sl_orders (provider, hour, orders, cancelled)
		 SELECT 'g' || lpad(p::text, 7, '0'), date_trunc('hour', $2::timestamptz) - (p % 24) * interval '1 hour', 1 + p % 5, (p % 7 = 0)::int
		 FROM generate_series(0, $1 - 1) p`,
		`INSERT INTO growth_sl_counters (provider, minute, calls, errors, slow)
		 SELECT 'g' || lpad(p::text, 7, '0'), $2::timestamptz - m * interval '1 minute', 40, CASE WHEN p % 100 = 0 THEN 2 ELSE 0 END, 0
		 FROM generate_series(0, $1 - 1, 10) p, generate_series(0, 14) m`,
		`INSERT INTO growth_sl_windows (provider, calls, errors, slow, orders, cancelled, changed_at)
		 SELECT provider, sum(calls), sum(errors), sum(slow), sum(orders), sum(cancelled), now() FROM (
		   SELECT provider, calls, errors, slow, 0 AS orders, 0 AS cancelled FROM growth_sl_counters
		   UNION ALL SELECT provider, 0, 0, 0, orders, cancelled FROM growth_sl_orders) b GROUP BY provider`,
		`INSERT INTO growth_sl_state (provider, state, since)
		 SELECT 'g' || lpad(p::text, 7, '0'), 'WARNING', $2::timestamptz FROM generate_series(0, $1 - 1, 100) p`,
		`ALTER TABLE growth_sl_counters ENABLE TRIGGER growth_sl_counters_window`,
		`ALTER TABLE growth_sl_orders ENABLE TRIGGER growth_sl_orders_window`,
		`ANALYZE`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{providers, benchBase}
		}
		if _, err := pool.Exec(ctx, q, args...); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	b.Logf("generated the counters of %d providers in %v", providers, time.Since(t0).Round(time.Millisecond))
	return pool
}

// BenchmarkGradeLevels is issue 18's service-level job at 10^6 providers
// (PLAZA_BENCH_SCALE=1, PostgreSQL; 10^3 in the CI pass): the time of one
// grading run over providers' counters (benchGradingPool).
//
//   - run=first: a process's first run, which grades every window (10^6).
//   - run=minute: the steady state, a run a minute after the last: a
//     minute of call buckets of the tenth of providers called every minute
//     arrives (untimed) and the oldest minute expires, so the run expires
//     and re-grades those providers, plus the hundredth in trouble.
//
// windows/run is how many provider windows a run read.
//
//	PLAZA_BENCH_SCALE=1 go test -run '^$' -bench GradeLevels -benchtime 3x ./growth
func BenchmarkGradeLevels(b *testing.B) {
	providers := 1000
	if benchScale() {
		providers = 1_000_000
	}
	pool := benchGradingPool(b, providers)
	ctx := context.Background()
	sealer, err := directory.NewSealer(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	dir := directory.NewMemory(sealer, directory.Policy{Development: true})
	store := growth.NewPostgres(pool)
	// Runs here follow each other in seconds, not a minute apart: without
	// the margin a run reads what a run a minute later would.
	growth.SetMarkMargin(store, 0)
	counting := &gradedStore{Store: store}
	lb := ledger.NewPostgres(pool)
	newService := func(now func() time.Time) *growth.Service {
		return growth.New(counting, ledger.New(lb, now), dir, growth.DefaultPrograms, growth.WithClock(now))
	}
	report := func(b *testing.B, read int) {
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/run")
		b.ReportMetric(float64(read)/float64(b.N), "windows/run")
	}
	b.Run(fmt.Sprintf("providers=%d/run=first", providers), func(b *testing.B) {
		read := 0
		for b.Loop() {
			svc := newService(func() time.Time { return benchBase })
			counting.read = 0
			if err := svc.EvaluateLevels(ctx); err != nil {
				b.Fatal(err)
			}
			read += counting.read
		}
		if read < providers*b.N {
			b.Fatalf("a first run read %d windows, want every one of %d", read/b.N, providers)
		}
		report(b, read)
	})
	// The minutes go on across the calls of the sub-benchmark (b.N ramps).
	now := benchBase
	var svc *growth.Service
	b.Run(fmt.Sprintf("providers=%d/run=minute", providers), func(b *testing.B) {
		if svc == nil {
			svc = newService(func() time.Time { return now })
			if err := svc.EvaluateLevels(ctx); err != nil { // the mark
				b.Fatal(err)
			}
		}
		read := 0
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			now = now.Add(time.Minute)
			if _, err := pool.Exec(ctx, `INSERT INTO growth_sl_counters (provider, minute, calls, errors, slow)
				SELECT 'g' || lpad(p::text, 7, '0'), $2, 40, CASE WHEN p % 100 = 0 THEN 2 ELSE 0 END, 0
				FROM generate_series(0, $1 - 1, 10) p`, providers, now); err != nil {
				b.Fatal(err)
			}
			counting.read = 0
			b.StartTimer()
			if err := svc.EvaluateLevels(ctx); err != nil {
				b.Fatal(err)
			}
			read += counting.read
		}
		if want := providers / 10; read < want*b.N {
			b.Fatalf("a run read %d windows, want at least the %d called", read/b.N, want)
		}
		report(b, read)
	})
}

// benchMoneyDay writes day's records for providers as the service would
// have: each provider's orders completed that day (growth_orders, the
// order counters' trigger off: grading is not measured here) and each
// one's reward entry (key order:<provider>:<order>:completed, the rewards
// expense debited and the provider's payable credited, its running
// balance moved). The reconciliation that follows finding nothing amiss
// checks that these are the ledger's own shapes.
func benchMoneyDay(b *testing.B, pool *pgxpool.Pool, providers, orders int, day time.Time) {
	ctx := context.Background()
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`ALTER TABLE growth_orders DISABLE TRIGGER growth_orders_count`, nil},
		{`INSERT INTO growth_orders (provider, order_id, user_id, city, currency, amount, status, completed_at, updated_at)
		  SELECT 'm' || lpad(p::text, 6, '0'), to_char($3::timestamptz, 'YYYYMMDD') || '-' || j, 'u' || j, 'Hangzhou', 'CNY', 5000, 'COMPLETED',
		    $3::timestamptz + (p % 80000) * interval '1 second', $3::timestamptz + (p % 80000) * interval '1 second'
		  FROM generate_series(0, $1 - 1) p, generate_series(1, $2) j`, []any{providers, orders, day}},
		{`ALTER TABLE growth_orders ENABLE TRIGGER growth_orders_count`, nil},
		{`INSERT INTO ledger_entries (key, kind, provider, currency, memo, at)
		  SELECT 'order:' || provider || ':' || order_id || ':completed', 'REWARD', provider, currency, 'order ' || order_id, completed_at
		  FROM growth_orders WHERE completed_at >= $1 AND completed_at < $2 ORDER BY provider, order_id`, []any{day, day.Add(24 * time.Hour)}},
		{`INSERT INTO ledger_postings (entry_id, account, currency, amount)
		  SELECT id, a.account, currency, a.amount FROM ledger_entries e,
		    LATERAL (VALUES ('platform:rewards', $3::bigint), ('provider:' || e.provider || ':payable', -$3::bigint)) a(account, amount)
		  WHERE e.kind = 'REWARD' AND e.at >= $1 AND e.at < $2`, []any{day, day.Add(24 * time.Hour), growth.DefaultPrograms.PerOrder}},
		{`INSERT INTO ledger_balances (account, currency, balance)
		  SELECT 'provider:m' || lpad(p::text, 6, '0') || ':payable', 'CNY', -$2::bigint FROM generate_series(0, $1 - 1) p
		  ON CONFLICT (account, currency) DO UPDATE SET balance = ledger_balances.balance + EXCLUDED.balance`,
			[]any{providers, int64(orders) * growth.DefaultPrograms.PerOrder}},
		{`ANALYZE`, nil},
	} {
		if _, err := pool.Exec(ctx, st.q, st.args...); err != nil {
			b.Fatalf("%s: %v", st.q, err)
		}
	}
}

// BenchmarkDailyMoney is issue 18's daily money jobs over many providers'
// postings (PLAZA_BENCH_SCALE=1: 10^5 providers with 2 rewarded orders a
// day each, PostgreSQL; 50 in the CI pass): run=payouts is one day's
// payout run (every provider is owed its day's rewards: a payout recorded,
// posted and marked PAID each), run=reconcile that day's reconciliation
// (every order's reward, every payout both ways, every touched provider's
// running balances recounted, the ledger's total). Each op of run=payouts
// pays a new day, generated untimed; run=reconcile reconciles the first.
// PLAZA_BENCH_MONEY_PROVIDERS sets another number of providers.
//
//	PLAZA_BENCH_SCALE=1 go test -run '^$' -bench DailyMoney -benchtime 1x ./growth
func BenchmarkDailyMoney(b *testing.B) {
	providers, orders := 50, 2
	if benchScale() {
		providers = 100_000
	}
	if n, err := strconv.Atoi(os.Getenv("PLAZA_BENCH_MONEY_PROVIDERS")); err == nil && n > 0 {
		providers = n // a size between the two, by hand
	}
	ctx := context.Background()
	pool := migratedPool(b)
	sealer, err := directory.NewSealer(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	day := benchBase.Truncate(24 * time.Hour)
	now := day
	svc := growth.New(growth.NewPostgres(pool), ledger.New(ledger.NewPostgres(pool), func() time.Time { return now }),
		directory.NewMemory(sealer, directory.Policy{Development: true}), growth.DefaultPrograms, growth.WithClock(func() time.Time { return now }))
	perRun := func(b *testing.B) {
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
		b.ReportMetric(float64(providers), "providers")
	}
	b.Run(fmt.Sprintf("providers=%d/run=payouts", providers), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			d := day.AddDate(0, 0, i)
			t0 := time.Now()
			benchMoneyDay(b, pool, providers, orders, d)
			b.Logf("generated day %s: %d providers' %d orders and rewards in %v", d.Format(time.DateOnly), providers, providers*orders,
				time.Since(t0).Round(time.Millisecond))
			now = d.Add(23 * time.Hour)
			b.StartTimer()
			run, err := svc.Payouts(ctx, d)
			if err != nil {
				b.Fatal(err)
			}
			if run.Paid != providers || run.Amount != int64(providers*orders)*growth.DefaultPrograms.PerOrder {
				b.Fatalf("paid %d for %d, want %d providers' payables", run.Paid, run.Amount, providers)
			}
		}
		perRun(b)
	})
	b.Run(fmt.Sprintf("providers=%d/run=reconcile", providers), func(b *testing.B) {
		for b.Loop() {
			r, err := svc.Reconcile(ctx, day)
			if err != nil {
				b.Fatal(err)
			}
			if len(r.Problem) != 0 || r.Orders != providers*orders || r.Payouts != providers {
				b.Fatalf("reconciled %d orders and %d payouts, problems %q", r.Orders, r.Payouts, r.Problem)
			}
		}
		perRun(b)
	})
}
