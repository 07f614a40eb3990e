// Package pgtest gives a test a PostgreSQL database of its own. Tests read
// PLAZA_TEST_DATABASE_URL (default: the local server with trust auth that the
// project's machines run); without a server answering, a test is skipped
// with a visible message, except under CI=true, where it fails.
package pgtest

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
)

// DefaultURL is the server tests use when PLAZA_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ServerURL is the test server's URL.
func ServerURL() string {
	if u := os.Getenv("PLAZA_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// DatabaseURL creates a database of its own for the test (dropped, with
// FORCE, when the test ends) and returns its URL.
func DatabaseURL(tb testing.TB) string {
	tb.Helper()
	url := ServerURL()
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

// Pool returns a pool on a database of the test's own (DatabaseURL),
// closed when the test ends. The caller applies the migrations it needs.
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), DatabaseURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// KeptDatabaseURL returns the URL of the database name on the test server,
// creating it when missing: a scale benchmark keeps it between its runs so
// its rows are generated once (the harness drops it, DropDatabase). Without
// a server answering, the benchmark is skipped.
func KeptDatabaseURL(tb testing.TB, name string) string {
	tb.Helper()
	raw := ServerURL()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, raw)
	if err != nil {
		tb.Skipf("SKIP: no PostgreSQL at %s: %v", raw, err)
	}
	defer admin.Close(context.Background())
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		tb.Fatal(err)
	}
	if !exists {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			tb.Fatal(err)
		}
	}
	u, err := neturl.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// DropDatabase drops a database KeptDatabaseURL kept, if the server
// answers (best effort: the harness calls it when a section ends).
func DropDatabase(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		return
	}
	defer c.Close(context.Background())
	_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}
