package gateway_test

import (
	"context"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
)

// TestIOHook checks that the hook hears of every wait for a provider and of
// nothing answered from memory: a list running in order relies on it to
// start its other elements before one waits.
func TestIOHook(t *testing.T) {
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		t.Fatal(err)
	}
	g := gateway.New(reg)
	var waits atomic.Int32
	ctx := gateway.WithIOHook(context.Background(), func(ctx context.Context) {
		if ctx == nil {
			t.Error("hook called without the caller's context")
		}
		waits.Add(1)
	})
	l := g.NewLoaders()
	prefetched := gateway.Key{Provider: "freshcart", ID: "p-000001"}
	other := gateway.Key{Provider: "freshcart", ID: "p-000002"}

	for _, step := range []struct {
		name      string
		do        func()
		wantWaits int32
	}{
		{"a prefetch calls the provider once", func() { gateway.Products.Of(l).Prefetch(ctx, []gateway.Key{prefetched}) }, 1},
		{"a load the prefetch answered does not wait", func() { mustGet(t, ctx, gateway.Products.Of(l), prefetched) }, 0},
		{"a load nothing prefetched waits for its batch and its call", func() { mustGet(t, ctx, gateway.Products.Of(l), other) }, 2},
	} {
		t.Run(step.name, func(t *testing.T) {
			waits.Store(0)
			step.do()
			if got := waits.Load(); got != step.wantWaits {
				t.Fatalf("hook called %d times, want %d", got, step.wantWaits)
			}
		})
	}
	t.Run("without a hook nothing is announced and nothing fails", func(t *testing.T) {
		mustGet(t, context.Background(), gateway.Products.Of(g.NewLoaders()), other)
	})
}

func mustGet[V any](tb testing.TB, ctx context.Context, l *gateway.Loader[V], k gateway.Key) V {
	tb.Helper()
	v, err := l.Get(ctx, k)
	if err != nil {
		tb.Fatalf("get %v: %v", k, err)
	}
	return v
}

// TestGatewayKnowsNoGraphQL keeps the package doc's promise: nothing gateway
// builds on, directly or not, is a GraphQL library. Lists reach it through
// IOHook, not by gateway importing the executor.
func TestGatewayKnowsNoGraphQL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/plaza-gateway/plaza/gateway").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps gave %d packages: %s", len(deps), out)
	}
	for _, d := range deps {
		for _, banned := range []string{"github.com/99designs/gqlgen", "github.com/vektah/gqlparser", "github.com/plaza-gateway/plaza/listexec", "github.com/plaza-gateway/plaza/graph"} {
			if d == banned || strings.HasPrefix(d, banned+"/") {
				t.Errorf("gateway depends on %s", d)
			}
		}
	}
}
