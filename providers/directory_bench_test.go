package providers_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/providers"
)

// BenchmarkDirectoryRouting is what serving one directory change costs the
// routing (the set of callable providers), after the directory has applied
// it to its snapshot: a suspension or resumption, then the set for the new
// snapshot. The providers have endpoints (a secret each in the store), as
// most do in production.
func BenchmarkDirectoryRouting(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run("providers="+strconv.Itoa(n), func(b *testing.B) {
			ctx := context.Background()
			sealer, _ := directory.NewSealer(make([]byte, 32))
			store := directory.NewMemory(sealer, directory.Policy{Development: true})
			ps := make([]directory.Provider, n)
			for i := range ps {
				ps[i] = directory.Generated(1, i, directory.GenerateOptions{})
				ps[i].Endpoint = "http://127.0.0.1:9"
			}
			if err := store.Seed(ps); err != nil {
				b.Fatal(err)
			}
			d := providers.NewDirectory(store, providers.Env{Embedded: demo.Embedded}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if _, err := d.Build(ctx, store.Snapshot()); err != nil {
				b.Fatal(err)
			}
			to := []directory.Lifecycle{directory.Suspended, directory.Active}
			k := 0
			for b.Loop() {
				b.StopTimer()
				if _, err := store.Transition(ctx, ps[k%n].ID, to[(k/n)%2], "bench", ""); err != nil {
					b.Fatal(err)
				}
				k++
				snap := store.Snapshot()
				b.StartTimer()
				set, err := d.Build(ctx, snap)
				if err != nil || set.Registry == nil {
					b.Fatal(err)
				}
			}
		})
	}
}
