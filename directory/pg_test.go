package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/directory/pgtest"
)

// mustDatabase creates a database of its own for the test (dropped at the
// end) and returns its connection config.
func mustDatabase(tb testing.TB) *pgxpool.Config {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(mustDatabaseURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// mustDatabaseURL creates a database of its own for the test (dropped at
// the end) and returns its URL; see pgtest.
func mustDatabaseURL(tb testing.TB) string {
	tb.Helper()
	return pgtest.DatabaseURL(tb)
}

func mustPool(tb testing.TB, cfg *pgxpool.Config) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg.Copy())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// mustMigratedPool is a pool on a fresh, migrated database of the test's own.
func mustMigratedPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool := mustPool(tb, mustDatabase(tb))
	if _, err := directory.Migrate(context.Background(), pool); err != nil {
		tb.Fatal(err)
	}
	return pool
}

func mustOpenPostgres(tb testing.TB, pool *pgxpool.Pool, opts []directory.Option, pgOpts ...directory.PostgresOption) *directory.Postgres {
	tb.Helper()
	pgOpts = append([]directory.PostgresOption{directory.WithPoll(time.Second), directory.WithReconnectBackoff(100 * time.Millisecond)}, pgOpts...)
	p, err := directory.OpenPostgres(context.Background(), pool, mustSealer(tb), directory.Policy{Development: true}, opts, pgOpts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

func mustSealer(tb testing.TB) *directory.Sealer {
	tb.Helper()
	s, err := directory.NewSealer(testKey)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// eventually polls cond for up to 10 s (propagation is asynchronous; the
// 1 s p99 is a benchmark figure, not an assertion).
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after 10s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
