package directory_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	neturl "net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/directory"
)

const defaultTestDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func testDatabaseURL() string {
	if u := os.Getenv("PLAZA_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultTestDatabaseURL
}

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
// the end) and returns its URL. Without a PostgreSQL server the test is
// skipped with a message, except under CI=true, where it fails.
func mustDatabaseURL(tb testing.TB) string {
	tb.Helper()
	url := testDatabaseURL()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL at PLAZA_TEST_DATABASE_URL=%s cannot be reached (CI needs it): %v", url, err)
		}
		tb.Skipf("SKIP: no PostgreSQL answers at %s (%v); set PLAZA_TEST_DATABASE_URL or start it (see .ci/run)", url, err)
	}
	defer admin.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "plaza_dir_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := neturl.Parse(url)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
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
