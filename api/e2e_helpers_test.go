package api_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// Helpers shared by the end-to-end tests: they post real GraphQL documents
// to the real handler (over loopback) and decode what a client would see.

// startDemo starts a gateway over fresh demo providers, so tests that mutate
// state never see each other's orders and bookings.
func startDemo(tb testing.TB) *apitest.Gateway {
	tb.Helper()
	return apitest.Start(tb, apitest.Options{})
}

// mustData posts req, fails the test on any error, and decodes data into T.
func mustData[T any](tb testing.TB, g *apitest.Gateway, req apitest.Request) (T, *apitest.Response) {
	tb.Helper()
	var out T
	resp := g.MustPost(req)
	resp.Decode(tb, &out)
	return out, resp
}

// mustFail posts req and requires exactly one error of code whose message
// contains msg; it returns the response for further checks.
func mustFail(tb testing.TB, g *apitest.Gateway, req apitest.Request, code, msg string) *apitest.Response {
	tb.Helper()
	resp := g.Post(req)
	if resp.Status >= 500 {
		tb.Fatalf("status %d: %s", resp.Status, resp.Raw)
	}
	if len(resp.Errors) != 1 {
		tb.Fatalf("want 1 error %s, got %d: %s", code, len(resp.Errors), resp.Raw)
	}
	e := resp.Errors[0]
	if e.Code() != code || !strings.Contains(e.Message, msg) {
		tb.Fatalf("got error %s %q, want %s containing %q\n%s", e.Code(), e.Message, code, msg, resp.Raw)
	}
	return resp
}

// encodeID builds a global ID the way the gid package does, so tests can
// forge IDs a client might send (of unknown providers, or of slot kinds).
func encodeID(kind, provider, local string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + kind + ":" + provider + ":" + local))
}

// decodeID returns the parts of a global ID; tests use it only to check
// which provider an object came from.
func decodeID(tb testing.TB, id string) (kind, provider, local string) {
	tb.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		tb.Fatalf("id %q is not base64url: %v", id, err)
	}
	parts := strings.SplitN(string(raw), ":", 4)
	if len(parts) != 4 {
		tb.Fatalf("id %q decodes to %q", id, raw)
	}
	return parts[1], parts[2], parts[3]
}

func providerOf(tb testing.TB, id string) string {
	tb.Helper()
	_, p, _ := decodeID(tb, id)
	return p
}

// pageInfo is the Relay PageInfo as decoded by tests.
type pageInfo struct {
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
	EndCursor       *string `json:"endCursor"`
}

// conn is a decoded connection of nodes of type N.
type conn[N any] struct {
	TotalCount int      `json:"totalCount"`
	PageInfo   pageInfo `json:"pageInfo"`
	Edges      []struct {
		Cursor string  `json:"cursor"`
		Node   N       `json:"node"`
		Score  float64 `json:"score"`
	} `json:"edges"`
}

func (c conn[N]) nodes() []N {
	out := make([]N, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node
	}
	return out
}

// idNode is any node decoded by its id and typename.
type idNode struct {
	ID       string `json:"id"`
	Typename string `json:"__typename"`
}

// storeFixture is a store with what an order needs: slots and products.
type storeFixture struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	DeliverySlots []struct {
		ID        string `json:"id"`
		Remaining int    `json:"remaining"`
	} `json:"deliverySlots"`
	Products conn[struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Stock int    `json:"stock"`
	}] `json:"products"`
}

const storeFixtureQuery = `query($city: String) {
  stores(city: $city, first: 3) { edges { node {
    id name
    deliverySlots { id remaining }
    products(first: 10) { totalCount edges { node { id name stock } } }
  } } }
}`

// groceryStores returns a few stores of city with their slots and products.
func groceryStores(tb testing.TB, g *apitest.Gateway, city string) []storeFixture {
	tb.Helper()
	d, _ := mustData[struct {
		Stores conn[storeFixture] `json:"stores"`
	}](tb, g, apitest.Request{Query: storeFixtureQuery, Variables: map[string]any{"city": city}})
	if len(d.Stores.Edges) == 0 {
		tb.Fatalf("no stores in %s", city)
	}
	return d.Stores.nodes()
}

// productStock reads a product's stock back through node(id:).
func productStock(tb testing.TB, g *apitest.Gateway, id string) int {
	tb.Helper()
	d, _ := mustData[struct {
		Node struct {
			Stock int `json:"stock"`
		} `json:"node"`
	}](tb, g, apitest.Request{Query: `query($id: ID!) { node(id: $id) { ... on Product { stock } } }`, Variables: map[string]any{"id": id}})
	return d.Node.Stock
}

const placeOrderMutation = `mutation($in: PlaceGroceryOrderInput!) {
  placeGroceryOrder(input: $in) { id status total { amount currency } items { quantity product { id } } }
}`

// orderInput builds a placeGroceryOrder input of one line.
func orderInput(store, slot, product string, qty int, key string) map[string]any {
	in := map[string]any{
		"storeId": store, "slotId": slot,
		"items": []any{map[string]any{"productId": product, "quantity": qty}},
	}
	if key != "" {
		in["idempotencyKey"] = key
	}
	return map[string]any{"in": in}
}

type placedOrder struct {
	PlaceGroceryOrder *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"placeGroceryOrder"`
}

// doctorFixture is a doctor with its open slots.
type doctorFixture struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Slots []struct {
		ID        string `json:"id"`
		Available bool   `json:"available"`
	} `json:"slots"`
}

// someDoctors returns doctors with their available slots.
func someDoctors(tb testing.TB, g *apitest.Gateway, n int) []doctorFixture {
	tb.Helper()
	d, _ := mustData[struct {
		Doctors conn[doctorFixture] `json:"doctors"`
	}](tb, g, apitest.Request{Query: `query($n: Int) { doctors(first: $n) { edges { node { id name slots { id available } } } } }`,
		Variables: map[string]any{"n": n}})
	if len(d.Doctors.Edges) == 0 || len(d.Doctors.Edges[0].Node.Slots) == 0 {
		tb.Fatalf("no doctors with slots")
	}
	return d.Doctors.nodes()
}

// serviceFixture is a government service with an office and a free slot.
type serviceFixture struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	RequiredDocuments []string `json:"requiredDocuments"`
	Offices           []struct {
		ID    string `json:"id"`
		Slots []struct {
			ID string `json:"id"`
		} `json:"slots"`
	} `json:"offices"`
}

func someService(tb testing.TB, g *apitest.Gateway, text string) serviceFixture {
	tb.Helper()
	d, _ := mustData[struct {
		GovServices conn[serviceFixture] `json:"govServices"`
	}](tb, g, apitest.Request{Query: `query($t: String) { govServices(text: $t, first: 1) { edges { node {
		id name requiredDocuments offices { id slots { id } } } } } }`, Variables: map[string]any{"t": text}})
	if len(d.GovServices.Edges) == 0 {
		tb.Fatalf("no service for %q", text)
	}
	s := d.GovServices.Edges[0].Node
	if len(s.Offices) == 0 || len(s.Offices[0].Slots) == 0 {
		tb.Fatalf("service %s has no office slots", s.Name)
	}
	return s
}

// someLawyer returns one lawyer's id.
func someLawyer(tb testing.TB, g *apitest.Gateway) string {
	tb.Helper()
	d, _ := mustData[struct {
		Lawyers conn[idNode] `json:"lawyers"`
	}](tb, g, apitest.Request{Query: `{ lawyers(first: 1) { edges { node { id } } } }`})
	if len(d.Lawyers.Edges) == 0 {
		tb.Fatal("no lawyers")
	}
	return d.Lawyers.Edges[0].Node.ID
}
