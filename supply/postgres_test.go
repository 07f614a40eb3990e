package supply

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/directory/pgtest"
)

// openPostgres returns a migrated index in a database of the test's own.
func openPostgres(t *testing.T) *Postgres {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return NewPostgres(pool)
}

func TestPostgresContract(t *testing.T) {
	runContract(t, func(t *testing.T) Index { return openPostgres(t) })
}
