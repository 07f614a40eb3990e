package catalog_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/supply"
)

// legacyProvider is a provider of contract 1.1: callable by ID, no
// catalogue.
type legacyProvider struct{ connectors.Legal }

func syncOver(t *testing.T, cursors catalog.CursorStore) {
	t.Helper()
	ctx := context.Background()
	ix, err := supply.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	s := catalog.NewSyncer(catalog.New(ix, nil), cursors, nil, nil, catalog.SyncConfig{PageSize: 100}, nil)
	g, err := demo.NewGrocery(connectors.Descriptor{ID: "freshcart"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpprovider.NewHandler(g, "s3cret"))
	defer srv.Close()
	client, err := httpprovider.New(httpprovider.Config{ID: "freshcart", Vertical: connectors.VerticalGrocery, BaseURL: srv.URL, Secret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		change func()
		want   int
	}{
		{"the first sync pulls the whole catalogue over HTTP", func() {}, 1212},
		{"a catch-up with nothing new reads nothing", func() {}, 0},
		{"a catch-up after a change reads only it", func() { _ = g.SetPrice("p-000001", 1) }, 1},
	}
	for _, st := range steps {
		st.change()
		n, err := s.Sync(ctx, "freshcart", client)
		if err != nil || n != st.want {
			t.Fatalf("%s: %d changes, %v; want %d", st.name, n, err, st.want)
		}
	}
	if ix.Len() != 1212 {
		t.Errorf("%d items indexed, want 1212", ix.Len())
	}
	if cur, err := cursors.Cursor(ctx, "freshcart"); err != nil || cur == "" {
		t.Errorf("stored cursor %q, %v", cur, err)
	}

	legal, err := demo.NewLegal(connectors.Descriptor{ID: "lexassist"})
	if err != nil {
		t.Fatal(err)
	}
	old := httptest.NewServer(httpprovider.NewHandler(legacyProvider{legal}, "s3cret"))
	defer old.Close()
	oc, err := httpprovider.New(httpprovider.Config{ID: "lexassist", Vertical: connectors.VerticalLegal, BaseURL: old.URL, Secret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sync(ctx, "lexassist", oc); !errors.Is(err, catalog.ErrNotPublishing) {
		t.Errorf("a 1.1 provider: %v, want ErrNotPublishing", err)
	}
}

func TestSyncMemoryCursors(t *testing.T) { syncOver(t, catalog.NewMemoryCursors()) }

func TestSyncPostgresCursors(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), pgtest.DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := catalog.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	syncOver(t, catalog.NewPostgresCursors(pool))
}

// eventually waits (generously) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not true after 10s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSyncerRetries: a provider the instance does not route yet (its
// activation still on the change feed) or that fails is pulled again with
// backoff, and given up after Attempts (counted, logged); the lag is the
// age of the oldest pull owed.
func TestSyncerRetries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := demo.NewGrocery(connectors.Descriptor{ID: "freshcart"})
	if err != nil {
		t.Fatal(err)
	}
	newSyncer := func(t *testing.T, lookup catalog.Lookup, cfg catalog.SyncConfig) (*catalog.Syncer, *supply.Memory) {
		ix, err := supply.NewMemory()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ix.Close() })
		return catalog.NewSyncer(catalog.New(ix, nil), catalog.NewMemoryCursors(), lookup, nil, cfg, nil), ix
	}

	t.Run("a provider not routed yet is pulled once it is", func(t *testing.T) {
		var lookups atomic.Int32
		s, ix := newSyncer(t, func(id string) (connectors.Catalog, bool) {
			if lookups.Add(1) <= 3 {
				return nil, false
			}
			return g, true
		}, catalog.SyncConfig{RetryBase: 5 * time.Millisecond})
		go s.Run(ctx)
		s.Notify("freshcart")
		eventually(t, "the catalogue is indexed", func() bool { return ix.Len() == 1212 })
		eventually(t, "nothing is owed", func() bool { return s.Lag() == 0 })
		// The catalogue takes two pages of MaxCatalogBatch; the pull looks
		// the provider up again before the second.
		if n := lookups.Load(); n != 5 {
			t.Errorf("%d lookups, want 5 (three misses, then the pull and its second page)", n)
		}
		if s.GaveUp() != 0 {
			t.Errorf("gave up %d times", s.GaveUp())
		}
	})

	t.Run("a provider that keeps failing is given up after Attempts and counted", func(t *testing.T) {
		var lookups atomic.Int32
		s, ix := newSyncer(t, func(id string) (connectors.Catalog, bool) {
			lookups.Add(1)
			return failingCatalog{}, true
		}, catalog.SyncConfig{Attempts: 3, RetryBase: time.Millisecond})
		go s.Run(ctx)
		s.Notify("freshcart")
		eventually(t, "the syncer gives up", func() bool { return s.GaveUp() == 1 })
		eventually(t, "nothing is owed", func() bool { return s.Lag() == 0 })
		if n := lookups.Load(); n != 3 {
			t.Errorf("%d pulls, want 3", n)
		}
		if ix.Len() != 0 {
			t.Errorf("%d items indexed, want none", ix.Len())
		}
	})

	t.Run("the lag is the age of the oldest pull owed", func(t *testing.T) {
		t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
		var now atomic.Pointer[time.Time]
		set := func(d time.Duration) { at := t0.Add(d); now.Store(&at) }
		set(0)
		s, _ := newSyncer(t, func(id string) (connectors.Catalog, bool) { return nil, true },
			catalog.SyncConfig{Now: func() time.Time { return *now.Load() }})
		if s.Lag() != 0 {
			t.Fatalf("lag %v with nothing owed", s.Lag())
		}
		s.Notify("a")
		set(3 * time.Second)
		s.Notify("b", "a") // a stays owed since t0
		set(10 * time.Second)
		if got := s.Lag(); got != 10*time.Second {
			t.Errorf("lag %v, want 10s", got)
		}
		go s.Run(ctx) // routed in process: nothing to pull, both done
		eventually(t, "nothing is owed", func() bool { return s.Lag() == 0 })
	})

	t.Run("past QueueSize owed pulls, a notification waits for the catch-up", func(t *testing.T) {
		s, _ := newSyncer(t, func(id string) (connectors.Catalog, bool) { return nil, true }, catalog.SyncConfig{QueueSize: 2})
		s.Notify("a", "b", "c", "a")
		if got := s.Pending(); got != 2 {
			t.Errorf("%d owed, want 2", got)
		}
	})
}

// failingCatalog is a provider whose catalogue cannot be read.
type failingCatalog struct{}

func (failingCatalog) CatalogChanges(context.Context, string, int) (connectors.CatalogChanges, error) {
	return connectors.CatalogChanges{}, connectors.Errorf(connectors.KindUnavailable, "provider down")
}

// countingCatalog counts the pages a pull asks for.
type countingCatalog struct {
	connectors.Catalog
	pages atomic.Int32
}

func (c *countingCatalog) CatalogChanges(ctx context.Context, cursor string, limit int) (connectors.CatalogChanges, error) {
	c.pages.Add(1)
	return c.Catalog.CatalogChanges(ctx, cursor, limit)
}

// A provider suspended while its catalogue is pulled is called no more: the
// pull stops at the next page and the next sync resumes from the cursor.
func TestSyncStopsWhenTheProviderIsNoLongerRouted(t *testing.T) {
	ctx := context.Background()
	g, err := demo.NewGrocery(connectors.Descriptor{ID: "freshcart"})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := supply.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	cat := &countingCatalog{Catalog: g}
	var routed atomic.Bool
	routed.Store(true)
	lookup := func(string) (connectors.Catalog, bool) { return cat, routed.Load() }
	s := catalog.NewSyncer(catalog.New(ix, nil), catalog.NewMemoryCursors(), lookup, nil, catalog.SyncConfig{PageSize: 100}, nil)

	// Suspended after the first page: the demo catalogue (1,212 items) has 13.
	suspend := &pageHook{countingCatalog: cat, after: 1, do: func() { routed.Store(false) }}
	n, err := s.Sync(ctx, "freshcart", suspend)
	if err != nil || n != 100 || cat.pages.Load() != 1 {
		t.Fatalf("sync while suspended: %d changes over %d pages, %v; want 100 over 1", n, cat.pages.Load(), err)
	}
	routed.Store(true)
	if n, err := s.Sync(ctx, "freshcart", cat); err != nil || n != 1112 {
		t.Fatalf("sync once routed again: %d changes, %v; want the other 1112", n, err)
	}
	if ix.Len() != 1212 {
		t.Fatalf("index holds %d items, want 1212", ix.Len())
	}
}

// pageHook runs do once after pages have been read.
type pageHook struct {
	*countingCatalog
	after int32
	do    func()
}

func (h *pageHook) CatalogChanges(ctx context.Context, cursor string, limit int) (connectors.CatalogChanges, error) {
	ch, err := h.countingCatalog.CatalogChanges(ctx, cursor, limit)
	if h.pages.Load() == h.after {
		h.do()
	}
	return ch, err
}
