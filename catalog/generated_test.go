package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/supply"
)

// TestIndexGeneratedInBulk feeds more providers than one index write
// holds (50 providers of 20 items make a write): every provider's items
// are indexed and acknowledged, a second run duplicates nothing, an
// unreachable provider is counted and left out, and a provider over its
// item cap stops the run with the quota's error.
func TestIndexGeneratedInBulk(t *testing.T) {
	ctx := context.Background()
	const count, k = 120, 20
	grocer := func(i int) (*demo.Grocery, error) {
		id := fmt.Sprintf("bulk-%03d", i)
		return demo.NewGrocery(connectors.Descriptor{ID: id, Name: id, Vertical: connectors.VerticalGrocery}, demo.WithItems(k), demo.WithUsers(0))
	}
	catalogOf := func(_ context.Context, i int) (string, connectors.Catalog, error) {
		if i == 77 {
			return "bulk-077", nil, errors.New("endpoint down")
		}
		g, err := grocer(i)
		if err != nil {
			return "", nil, err
		}
		return g.Describe().ID, g, nil
	}
	ix, err := supply.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	in := catalog.New(ix, nil)
	res, err := catalog.IndexGenerated(ctx, in, nil, count, k, 3, catalogOf)
	if err != nil {
		t.Fatal(err)
	}
	if want := (catalog.BulkResult{Providers: count - 1, Indexed: (count - 1) * k, Unreachable: 1}); res != want {
		t.Fatalf("first run: %+v, want %+v", res, want)
	}
	if ix.Len() != (count-1)*k {
		t.Fatalf("the index holds %d items, want %d", ix.Len(), (count-1)*k)
	}
	for _, id := range []string{"bulk-000", "bulk-049", "bulk-050", "bulk-119"} {
		n, _, err := ix.Live(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n != k {
			t.Errorf("%s: %d items indexed, want %d", id, n, k)
		}
	}
	// A second run writes the same items again (the demo's versions
	// follow its build): the index holds each once.
	if _, err := catalog.IndexGenerated(ctx, in, nil, count, k, 3, catalogOf); err != nil {
		t.Fatal(err)
	}
	if ix.Len() != (count-1)*k {
		t.Fatalf("after a second run the index holds %d items, want %d", ix.Len(), (count-1)*k)
	}

	capped := catalog.New(must(supply.NewMemory()), func(id string) (directory.Limits, bool) {
		if id == "bulk-003" {
			return directory.Limits{MaxItems: 5}, true
		}
		return directory.Limits{}, false
	})
	_, err = catalog.IndexGenerated(ctx, capped, nil, 10, k, 1, catalogOf)
	var ce *connectors.Error
	if !errors.As(err, &ce) || ce.Kind != connectors.KindForbidden {
		t.Fatalf("a provider over its item cap: %v, want the quota's FORBIDDEN error", err)
	}
	if n := capped.Index().(*supply.Memory).Len(); n != 0 {
		t.Fatalf("the refused write indexed %d items of its providers, want none", n)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
