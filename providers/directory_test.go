package providers_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/providers"
)

// countingEmbedded builds demo providers and counts how many it built.
func countingEmbedded(built *atomic.Int64) func(connectors.Descriptor) (connectors.Connector, error) {
	return func(d connectors.Descriptor) (connectors.Connector, error) {
		built.Add(1)
		return demo.New(d)
	}
}

func mustMemory(t *testing.T, ps ...directory.Provider) *directory.Memory {
	t.Helper()
	sealer, err := directory.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	m := directory.NewMemory(sealer, directory.Policy{Development: true})
	if err := m.Seed(ps); err != nil {
		t.Fatal(err)
	}
	return m
}

func inProcess(id string, v connectors.Vertical, lc directory.Lifecycle, cities ...string) directory.Provider {
	return directory.Provider{ID: id, Vertical: v, Name: id, Cities: cities, Lifecycle: lc,
		Limits:   directory.Limits{Timeout: 700 * time.Millisecond, MaxConcurrent: 7},
		CacheTTL: map[string]time.Duration{"Product": 30 * time.Second}}
}

func TestDirectoryView(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	t.Run("a view builds no connector until a provider is called, then reuses it across versions", func(t *testing.T) {
		store := mustMemory(t,
			inProcess("grocer-a", connectors.VerticalGrocery, directory.Active, "Hangzhou"),
			inProcess("grocer-b", connectors.VerticalGrocery, directory.Active, "Shanghai"),
			inProcess("doctor-a", connectors.VerticalMedical, directory.Suspended, "Hangzhou"))
		var built atomic.Int64
		d := providers.NewDirectory(store, providers.Env{Embedded: countingEmbedded(&built)}, log)
		set := d.View(store.Snapshot())
		if built.Load() != 0 || set.Registry.Len() != 2 {
			t.Fatalf("a fresh view built %d connectors and counts %d callable, want 0 and 2", built.Load(), set.Registry.Len())
		}
		c, ok := set.Registry.Get("grocer-a")
		if !ok || c.Describe().ID != "grocer-a" || built.Load() != 1 {
			t.Fatalf("Get(grocer-a) = %v, %v after %d builds, want the connector from one build", c, ok, built.Load())
		}
		if _, ok := set.Registry.Get("doctor-a"); ok {
			t.Fatal("a SUSPENDED provider is callable")
		}
		if _, err := set.Registry.Grocery("nobody"); connectors.KindOf(err) != connectors.KindNotFound {
			t.Fatalf("Grocery(nobody) = %v, want NOT_FOUND", err)
		}
		// An unrelated change: a new version, grocer-a's connector kept.
		if _, err := store.Transition(ctx, "grocer-b", directory.Suspended, "test", ""); err != nil {
			t.Fatal(err)
		}
		next := d.View(store.Snapshot())
		again, _ := next.Registry.Get("grocer-a")
		if again != c || built.Load() != 1 {
			t.Fatalf("grocer-a after an unrelated change: same connector %v, %d builds; want the same one, 1 build", again == c, built.Load())
		}
		if _, ok := next.Registry.Get("grocer-b"); ok || next.Registry.Len() != 1 {
			t.Fatalf("the suspended grocer-b is callable (%v) or counted (%d callable)", ok, next.Registry.Len())
		}
		// The older view is pinned: it still serves grocer-b.
		if _, ok := set.Registry.Get("grocer-b"); !ok {
			t.Fatal("a view changed under its readers: grocer-b vanished from the older version's view")
		}
	})

	t.Run("Serves and Callable answer from the snapshot (ACTIVE, declaring the city without case), building no connector", func(t *testing.T) {
		store := mustMemory(t,
			inProcess("grocer-a", connectors.VerticalGrocery, directory.Active, "Hangzhou", "Ningbo"),
			inProcess("grocer-b", connectors.VerticalGrocery, directory.Suspended, "Hangzhou"))
		var built atomic.Int64
		reg := providers.NewDirectory(store, providers.Env{Embedded: countingEmbedded(&built)}, log).View(store.Snapshot()).Registry
		for _, tc := range []struct {
			id, city string
			want     bool
		}{
			{"grocer-a", "Hangzhou", true},
			{"grocer-a", "ningbo", true},
			{"grocer-a", "Shanghai", false},
			{"grocer-a", "", false},
			{"grocer-b", "Hangzhou", false}, // suspended
			{"nobody", "Hangzhou", false},
		} {
			if got := reg.Serves(tc.id, tc.city); got != tc.want {
				t.Errorf("Serves(%q, %q) = %v, want %v", tc.id, tc.city, got, tc.want)
			}
		}
		for id, want := range map[string]bool{"grocer-a": true, "grocer-b": false, "nobody": false} {
			if got := reg.Callable(id); got != want {
				t.Errorf("Callable(%q) = %v, want %v", id, got, want)
			}
		}
		if built.Load() != 0 {
			t.Fatalf("Serves and Callable built %d connectors, want none", built.Load())
		}
	})

	t.Run("a changed entry gets a new connector on its next call", func(t *testing.T) {
		store := mustMemory(t, inProcess("grocer-a", connectors.VerticalGrocery, directory.Active, "Hangzhou"))
		var built atomic.Int64
		d := providers.NewDirectory(store, providers.Env{Embedded: countingEmbedded(&built)}, log)
		c, _ := d.View(store.Snapshot()).Registry.Get("grocer-a")
		if _, err := store.UpdateCities(ctx, "grocer-a", []string{"Hangzhou", "Ningbo"}, "test", "coverage grows"); err != nil {
			t.Fatal(err)
		}
		c2, ok := d.View(store.Snapshot()).Registry.Get("grocer-a")
		if !ok || c2 == c || built.Load() != 2 {
			t.Fatalf("after a city change: callable %v, new connector %v, %d builds; want a new one from a second build", ok, c2 != c, built.Load())
		}
		if got := c2.Describe().Cities; len(got) != 2 || got[1] != "Ningbo" {
			t.Fatalf("the new connector serves %v, want [Hangzhou Ningbo]", got)
		}
	})

	t.Run("in-process connectors are bounded, and one pushed out is derived again", func(t *testing.T) {
		var ps []directory.Provider
		for _, id := range []string{"g-1", "g-2", "g-3", "g-4", "g-5"} {
			ps = append(ps, inProcess(id, connectors.VerticalGrocery, directory.Active, "Hangzhou"))
		}
		store := mustMemory(t, ps...)
		var built atomic.Int64
		d := providers.NewDirectory(store, providers.Env{Embedded: countingEmbedded(&built)}, log, providers.WithResolvedBounds(0, 2))
		set := d.View(store.Snapshot())
		var first connectors.Connector
		for _, p := range ps {
			c, ok := set.Registry.Get(p.ID)
			if !ok {
				t.Fatalf("%s is not callable", p.ID)
			}
			if first == nil {
				first = c
			}
		}
		if _, local := d.Resolved(); local > 2 {
			t.Fatalf("%d in-process connectors held, want at most 2", local)
		}
		again, _ := set.Registry.Get("g-1")
		if built.Load() != 6 || again.Describe().ID != "g-1" {
			t.Fatalf("g-1 after being pushed out: %d builds, want 6 (derived again from its id)", built.Load())
		}
		// Derived from the id: the same data as the first time.
		p1, err1 := first.(connectors.Grocery).Products(ctx, []string{"p-000001"})
		p2, err2 := again.(connectors.Grocery).Products(ctx, []string{"p-000001"})
		if err1 != nil || err2 != nil || p1[0].Value.Name != p2[0].Value.Name {
			t.Fatalf("p-000001 of g-1: %+v / %+v (%v, %v), want the same product both times", p1, p2, err1, err2)
		}
	})

	t.Run("settings, call policy and cache TTLs come from the snapshot", func(t *testing.T) {
		store := mustMemory(t, inProcess("grocer-a", connectors.VerticalGrocery, directory.Active, "Hangzhou"),
			inProcess("grocer-p", connectors.VerticalGrocery, directory.Pending, "Hangzhou"))
		d := providers.NewDirectory(store, providers.Env{Embedded: demo.Embedded}, log)
		set := d.View(store.Snapshot())
		s, ok := set.Settings("grocer-a")
		if !ok || s.Timeout != 700*time.Millisecond || s.MaxConcurrent != 7 || s.CacheTTL["Product"] != 30*time.Second {
			t.Fatalf("Settings(grocer-a) = %+v, %v", s, ok)
		}
		if pc, ok := set.PolicySettings("grocer-a"); !ok || pc.Timeout != 700*time.Millisecond || pc.MaxConcurrent != 7 {
			t.Fatalf("PolicySettings(grocer-a) = %+v, %v", pc, ok)
		}
		if _, ok := set.Settings("grocer-p"); ok {
			t.Fatal("a PENDING provider has routing settings")
		}
		if got := set.CacheTTL("grocer-a", gid.Product); got != 30*time.Second {
			t.Fatalf("CacheTTL(grocer-a, Product) = %v, want 30s", got)
		}
		if got := set.CacheTTL("grocer-a", gid.Store); got != 0 {
			t.Fatalf("CacheTTL(grocer-a, Store) = %v, want none", got)
		}
	})

	t.Run("ByVertical and All page through the coverage index in id order", func(t *testing.T) {
		store := mustMemory(t,
			inProcess("g-b", connectors.VerticalGrocery, directory.Active, "Hangzhou"),
			inProcess("g-a", connectors.VerticalGrocery, directory.Active, "Shanghai"),
			inProcess("l-a", connectors.VerticalLegal, directory.Active, "Shanghai"),
			inProcess("g-c", connectors.VerticalGrocery, directory.Retired, "Shanghai"))
		set := providers.NewDirectory(store, providers.Env{Embedded: demo.Embedded}, log).View(store.Snapshot())
		ids := func(cs []connectors.Connector) (out []string) {
			for _, c := range cs {
				out = append(out, c.Describe().ID)
			}
			return out
		}
		if got := ids(set.Registry.ByVertical(connectors.VerticalGrocery)); len(got) != 2 || got[0] != "g-a" || got[1] != "g-b" {
			t.Fatalf("ByVertical(GROCERY) = %v, want [g-a g-b]", got)
		}
		if got := ids(set.Registry.All()); len(got) != 3 || got[0] != "g-a" || got[2] != "l-a" {
			t.Fatalf("All() = %v, want [g-a g-b l-a]", got)
		}
	})
}
