package main

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/directory/pgtest"
)

// indexedItems counts a provider's live items in the shared index.
func indexedItems(t *testing.T, url, provider string) int64 {
	t.Helper()
	return scalar(t, url, `SELECT count(*) FROM supply_items WHERE provider = $1 AND NOT deleted`, provider)
}

// TestCatalogCatchUpOfProvidersActivatedElsewhere: a provider activated
// outside a gateway (straight in the directory, as another instance, an
// import or an operator's tool does) is pulled into the shared index by
// the instance that sees the change on the feed; one activated while no
// instance runs is pulled by the next instance at its start.
func TestCatalogCatchUpOfProvidersActivatedElsewhere(t *testing.T) {
	url := pgtest.DatabaseURL(t)
	env := map[string]string{"PLAZA_DATABASE_URL": url, "PLAZA_DIRECTORY_KEY": directoryKey, "PLAZA_ADMIN_ADDR": "off"}
	const secret = "a-signing-secret-of-32-characters!"
	first, firstCalls := countingProvider(t, "elsewhere-1", secret)
	second, secondCalls := countingProvider(t, "elsewhere-2", secret)

	a := startPlaza(t, env, nil) // migrates the database
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	sealer, err := directory.ParseSealerKey(directoryKey)
	if err != nil {
		t.Fatal(err)
	}
	// Another writer of the directory: nothing in it tells a gateway's
	// syncer, only the change feed does.
	outside, err := directory.OpenPostgres(ctx, pool, sealer, directory.Policy{Development: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer outside.Close()

	t.Run("an activation on the change feed is pulled", func(t *testing.T) {
		register(t, outside, "elsewhere-1", first, secret)
		eventually(t, "elsewhere-1's catalogue is in the shared index", func() bool { return indexedItems(t, url, "elsewhere-1") > 0 })
		if firstCalls.Load() == 0 {
			t.Error("elsewhere-1 was never called")
		}
	})

	t.Run("an activation while no instance runs is pulled at the next start", func(t *testing.T) {
		a.stop()
		select {
		case <-a.done:
		case <-time.After(propagation):
			t.Fatal("instance A did not stop")
		}
		register(t, outside, "elsewhere-2", second, secret)
		if n := indexedItems(t, url, "elsewhere-2"); n != 0 || secondCalls.Load() != 0 {
			t.Fatalf("with no instance running, elsewhere-2 has %d items and %d calls", n, secondCalls.Load())
		}
		startPlaza(t, env, nil)
		eventually(t, "elsewhere-2's catalogue is in the shared index", func() bool { return indexedItems(t, url, "elsewhere-2") > 0 })
	})
}
