package gateway

import (
	"context"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gid"
)

// petShop is a grocery that also sells pets: a connector with the batch
// methods of two kinds the gateway has never heard of.
type petShop struct {
	connectors.Grocery
	calls atomic.Int32
}

func (p *petShop) Pets(_ context.Context, ids []string) ([]connectors.Result[connectors.Store], error) {
	p.calls.Add(1)
	out := make([]connectors.Result[connectors.Store], len(ids))
	for i, id := range ids {
		out[i].Value = connectors.Store{ID: id, Name: "pet " + id}
	}
	return out, nil
}

func (p *petShop) Toys(_ context.Context, ids []string) ([]connectors.Result[[]connectors.Product], error) {
	p.calls.Add(1)
	out := make([]connectors.Result[[]connectors.Product], len(ids))
	for i, id := range ids {
		out[i].Value = []connectors.Product{{ID: id + "-ball"}}
	}
	return out, nil
}

type petShops interface {
	connectors.Connector
	Pets(context.Context, []string) ([]connectors.Result[connectors.Store], error)
	Toys(context.Context, []string) ([]connectors.Result[[]connectors.Product], error)
}

// TestAKindIsOneDeclaration declares two new kinds, and nothing else, and
// checks that everything the gateway does per kind follows: a typed loader,
// `node` routing for the kind with IDs of its own (not for the one listed
// under its parent), one call per provider for a prefetch, the default
// TTLs, invalidation of the child with its parent, and the complexity
// weight the GraphQL layer reads.
func TestAKindIsOneDeclaration(t *testing.T) {
	var set kindSet
	pets := declareIn(&set, Entity[petShops, connectors.Store]{
		Kind: "Pet", Op: "Pets", Get: petShops.Pets, TTL: time.Minute, Weight: 3})
	toys := declareIn(&set, Entity[petShops, []connectors.Product]{
		Kind: "PetToy", Op: "PetToys", Get: petShops.Toys, TTL: 30 * time.Second, Parent: "Pet", Epoch: true, Weight: 1})

	groc, err := demo.NewGrocery(connectors.Descriptor{ID: "zoo", Vertical: connectors.VerticalGrocery})
	if err != nil {
		t.Fatal(err)
	}
	shop := &petShop{Grocery: groc}
	reg, err := connectors.NewRegistry(shop)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g := New(reg)
	l := newLoaders(g, g.Registry(), &set)
	rex := Key{Provider: "zoo", ID: "rex"}

	t.Run("its typed loader loads through the declared batch method", func(t *testing.T) {
		p, err := pets.Of(l).Get(ctx, rex)
		if err != nil || p.Name != "pet rex" || shop.calls.Load() != 1 {
			t.Fatalf("got %+v, %v after %d calls; want pet rex after 1", p, err, shop.calls.Load())
		}
		ts, err := toys.Of(l).Get(ctx, rex)
		if err != nil || len(ts) != 1 || ts[0].ID != "rex-ball" {
			t.Fatalf("toys %+v, %v", ts, err)
		}
	})
	t.Run("node routes its IDs to that loader, from what the request fetched", func(t *testing.T) {
		before := shop.calls.Load()
		v, _, err := l.Node(ctx, gid.ID{Kind: "Pet", Provider: "zoo", Local: "rex"})
		if p, ok := v.(connectors.Store); err != nil || !ok || p.Name != "pet rex" || shop.calls.Load() != before {
			t.Fatalf("node gave %#v, %v (%d calls more)", v, err, shop.calls.Load()-before)
		}
	})
	t.Run("node refuses the kind listed under its parent", func(t *testing.T) {
		_, _, err := l.Node(ctx, gid.ID{Kind: "PetToy", Provider: "zoo", Local: "rex"})
		if connectors.KindOf(err) != connectors.KindInvalid {
			t.Fatalf("error %v, want INVALID", err)
		}
	})
	t.Run("nodes prefetch its IDs in one call per provider", func(t *testing.T) {
		before := shop.calls.Load()
		l.PrefetchByKind(ctx, map[gid.Kind][]Key{"Pet": {{Provider: "zoo", ID: "a"}, {Provider: "zoo", ID: "b"}}})
		if n := shop.calls.Load() - before; n != 1 {
			t.Fatalf("%d calls, want 1", n)
		}
	})
	t.Run("cache policy, invalidation and weight are derived", func(t *testing.T) {
		d := set.derived()
		if want := map[gid.Kind]time.Duration{"Pet": time.Minute, "PetToy": 30 * time.Second}; !maps.Equal(d.ttls, want) {
			t.Errorf("TTLs %v, want %v", d.ttls, want)
		}
		if want := map[gid.Kind]gid.Kind{"Pet": "PetToy"}; !maps.Equal(d.cachedPerParent, want) {
			t.Errorf("cached per parent %v, want %v", d.cachedPerParent, want)
		}
		if want := map[gid.Kind]bool{"PetToy": true}; !maps.Equal(d.epoch, want) {
			t.Errorf("epoch kinds %v, want %v", d.epoch, want)
		}
		if infos := set.infos(); len(infos) != 2 || infos[0].Weight != 3 || infos[0].Parent != "" || infos[1].Parent != "Pet" {
			t.Errorf("kinds %+v", infos)
		}
	})
}
