package directory_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
)

func importEntries() []directory.ImportEntry {
	return []directory.ImportEntry{
		{ID: "imp-grocer", Vertical: connectors.VerticalGrocery, Name: "Imported Grocer", Cities: []string{"Hangzhou"},
			Endpoint: "http://127.0.0.1:9101", Secret: "imported-grocer-secret-0001"},
		{ID: "imp-demo", Vertical: connectors.VerticalLegal},
	}
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	pool := mustMigratedPool(t)
	follower := mustOpenPostgres(t, pool, nil)
	opts := directory.ImportOptions{Sealer: mustSealer(t), Policy: directory.Policy{Development: true}, Actor: "test", Reason: "import"}

	// Two imports of the same file at once: one inserts, the other finds
	// everything in place (the version row serializes them).
	var wg sync.WaitGroup
	results := make([]directory.ImportResult, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = directory.Import(ctx, pool, importEntries(), opts)
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	inserted := len(results[0].Inserted) + len(results[1].Inserted)
	unchanged := len(results[0].Unchanged) + len(results[1].Unchanged)
	if inserted != 2 || unchanged != 2 || max(results[0].Version, results[1].Version) != 1 {
		t.Fatalf("concurrent imports: %+v", results)
	}
	eventually(t, "the follower reloads the import", func() bool { return follower.Snapshot().Len() == 2 })
	e, ok := follower.Snapshot().Lookup("imp-grocer")
	if !ok || e.Lifecycle() != directory.Active || e.Endpoint() != "http://127.0.0.1:9101" {
		t.Fatalf("imp-grocer in the snapshot: %v %+v", ok, e.Descriptor())
	}
	if n := follower.Snapshot().CountServing(connectors.VerticalGrocery, "Hangzhou"); n != 1 {
		t.Fatalf("%d grocers serve Hangzhou, want the imported one", n)
	}
	assertSecrets(t, follower, "imp-grocer", "imported-grocer-secret-0001")

	t.Run("an operator's suspension survives a re-import", func(t *testing.T) {
		if _, err := follower.Transition(ctx, "imp-grocer", directory.Suspended, "ops-1", "complaints"); err != nil {
			t.Fatal(err)
		}
		res, err := directory.Import(ctx, pool, importEntries(), opts)
		if err != nil || len(res.Unchanged) != 2 {
			t.Fatalf("%+v, %v", res, err)
		}
		if p, err := follower.Get(ctx, "imp-grocer"); err != nil || p.Lifecycle != directory.Suspended {
			t.Fatalf("%+v, %v", p, err)
		}
	})
	t.Run("a secret sealed under another key is resealed", func(t *testing.T) {
		other, err := directory.NewSealer([]byte("another-key-of-thirty-two-bytes!"))
		if err != nil {
			t.Fatal(err)
		}
		o := opts
		o.Sealer = other
		res, err := directory.Import(ctx, pool, importEntries(), o)
		if err != nil || len(res.Updated) != 1 || res.Updated[0] != "imp-grocer" {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("bad entries import nothing", func(t *testing.T) {
		before := tableVersion(t, pool)
		tests := []struct {
			name    string
			entries []directory.ImportEntry
			opts    directory.ImportOptions
			index   int
			field   string
		}{
			{"a secret without a sealer", importEntries(), directory.ImportOptions{Policy: opts.Policy}, 0, "secret"},
			{"plain http in production", importEntries(), directory.ImportOptions{Sealer: opts.Sealer}, 0, "endpoint"},
			{"a duplicate", append(importEntries(), directory.ImportEntry{ID: "imp-demo", Vertical: connectors.VerticalLegal}), opts, 2, "id"},
			{"a rating out of range", []directory.ImportEntry{{ID: "r", Vertical: connectors.VerticalLegal, Rating: 9}}, opts, 0, "rating"},
			{"too many cities", []directory.ImportEntry{{ID: "c", Vertical: connectors.VerticalLegal, Cities: make([]string, directory.MaxCities+1)}}, opts, 0, "cities"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := directory.Import(ctx, pool, append(tt.entries, directory.ImportEntry{ID: "imp-new", Vertical: connectors.VerticalMedical}), tt.opts)
				var ie *directory.ImportError
				if !errors.As(err, &ie) || ie.Index != tt.index || directory.FieldOf(err) != tt.field || directory.CodeOf(err) != directory.Invalid {
					t.Fatalf("err = %v, want entry %d's %s", err, tt.index, tt.field)
				}
			})
		}
		if _, err := follower.Get(ctx, "imp-new"); directory.CodeOf(err) != directory.NotFound {
			t.Fatalf("a refused import wrote imp-new: %v", err)
		}
		if v := tableVersion(t, pool); v != before {
			t.Fatalf("a refused import moved the version from %d to %d", before, v)
		}
	})
}
