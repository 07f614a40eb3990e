package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/conformance/conformancetest"
	provfault "github.com/plaza-gateway/plaza/connectors/conformance/faulty"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// The gateway over real HTTP providers: the eight demo providers behind the
// real contract handler on loopback (one of them a real demo-provider
// process), reached through httpprovider.Client exactly as in production.

const providerSecret = "http-providers-test-secret"

// processProvider runs in its own demo-provider process in the equivalence
// test; it is the grocery provider the 50-order query reads most from.
const processProvider = "freshcart"

// fleet describes how to run the demo providers over HTTP.
type fleet struct {
	// bin, when set, runs processProvider as a real process built from
	// cmd/demo-provider.
	bin string
	// timeout bounds each call of the gateway's clients (default 2s).
	timeout time.Duration
	// serve replaces the handler of the named providers; it receives the
	// real one.
	serve map[string]func(conn connectors.Connector, real http.Handler) http.Handler
}

// start serves fresh demo providers over HTTP and returns the gateway's
// clients for them, described as the in-process providers are.
func (f fleet) start(tb testing.TB) []connectors.Connector {
	tb.Helper()
	timeout := orDefault(f.timeout, 2*time.Second)
	var out []connectors.Connector
	for _, d := range demo.DefaultDescriptors() {
		var url string
		if f.bin != "" && d.ID == processProvider {
			url = conformancetest.StartDemoProvider(tb, f.bin, "--vertical", string(d.Vertical), "--provider", d.ID, "--secret", providerSecret)
		} else {
			conn, err := demo.New(d)
			if err != nil {
				tb.Fatal(err)
			}
			h := httpprovider.NewHandler(conn, providerSecret)
			if wrap := f.serve[d.ID]; wrap != nil {
				h = wrap(conn, h)
			}
			srv := httptest.NewServer(h)
			tb.Cleanup(srv.Close)
			url = srv.URL
		}
		c, err := httpprovider.New(httpprovider.Config{
			ID: d.ID, Vertical: d.Vertical, BaseURL: url, Secret: providerSecret, Timeout: timeout, MaxBatch: d.MaxBatch,
			Name: d.Name, Description: d.Description, Rating: d.Rating, Cities: d.Cities,
		})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(c.CloseIdleConnections)
		out = append(out, c)
	}
	return out
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// canonical re-encodes a response's data and errors with sorted keys, so two
// gateways' answers compare byte for byte.
func canonical(tb testing.TB, r *apitest.Response) string {
	tb.Helper()
	var v struct {
		Data   any `json:"data"`
		Errors any `json:"errors"`
	}
	if err := json.Unmarshal(r.Raw, &v); err != nil {
		tb.Fatalf("response: %v", err)
	}
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// firstDifference shows where two canonical answers part.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-200)
	return fmt.Sprintf("in-process: …%s…\nover HTTP:  …%s…", a[from:min(len(a), i+200)], b[from:min(len(b), i+200)])
}

func TestHTTPProvidersGiveTheSameAnswers(t *testing.T) {
	bin := conformancetest.BuildDemoProvider(t)
	local := apitest.Start(t, apitest.Options{})
	remote := apitest.Start(t, apitest.Options{Connectors: fleet{bin: bin}.start(t)})

	// Inputs for the detail and mutation queries, read once (the two sides
	// hold the same data, which the read queries below verify).
	store := groceryStores(t, local, "Shanghai")[0]
	product := store.Products.Edges[0].Node
	doctor := someDoctors(t, local, 3)[0]
	service := someService(t, local, "residence permit")
	lawyer := someLawyer(t, local)
	medical, _ := mustData[struct {
		Providers conn[idNode] `json:"providers"`
	}](t, local, apitest.Request{Query: `{ providers(vertical: MEDICAL, first: 1) { edges { node { id } } } }`})

	// same posts req to both gateways and requires the same answer with
	// wantErrors errors (the same ones on both sides).
	same := func(t *testing.T, req apitest.Request, wantErrors int) (*apitest.Response, *apitest.Response) {
		t.Helper()
		a, b := local.Post(req), remote.Post(req)
		if a.Status != http.StatusOK || b.Status != http.StatusOK {
			t.Fatalf("status %d in process, %d over HTTP\n%s\n%s", a.Status, b.Status, a.Raw, b.Raw)
		}
		ca, cb := canonical(t, a), canonical(t, b)
		if ca != cb {
			t.Fatalf("answers differ\n%s", firstDifference(ca, cb))
		}
		if len(a.Errors) != wantErrors {
			t.Fatalf("both sides answered alike, with %d errors where %d are expected: %s", len(a.Errors), wantErrors, a.Raw)
		}
		return a, b
	}

	reads := []struct {
		name   string
		req    apitest.Request
		errors int
	}{
		{"providers", apitest.Request{Query: `{ providers(first: 20) { totalCount edges { node { id key name vertical description rating cities status } } } }`}, 0},
		{"search with text", apitest.Request{Query: searchQuery, Variables: map[string]any{"text": "milk", "first": 30}}, 0},
		{"search without text in one vertical and city", apitest.Request{Query: searchQuery, Variables: map[string]any{"v": "MEDICAL", "city": "Hangzhou", "first": 30}}, 0},
		{"search with a small page", apitest.Request{Query: searchQuery, Variables: map[string]any{"text": "visa", "first": 5}}, 0},
		{"a product detail through node", apitest.Request{Query: `query($id: ID!) { node(id: $id) { __typename id ... on Product {
			name description category tags price { amount currency } unit stock origin rating store { id name city address } provider { key } } } }`,
			Variables: map[string]any{"id": product.ID}}, 0},
		{"a doctor with slots through nodes", apitest.Request{Query: `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Doctor { name specialty slots { id start available } } } }`,
			Variables: map[string]any{"ids": []string{doctor.ID, encodeID("Doctor", "mediquick", "no-such-doctor")}}}, 1},
		{"the 50-order query", apitest.Request{User: "demo-1", Query: fiftyOrders}, 0},
		{"me lists", apitest.Request{User: "demo-2", Query: `{ me { id
			orders(first: 100) { totalCount edges { node { id status createdAt total { amount currency } } } }
			appointments(first: 100) { totalCount edges { node { id status start doctor { id name } } } }
			consultations(first: 100) { totalCount edges { node { id status question } } }
			legalConsultations(first: 100) { totalCount edges { node { id status topic lawyer { id } } } }
			applications(first: 100) { totalCount edges { node { id status documents service { id } } } }
		} }`}, 0},
		{"home", apitest.Request{User: "demo-1", Query: homeQuery}, 0},
	}
	for _, r := range reads {
		t.Run(r.name+" answers the same", func(t *testing.T) { same(t, r.req, r.errors) })
	}

	t.Run("every mutation answers the same and leaves the same state", func(t *testing.T) {
		const user = "demo-20"
		a, b := same(t, apitest.Request{User: user, Query: placeOrderMutation, Variables: orderInput(store.ID, store.DeliverySlots[0].ID, product.ID, 2, "same-1")}, 0)
		var placedA, placedB placedOrder
		a.Decode(t, &placedA)
		b.Decode(t, &placedB)
		same(t, apitest.Request{Query: `query($id: ID!) { node(id: $id) { ... on Product { stock } } }`, Variables: map[string]any{"id": product.ID}}, 0)
		same(t, apitest.Request{User: user, Query: `mutation($id: ID!) { cancelGroceryOrder(id: $id) { id status } }`,
			Variables: map[string]any{"id": placedA.PlaceGroceryOrder.ID}}, 0)
		same(t, apitest.Request{User: user, Query: bookMutation, Variables: bookInput(doctor.ID, doctor.Slots[0].ID, "same-2")}, 0)
		same(t, apitest.Request{User: user, Query: `mutation($in: AskDoctorInput!) { askDoctor(input: $in) { id status specialty question doctor { id } provider { key } } }`,
			Variables: map[string]any{"in": map[string]any{"provider": medical.Providers.Edges[0].Node.ID, "specialty": "Paediatrics", "question": "My son has a fever of 38.5", "idempotencyKey": "same-3"}}}, 0)
		same(t, apitest.Request{User: user, Query: `mutation($in: RequestLegalConsultationInput!) { requestLegalConsultation(input: $in) { id status topic lawyer { id } } }`,
			Variables: map[string]any{"in": map[string]any{"lawyerId": lawyer, "topic": "tenancy", "description": "deposit not returned"}}}, 0)
		same(t, apitest.Request{User: user, Query: applyMutation, Variables: map[string]any{"in": map[string]any{
			"serviceId": service.ID, "officeId": service.Offices[0].ID, "slotId": service.Offices[0].Slots[0].ID, "documents": service.RequiredDocuments}}}, 0)
		same(t, apitest.Request{User: user, Query: `{ me { orders { edges { node { id status } } } appointments { edges { node { id status } } }
			consultations { edges { node { id status } } } legalConsultations { edges { node { id status } } } applications { edges { node { id status } } } } }`}, 0)
		// A conflict is reported alike too.
		ra := local.Post(apitest.Request{User: "demo-21", Query: bookMutation, Variables: bookInput(doctor.ID, doctor.Slots[0].ID, "")})
		rb := remote.Post(apitest.Request{User: "demo-21", Query: bookMutation, Variables: bookInput(doctor.ID, doctor.Slots[0].ID, "")})
		if ca, cb := canonical(t, ra), canonical(t, rb); ca != cb || len(ra.Errors) != 1 || ra.Errors[0].Code() != "CONFLICT" {
			t.Fatalf("double booking: %s\nvs %s", ra.Raw, rb.Raw)
		}
	})
}

// misbehaving is the provider made to misbehave in the containment test.
const misbehaving = "greenbasket"

const containmentQuery = `query($ids: [ID!]!) {
  nodes(ids: $ids) { id ... on Product { name } }
  search(text: "milk", vertical: GROCERY, first: 20) { edges { node { __typename ... on Product { id price { amount } provider { key } } ... on Store { id provider { key } } ... on Provider { key } } } }
}`

func TestMisbehavingHTTPProvidersAreContained(t *testing.T) {
	always := func(mode httpprovider.FaultMode) func(connectors.Connector, http.Handler) http.Handler {
		return func(_ connectors.Connector, h http.Handler) http.Handler {
			return httpprovider.Inject(h, httpprovider.Faults{FailRate: 1, Mode: mode})
		}
	}
	tests := []struct {
		name  string
		serve func(connectors.Connector, http.Handler) http.Handler
		code  string
		// searchFails: search hits the fault too. Search reads the index
		// and completes the page through the batch endpoints, so every
		// fault reaches it; the provider's items are left out of the page
		// and it is listed as degraded.
		searchFails bool
		// timeout of the gateway's client for the provider (default 1 s: long
		// enough for the healthy provider under -race on a loaded machine).
		timeout time.Duration
	}{
		{"results out of order", func(_ connectors.Connector, h http.Handler) http.Handler { return provfault.Reorder(h) }, "PROVIDER_ERROR", true, 0},
		{"garbage JSON", always(httpprovider.FaultGarbage), "PROVIDER_ERROR", true, 0},
		{"a 500", always(httpprovider.FaultInternal), "PROVIDER_ERROR", true, 0},
		{"a stall longer than the provider timeout", always(httpprovider.FaultStall), "PROVIDER_TIMEOUT", true, 0},
		{"a 100 MB body", func(_ connectors.Connector, h http.Handler) http.Handler { return provfault.Pad(h, 100<<20) }, "PROVIDER_ERROR", true,
			// Time to read 4 MiB and give up (under the race detector on a
			// loaded machine: 3 s was too short at load 13), so the reply is
			// refused for its size, not cut by the timeout.
			10 * time.Second},
		{"a wrong signature (the provider has another secret)", func(c connectors.Connector, _ http.Handler) http.Handler {
			return httpprovider.NewHandler(c, "another-secret")
		}, "PROVIDER_ERROR", true, 0},
	}
	// Products of the healthy and the misbehaving grocery provider, and a
	// second of the misbehaving one so the batch has something to reorder.
	ids := []string{encodeID("Product", "freshcart", "p-000001"), encodeID("Product", misbehaving, "p-000001"), encodeID("Product", misbehaving, "p-000002")}
	for _, tt := range tests {
		t.Run(tt.name+" is contained to that provider", func(t *testing.T) {
			g := apitest.Start(t, apitest.Options{Index: apitest.DemoIndex(t), Connectors: fleet{
				timeout: orDefault(tt.timeout, time.Second),
				serve:   map[string]func(connectors.Connector, http.Handler) http.Handler{misbehaving: tt.serve},
			}.start(t)})
			start := time.Now()
			r := g.Post(apitest.Request{Query: containmentQuery, Variables: map[string]any{"ids": ids}})
			if took, most := time.Since(start), max(10*time.Second, 3*orDefault(tt.timeout, time.Second)); took > most {
				t.Fatalf("the query took %v, more than %v", took, most)
			}
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %s", r.Status, r.Raw)
			}
			var d struct {
				Nodes  []*idNode `json:"nodes"`
				Search conn[struct {
					Typename string `json:"__typename"`
					Key      string `json:"key"`
					Provider *struct {
						Key string `json:"key"`
					} `json:"provider"`
				}] `json:"search"`
			}
			r.Decode(t, &d)
			if len(r.Errors) == 0 {
				t.Fatalf("no error reported: %s", r.Raw)
			}
			for _, e := range r.Errors {
				if e.Code() != tt.code || e.Extensions["provider"] != misbehaving {
					t.Errorf("error %q: code %s provider %v, want %s from %s", e.Message, e.Code(), e.Extensions["provider"], tt.code, misbehaving)
				}
			}
			if len(d.Nodes) != 3 || d.Nodes[0] == nil || d.Nodes[1] != nil || d.Nodes[2] != nil {
				t.Errorf("nodes: want the healthy product and two nulls, got %s", r.Raw)
			}
			var fromHealthy, fromBad int
			for _, n := range d.Search.nodes() {
				switch {
				case n.Provider != nil && n.Provider.Key == "freshcart":
					fromHealthy++
				case n.Provider != nil && n.Provider.Key == misbehaving:
					fromBad++
				}
			}
			if fromHealthy == 0 || tt.searchFails && fromBad > 0 || !tt.searchFails && fromBad == 0 {
				t.Errorf("search: %d results from freshcart, %d from %s (its search fails: %v)", fromHealthy, fromBad, misbehaving, tt.searchFails)
			}
			degraded := r.Extensions.Plaza.Degraded
			if tt.searchFails && (len(degraded) != 1 || degraded[0].Provider != misbehaving || degraded[0].Reason != tt.code) {
				t.Errorf("extensions.plaza.degraded = %+v, want %s for %s", degraded, tt.code, misbehaving)
			}
		})
	}
}

// BenchmarkFiftyOrdersHTTPvsInProcess runs the 50-order query against the
// gateway over in-process providers and over the same providers behind the
// HTTP contract on loopback, side by side in one run:
//
//	go test ./api -run '^$' -bench FiftyOrdersHTTPvsInProcess -count 5
func BenchmarkFiftyOrdersHTTPvsInProcess(b *testing.B) {
	for _, side := range []struct {
		name  string
		conns func(testing.TB) []connectors.Connector
	}{
		{"in-process", func(tb testing.TB) []connectors.Connector { return nil }},
		{"http", func(tb testing.TB) []connectors.Connector { return fleet{}.start(tb) }},
	} {
		b.Run(side.name, func(b *testing.B) {
			g := apitest.Start(b, apitest.Options{Connectors: side.conns(b)})
			body, _ := json.Marshal(apitest.Request{Query: fiftyOrders})
			token := "Bearer " + g.Token("demo-1")
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			post := func() {
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, g.URL+"/query", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", token)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var out struct {
					Errors []any `json:"errors"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || len(out.Errors) > 0 {
					b.Fatalf("status %d, err %v, errors %v", resp.StatusCode, err, out.Errors)
				}
			}
			post() // warm the pools
			b.ResetTimer()
			for b.Loop() {
				post()
			}
		})
	}
}
