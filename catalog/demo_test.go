package catalog_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/supply"
)

// state is what the index must say of an item: its version, price and
// availability; deleted items are absent.
type state struct {
	version   int64
	price     int64
	available bool
}

// published reads every demo provider's catalogue as it is now (a pull
// from no cursor), keyed like the index.
func published(t *testing.T, conns []connectors.Connector) map[string]state {
	t.Helper()
	out := map[string]state{}
	for _, c := range conns {
		cat := c.(connectors.Catalog)
		id := c.Describe().ID
		for since := ""; ; {
			ch, err := cat.CatalogChanges(context.Background(), since, connectors.MaxCatalogBatch)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range ch.Upserts {
				s := state{version: it.Version, available: it.Available}
				if it.Price != nil {
					s.price = it.Price.Amount
				}
				out[id+"/"+string(it.Kind)+"/"+it.ID] = s
			}
			for _, d := range ch.Deletes {
				delete(out, id+"/"+string(d.Kind)+"/"+d.ID)
			}
			if since = ch.Cursor; !ch.More {
				break
			}
		}
	}
	return out
}

// inIndex pages through the whole index.
func inIndex(t *testing.T, ix supply.Index) map[string]state {
	t.Helper()
	out := map[string]state{}
	for after := ""; ; {
		p, err := ix.Search(context.Background(), supply.Query{First: supply.MaxFirst, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range p.Hits {
			out[h.Item.Ref().Key()] = state{version: h.Item.Version, price: h.Item.Price, available: h.Item.Available}
		}
		if after = p.NextCursor; after == "" {
			return out
		}
	}
}

// diff describes how the index differs from the providers, "" when it
// follows them.
func diff(want, got map[string]state) string {
	n, first := 0, ""
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			if n++; first == "" {
				first = fmt.Sprintf("%s: index %+v (present %v), provider %+v", k, g, ok, w)
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			if n++; first == "" {
				first = k + ": in the index, deleted at the provider"
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d items differ, e.g. %s", n, first)
}

// waitFollows waits (a generous deadline: the 1 s p99 is a benchmark
// figure) until the index holds exactly what the providers publish.
func waitFollows(t *testing.T, conns []connectors.Connector, ix supply.Index) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		d := diff(published(t, conns), inIndex(t, ix))
		if d == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index does not follow the providers: %s", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDemoProvidersPublishAndTheIndexFollows starts the demo providers
// publishing in process (what `go run .` does), changes them on a schedule
// (prices, stock, new and removed products, booked slots) and checks that
// the index follows every change.
func TestDemoProvidersPublishAndTheIndexFollows(t *testing.T) {
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := supply.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	in := catalog.New(ix, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Go(func() { demo.Publish(ctx, conns, in) })

	t.Run("at start the whole catalogue is indexed", func(t *testing.T) {
		waitFollows(t, conns, ix)
		if n := ix.Len(); n < 2000 {
			t.Errorf("%d items indexed, want the demo catalogue's thousands", n)
		}
	})

	grocery, medical := conns[0].(*demo.Grocery), conns[2].(*demo.Medical)
	p, err := grocery.SearchProducts(ctx, connectors.Query{Text: "milk", First: 2})
	if err != nil || len(p.Items) < 2 {
		t.Fatalf("no milk to change: %v", err)
	}
	milk, other := p.Items[0], p.Items[1]
	t.Run("a price, a sell-out, a new and a removed product each reach the index", func(t *testing.T) {
		steps := []struct {
			name   string
			change func() error
		}{
			{"new price", func() error { return grocery.SetPrice(milk.ID, milk.Price.Amount+100) }},
			{"out of stock", func() error { return grocery.SetStock(milk.ID, 0) }},
			{"new product", func() error {
				np := milk
				np.ID, np.Name = "p-churn-oat", "Oat Milk Barista 1L"
				return grocery.AddProduct(np)
			}},
			{"removed product", func() error { return grocery.RemoveProduct(other.ID) }},
		}
		for _, s := range steps {
			if err := s.change(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			waitFollows(t, conns, ix)
		}
		got := inIndex(t, ix)
		if s := got["freshcart/product/"+milk.ID]; s.price != milk.Price.Amount+100 || s.available {
			t.Errorf("milk in the index: %+v, want the new price and out of stock", s)
		}
		if _, ok := got["freshcart/product/"+other.ID]; ok {
			t.Errorf("the removed product is still in the index")
		}
		hits, err := ix.Search(ctx, supply.Query{Text: "barista", First: 1})
		if err != nil || len(hits.Hits) != 1 || hits.Hits[0].Item.ID != "p-churn-oat" {
			t.Errorf("the new product is not the first match of its name: %+v %v", hits.Hits, err)
		}
	})

	t.Run("changes on a schedule: the index follows", func(t *testing.T) {
		start := published(t, conns)
		cctx, stop := context.WithCancel(ctx)
		var churn sync.WaitGroup
		for i, c := range []connectors.Connector{grocery, medical, conns[1]} {
			churn.Go(func() { demo.Churn(cctx, c, 5*time.Millisecond, uint64(i+1)) })
		}
		time.Sleep(500 * time.Millisecond)
		stop()
		churn.Wait()
		waitFollows(t, conns, ix)
		// The schedule really changed things: items moved past the versions
		// they had before it, or appeared.
		moved := 0
		for k, s := range published(t, conns) {
			if s.version > start[k].version {
				moved++
			}
		}
		t.Logf("%d items changed on the schedule; the index holds each at its last version", moved)
		if moved < 10 {
			t.Fatalf("only %d items changed on the schedule", moved)
		}
	})
}
