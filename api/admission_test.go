package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

// gatedGrocery holds every Products call until the gate opens, deadline or
// not, as a provider connector that ignores its context would.
type gatedGrocery struct {
	connectors.Grocery
	entered chan struct{}
	gate    chan struct{}
}

func (g gatedGrocery) Products(ctx context.Context, ids []string) ([]connectors.Result[connectors.Product], error) {
	g.entered <- struct{}{}
	<-g.gate
	return g.Grocery.Products(context.WithoutCancel(ctx), ids)
}

// TestAdmission checks the bound on executions in progress: with room for
// one, a second request waits, and one that cannot start before its deadline
// gets 503 OVERLOADED with Retry-After; once the first is done, requests run
// again.
func TestAdmission(t *testing.T) {
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	gated := gatedGrocery{entered: make(chan struct{}, 16), gate: make(chan struct{})}
	var productID string
	for i, c := range conns {
		if g, ok := c.(connectors.Grocery); ok && gated.Grocery == nil {
			gated.Grocery = g
			conns[i] = gated
			page, err := g.SearchProducts(context.Background(), connectors.Query{First: 1})
			if err != nil || len(page.Items) == 0 {
				t.Fatalf("no product: %v", err)
			}
			productID = encodeID("Product", c.Describe().ID, page.Items[0].ID)
		}
	}
	cfg := api.DefaultConfig()
	cfg.Limits.MaxInFlight = 1
	cfg.RequestTimeout = 300 * time.Millisecond
	g := apitest.Start(t, apitest.Options{Connectors: conns, API: &cfg})
	query := apitest.Request{Query: `query($id: ID!) { node(id: $id) { id } }`, Variables: map[string]any{"id": productID}}

	first := make(chan *apitest.Response, 1)
	go func() { first <- g.Post(query) }()
	<-gated.entered // the first request holds the only slot, inside the provider

	body, _ := json.Marshal(query)
	resp, err := http.Post(g.URL+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out apitest.Response
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		len(out.Errors) != 1 || out.Errors[0].Code() != "OVERLOADED" || out.Errors[0].Extensions["retryable"] != true {
		t.Fatalf("waiting request: status %d, Retry-After %q, body %s", resp.StatusCode, resp.Header.Get("Retry-After"), raw)
	}
	if n := len(gated.entered); n != 0 {
		t.Fatalf("the refused request reached the provider (%d calls)", n)
	}

	close(gated.gate)
	if r := <-first; r.Status != http.StatusOK {
		t.Fatalf("first request: status %d: %s", r.Status, r.Raw)
	}
	go func() {
		for range gated.entered {
		}
	}()
	if r := g.Post(query); r.Status != http.StatusOK || len(r.Errors) != 0 {
		t.Fatalf("after the slot was freed: status %d: %s", r.Status, r.Raw)
	}
}
