package gateway

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

// countedGrocery is a demo grocery whose Stores calls are counted and, while
// gate is open (non-nil), held until it closes.
type countedGrocery struct {
	connectors.Grocery
	calls atomic.Int32
	gate  chan struct{}
	last  atomic.Pointer[[]string] // ids of the last call
}

func (c *countedGrocery) Stores(ctx context.Context, ids []string) ([]connectors.Result[connectors.Store], error) {
	c.calls.Add(1)
	c.last.Store(&ids)
	if c.gate != nil {
		<-c.gate
	}
	return c.Grocery.Stores(ctx, ids)
}

func mustCountedGateway(tb testing.TB, gate chan struct{}) (*Gateway, *countedGrocery) {
	tb.Helper()
	groc, err := demo.NewGrocery(connectors.Descriptor{ID: "freshmart", Vertical: connectors.VerticalGrocery})
	if err != nil {
		tb.Fatal(err)
	}
	c := &countedGrocery{Grocery: groc, gate: gate}
	reg, err := connectors.NewRegistry(c)
	if err != nil {
		tb.Fatal(err)
	}
	return New(reg), c
}

// waitFor polls cond until it holds, failing after a generous deadline.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting until %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// stacks returns every goroutine's stack.
func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func TestConcurrentPrefetchFetchesOnce(t *testing.T) {
	ctx := context.Background()
	gate := make(chan struct{})
	g, conn := mustCountedGateway(t, gate)
	l := g.NewLoaders()
	key := Key{Provider: "freshmart", ID: "s-01"}

	var wg sync.WaitGroup
	var first, second map[Key]connectors.Store
	wg.Add(1)
	go func() { defer wg.Done(); first = Stores.Of(l).Prefetch(ctx, []Key{key}) }()
	waitFor(t, "the first Prefetch calls the provider", func() bool { return conn.calls.Load() == 1 })
	wg.Add(1)
	go func() { defer wg.Done(); second = Stores.Of(l).Prefetch(ctx, []Key{key, key}) }()
	// The second Prefetch either waits for the first (right) or calls the
	// provider itself (wrong, and held by the gate too): wait for either.
	waitFor(t, "the second Prefetch waits or calls", func() bool {
		return conn.calls.Load() > 1 || strings.Contains(stacks(), ".(*Loader[...]).await")
	})
	close(gate)
	wg.Wait()

	if n := conn.calls.Load(); n != 1 {
		t.Fatalf("the provider was called %d times for one key prefetched twice at once, want 1", n)
	}
	if first[key].ID != "s-01" || second[key].ID != "s-01" {
		t.Fatalf("both prefetches return the store: first %+v, second %+v", first[key], second[key])
	}
	if _, err := Stores.Of(l).Get(ctx, key); err != nil || conn.calls.Load() != 1 {
		t.Fatalf("a Get after both is answered from memory: err %v, calls %d", err, conn.calls.Load())
	}
}

func TestPrefetchAsksForARepeatedKeyOnce(t *testing.T) {
	ctx := context.Background()
	g, conn := mustCountedGateway(t, nil)
	l := g.NewLoaders()
	a, b := Key{Provider: "freshmart", ID: "s-01"}, Key{Provider: "freshmart", ID: "s-02"}
	got := Stores.Of(l).Prefetch(ctx, []Key{a, b, a, a, b})
	if ids := *conn.last.Load(); conn.calls.Load() != 1 || strings.Join(ids, ",") != "s-01,s-02" {
		t.Fatalf("%d calls, the last for %q; want one call for s-01,s-02", conn.calls.Load(), ids)
	}
	if len(got) != 2 || got[a].ID != "s-01" || got[b].ID != "s-02" {
		t.Fatalf("Prefetch returned %+v, want both stores", got)
	}
	if got := Stores.Of(l).Prefetch(ctx, []Key{b, a, b}); conn.calls.Load() != 1 || len(got) != 2 {
		t.Fatalf("again: %d calls (want still 1), %d stores (want 2)", conn.calls.Load(), len(got))
	}
}

func TestLoadManyAgreesWithLoad(t *testing.T) {
	ctx := context.Background()
	g, conn := mustCountedGateway(t, nil)
	l := g.NewLoaders()
	prefetched := Key{Provider: "freshmart", ID: "s-01"}
	missing := Key{Provider: "freshmart", ID: "no-such-store"}
	loaded := Key{Provider: "freshmart", ID: "s-02"}

	Stores.Of(l).Prefetch(ctx, []Key{prefetched, missing})
	if n := conn.calls.Load(); n != 1 {
		t.Fatalf("Prefetch of two keys: %d calls, want 1", n)
	}
	values, errs := Stores.Of(l).LoadMany(ctx, []Key{prefetched, missing, loaded})
	if n := conn.calls.Load(); n != 2 {
		t.Fatalf("LoadMany fetches only the key Prefetch did not: %d calls, want 2", n)
	}
	for i, k := range []Key{prefetched, missing, loaded} {
		v, err := Stores.Of(l).Load(ctx, k)()
		if v.ID != values[i].ID || (err == nil) != (errs[i] == nil) {
			t.Errorf("%s: LoadMany gave (%q, %v), Load gives (%q, %v)", k.ID, values[i].ID, errs[i], v.ID, err)
		}
	}
	if values[0].ID != "s-01" || values[2].ID != "s-02" {
		t.Errorf("LoadMany values = %q, %q; want s-01, s-02", values[0].ID, values[2].ID)
	}
	if connectors.KindOf(errs[1]) != connectors.KindNotFound {
		t.Errorf("the missing store fails as NOT_FOUND through LoadMany, got %v", errs[1])
	}
	// What Load fetched counts as fetched for Prefetch too.
	if got := Stores.Of(l).Prefetch(ctx, []Key{loaded}); got[loaded].ID != "s-02" || conn.calls.Load() != 2 {
		t.Errorf("Prefetch of a key Load fetched: %+v after %d calls, want it from memory after 2", got, conn.calls.Load())
	}
}

func TestLoadersBuildEachKindOnceOnFirstUse(t *testing.T) {
	g, _ := mustCountedGateway(t, nil)
	l := g.NewLoaders()
	const n = 8
	got := make([]*Loader[connectors.Store], n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = Stores.Of(l) }()
	}
	wg.Wait()
	for i, ld := range got {
		if ld == nil || ld != got[0] {
			t.Fatalf("concurrent first uses got loaders %p and %p (use %d), want one", got[0], ld, i)
		}
	}
	if ld, ok := l.byKind(Stores.Kind); !ok || ld != entityLoader(got[0]) {
		t.Fatalf("node routing gets another loader of the kind than Of: %p, want %p", ld, got[0])
	}
	if other := g.NewLoaders(); Stores.Of(other) == got[0] {
		t.Fatal("two requests' loaders share a loader")
	}
}
