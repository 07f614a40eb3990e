package catalog_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

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
