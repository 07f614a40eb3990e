package directory

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// benchPool is a migrated database of the benchmark's own (dropped after).
func benchPool(b *testing.B) *pgxpool.Pool {
	b.Helper()
	raw := os.Getenv("PLAZA_TEST_DATABASE_URL")
	if raw == "" {
		raw = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, raw)
	if err != nil {
		b.Skipf("SKIP: no PostgreSQL at %s: %v", raw, err)
	}
	defer admin.Close(context.Background())
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := "plaza_dirbench_" + hex.EncodeToString(r[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(raw)
	u.Path = "/" + name
	pool, err := pgxpool.New(context.Background(), u.String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		pool.Close()
		c, err := pgx.Connect(context.Background(), raw)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	if _, err := Migrate(context.Background(), pool); err != nil {
		b.Fatal(err)
	}
	return pool
}
