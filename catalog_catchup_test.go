package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
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

// firstPages counts the catalogue pulls that start from the beginning (no
// since cursor) at a provider: each full pull of its catalogue makes one.
func firstPages(t *testing.T, id, secret string) (url string, pulls *atomic.Int64) {
	t.Helper()
	conn, err := demo.New(connectors.Descriptor{ID: id, Vertical: connectors.VerticalGrocery})
	if err != nil {
		t.Fatal(err)
	}
	pulls = &atomic.Int64{}
	h := httpprovider.NewHandler(conn, secret)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/catalog") && r.URL.Query().Get("since") == "" {
			pulls.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, pulls
}

// TestCatalogCatchUpAtStartOnce: two instances that start together on one
// database, with providers activated while none ran, pull each provider's
// catalogue once between them: the start-up catch-up runs under an
// advisory lock, and the instance that takes it second finds the cursors
// stored and nothing behind.
func TestCatalogCatchUpAtStartOnce(t *testing.T) {
	url := pgtest.DatabaseURL(t)
	env := map[string]string{"PLAZA_DATABASE_URL": url, "PLAZA_DIRECTORY_KEY": directoryKey, "PLAZA_ADMIN_ADDR": "off"}
	const secret = "a-signing-secret-of-32-characters!"
	first := startPlaza(t, env, nil) // migrates the database
	first.stop()
	select {
	case <-first.done:
	case <-time.After(propagation):
		t.Fatal("the migrating instance did not stop")
	}
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
	outside, err := directory.OpenPostgres(ctx, pool, sealer, directory.Policy{Development: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer outside.Close()
	ids := []string{"start-1", "start-2", "start-3"}
	pulls := map[string]*atomic.Int64{}
	for _, id := range ids {
		var endpoint string
		endpoint, pulls[id] = firstPages(t, id, secret)
		register(t, outside, id, endpoint, secret)
	}

	a, b := startPlaza(t, env, nil), startPlaza(t, env, nil)
	done := regexp.MustCompile(`msg="catalog catch-up at start done" providersPulled=(\d+)`)
	var pulled []int
	for _, p := range []*plaza{a, b} {
		eventually(t, "the start-up catch-up ends on both instances", func() bool { return done.MatchString(p.logs.String()) })
		n, _ := strconv.Atoi(done.FindStringSubmatch(p.logs.String())[1])
		pulled = append(pulled, n)
	}
	slices.Sort(pulled)
	if want := []int{0, len(ids)}; !slices.Equal(pulled, want) {
		t.Errorf("providers pulled at start by the two instances: %v, want %v (one does the catch-up)", pulled, want)
	}
	for _, id := range ids {
		if n := indexedItems(t, url, id); n == 0 {
			t.Errorf("%s has no items in the shared index", id)
		}
		// A pull that failed (a timeout on a loaded machine) is retried
		// from the beginning by the same instance: it is the catch-up's
		// one pull, not a second instance's.
		failed := int64(0)
		for _, p := range []*plaza{a, b} {
			failed += int64(strings.Count(p.logs.String(), `msg="catalog pull failed; retrying" provider=`+id+" "))
		}
		if n := pulls[id].Load(); n != 1+failed {
			t.Errorf("%s's catalogue was pulled from the beginning %d times with %d failed pulls retried, want once and the retries", id, n, failed)
		}
	}
}
