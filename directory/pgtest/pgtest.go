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
