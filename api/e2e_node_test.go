package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// nodeFields selects, for every Node type, fields that identify its content;
// listing and refetching with the same fragment must give equal JSON.
const nodeFields = `fragment F on Node { __typename id
  ... on Provider { key name vertical }
  ... on Store { name city address }
  ... on Product { name category price { amount currency } stock }
  ... on GroceryOrder { status createdAt total { amount currency } items { quantity } }
  ... on Doctor { name specialty hospital }
  ... on Appointment { start status reason }
  ... on Consultation { specialty question status }
  ... on Lawyer { name firm practiceAreas }
  ... on LegalConsultation { topic status createdAt }
  ... on GovService { name requiredDocuments }
  ... on ServiceApplication { status documents createdAt }
}`

// everyNodeQuery lists one object of every Node type, as demo-1.
const everyNodeQuery = `{
  providers(first: 1) { edges { node { ...F } } }
  stores(first: 1) { edges { node { ...F } } }
  products(first: 1) { edges { node { ...F } } }
  doctors(first: 1) { edges { node { ...F } } }
  lawyers(first: 1) { edges { node { ...F } } }
  govServices(first: 1) { edges { node { ...F } } }
  me { ...F }
  lists: me {
    orders(first: 1) { edges { node { ...F } } }
    appointments(first: 1) { edges { node { ...F } } }
    consultations(first: 1) { edges { node { ...F } } }
    legalConsultations(first: 1) { edges { node { ...F } } }
    applications(first: 1) { edges { node { ...F } } }
  }
}` + nodeFields

// listed is one node found by a query: its type, id and canonical JSON.
type listed struct {
	typename, id string
	raw          string
}

// collectNodes walks decoded JSON and returns every object carrying a
// __typename, in document order (maps are walked by sorted key).
func collectNodes(tb testing.TB, v any) []listed {
	tb.Helper()
	var out []listed
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if tn, ok := x["__typename"].(string); ok {
				raw, _ := json.Marshal(x) // map keys marshal sorted: canonical
				id, _ := x["id"].(string)
				out = append(out, listed{tn, id, string(raw)})
				return
			}
			keys := slices.Sorted(mapKeys(x))
			for _, k := range keys {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// everyNode returns one listed object per Node type, seen as demo-1.
func everyNode(tb testing.TB, g *apitest.Gateway) []listed {
	tb.Helper()
	var data any
	g.MustPost(apitest.Request{User: "demo-1", Query: everyNodeQuery}).Decode(tb, &data)
	nodes := collectNodes(tb, data)
	types := map[string]bool{}
	for _, n := range nodes {
		types[n.typename] = true
	}
	want := []string{"Appointment", "Consultation", "Doctor", "GovService", "GroceryOrder", "Lawyer",
		"LegalConsultation", "Product", "Provider", "ServiceApplication", "Store", "User"}
	if got := slices.Sorted(mapKeys(types)); !slices.Equal(got, want) || len(nodes) != len(want) {
		tb.Fatalf("listed types %v (%d nodes), want one each of %v", got, len(nodes), want)
	}
	return nodes
}

func TestNodeRoundTrips(t *testing.T) {
	g := startDemo(t)
	nodes := everyNode(t, g)

	for _, n := range nodes {
		t.Run(n.typename+" fetched back with node(id:) has the same fields", func(t *testing.T) {
			var d struct {
				Node any `json:"node"`
			}
			g.MustPost(apitest.Request{User: "demo-1", Query: `query($id: ID!) { node(id: $id) { ...F } }` + nodeFields,
				Variables: map[string]any{"id": n.id}}).Decode(t, &d)
			got, _ := json.Marshal(d.Node)
			if string(got) != n.raw {
				t.Fatalf("node(id:) returned\n%s\nlisted as\n%s", got, n.raw)
			}
		})
	}

	t.Run("nodes(ids:) returns every type in request order", func(t *testing.T) {
		ids := make([]any, len(nodes))
		for i, n := range nodes {
			ids[len(nodes)-1-i] = n.id // reversed, so order is not accidental
		}
		var d struct {
			Nodes []any `json:"nodes"`
		}
		resp := g.MustPost(apitest.Request{User: "demo-1", Query: `query($ids: [ID!]!) { nodes(ids: $ids) { ...F } }` + nodeFields,
			Variables: map[string]any{"ids": ids}})
		resp.Decode(t, &d)
		if len(d.Nodes) != len(nodes) {
			t.Fatalf("%d nodes for %d ids", len(d.Nodes), len(nodes))
		}
		for i, got := range d.Nodes {
			raw, _ := json.Marshal(got)
			if want := nodes[len(nodes)-1-i].raw; string(raw) != want {
				t.Fatalf("nodes[%d] = %s, want %s", i, raw, want)
			}
		}
	})
}

func TestBadNodeIDs(t *testing.T) {
	g := startDemo(t)
	tests := []struct {
		name, id, code, msg string
	}{
		{"a garbage string", "garbage!!", "BAD_USER_INPUT", "not a Plaza global ID"},
		{"valid base64 of junk", "anVuaw", "BAD_USER_INPUT", "not a Plaza global ID"},
		{"an empty string", "", "BAD_USER_INPUT", "not a Plaza global ID"},
		{"an id of an unknown kind", encodeID("Spaceship", "freshcart", "x"), "BAD_USER_INPUT", "not a Plaza global ID"},
		{"an id of another format version", base64.RawURLEncoding.EncodeToString([]byte("v0:Product:freshcart:p-000001")), "BAD_USER_INPUT", "not a Plaza global ID"},
		{"a delivery slot id", encodeID("DeliverySlot", "freshcart", "ds-s-01-20250603-1"), "BAD_USER_INPUT", "cannot be fetched with node"},
		{"an office slot id", encodeID("OfficeSlot", "govdesk", "x"), "BAD_USER_INPUT", "cannot be fetched with node"},
		{"a product of an unknown provider", encodeID("Product", "nosuchshop", "p-000001"), "NOT_FOUND", "not found"},
		{"a provider that does not exist", encodeID("Provider", "nosuchshop", "nosuchshop"), "NOT_FOUND", "not found"},
		{"a product id the provider does not know", encodeID("Product", "freshcart", "p-999999"), "NOT_FOUND", "Product not found"},
		{"a store id routed to a medical provider", encodeID("Store", "mediquick", "s-01"), "NOT_FOUND", "not found"},
		{"another user's user id", encodeID("User", "plaza", "demo-2"), "NOT_FOUND", "User not found"},
		{"a user id of another issuer", encodeID("User", "freshcart", "demo-1"), "NOT_FOUND", "User not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is "+tt.code, func(t *testing.T) {
			resp := mustFail(t, g, apitest.Request{User: "demo-1", Query: `query($id: ID!) { node(id: $id) { id } }`,
				Variables: map[string]any{"id": tt.id}}, tt.code, tt.msg)
			if resp.Status != 200 || string(resp.Data) != `{"node":null}` {
				t.Fatalf("status %d, data %s", resp.Status, resp.Data)
			}
		})
	}

	t.Run("nodes(ids:) answers good ids in order and nulls each bad one with its own error", func(t *testing.T) {
		good := everyNode(t, g)
		ids := []any{good[0].id, "garbage!!", good[1].id, encodeID("Product", "nosuchshop", "p-1"), good[2].id, "", encodeID("Product", "freshcart", "p-999999")}
		wantErr := map[int]string{1: "BAD_USER_INPUT", 3: "NOT_FOUND", 5: "BAD_USER_INPUT", 6: "NOT_FOUND"}
		resp := g.Post(apitest.Request{User: "demo-1", Query: `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, Variables: map[string]any{"ids": ids}})
		var d struct {
			Nodes []*idNode `json:"nodes"`
		}
		resp.Decode(t, &d)
		if resp.Status != 200 || len(d.Nodes) != len(ids) {
			t.Fatalf("status %d, %d nodes: %s", resp.Status, len(d.Nodes), resp.Raw)
		}
		for i, n := range d.Nodes {
			if _, bad := wantErr[i]; bad != (n == nil) {
				t.Fatalf("nodes[%d] = %+v", i, n)
			}
			if n != nil && n.ID != ids[i] {
				t.Fatalf("nodes[%d].id = %s, want %s", i, n.ID, ids[i])
			}
		}
		gotErr := map[int]string{}
		for _, e := range resp.Errors {
			if len(e.Path) != 2 || e.Path[0] != "nodes" {
				t.Fatalf("error path %v: %s", e.Path, e.Message)
			}
			gotErr[int(e.Path[1].(float64))] = e.Code()
		}
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("errors by index %v, want %v", gotErr, wantErr)
		}
	})

	t.Run("nodes(ids:) refuses more than 100 ids", func(t *testing.T) {
		ids := make([]any, 101)
		for i := range ids {
			ids[i] = encodeID("Product", "freshcart", fmt.Sprintf("p-%06d", i+1))
		}
		mustFail(t, g, apitest.Request{Query: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, Variables: map[string]any{"ids": ids}},
			"BAD_USER_INPUT", "at most 100 ids")
	})
}

func TestOwnership(t *testing.T) {
	g := startDemo(t)
	var mine []listed
	for _, n := range everyNode(t, g) {
		switch n.typename {
		case "GroceryOrder", "Appointment", "Consultation", "LegalConsultation", "ServiceApplication", "User":
			mine = append(mine, n)
		}
	}
	if len(mine) != 6 {
		t.Fatalf("want six private objects of demo-1, got %d", len(mine))
	}
	for _, n := range mine {
		t.Run("another user reading demo-1's "+n.typename+" gets NOT_FOUND and no data", func(t *testing.T) {
			resp := mustFail(t, g, apitest.Request{User: "demo-2", Query: `query($id: ID!) { node(id: $id) { ...F } }` + nodeFields,
				Variables: map[string]any{"id": n.id}}, "NOT_FOUND", "not found")
			if string(resp.Data) != `{"node":null}` {
				t.Fatalf("data %s", resp.Data)
			}
			if strings.Contains(string(resp.Raw), "demo-1") {
				t.Fatalf("the response names the owner: %s", resp.Raw)
			}
		})
		t.Run("an anonymous caller reading demo-1's "+n.typename+" gets NOT_FOUND", func(t *testing.T) {
			mustFail(t, g, apitest.Request{Query: `query($id: ID!) { node(id: $id) { id } }`, Variables: map[string]any{"id": n.id}}, "NOT_FOUND", "not found")
		})
	}

	t.Run("nodes(ids:) of demo-1's objects as demo-2 are all null with NOT_FOUND", func(t *testing.T) {
		ids := make([]any, len(mine))
		for i, n := range mine {
			ids[i] = n.id
		}
		resp := g.Post(apitest.Request{User: "demo-2", Query: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, Variables: map[string]any{"ids": ids}})
		if want := `{"nodes":[` + strings.TrimSuffix(strings.Repeat("null,", len(ids)), ",") + `]}`; string(resp.Data) != want {
			t.Fatalf("data %s, want %s", resp.Data, want)
		}
		if len(resp.Errors) != len(ids) {
			t.Fatalf("%d errors for %d ids", len(resp.Errors), len(ids))
		}
		for _, e := range resp.Errors {
			if e.Code() != "NOT_FOUND" {
				t.Fatalf("error %s %q", e.Code(), e.Message)
			}
		}
	})

	t.Run("cancelling another user's order is NOT_FOUND and leaves it placed", func(t *testing.T) {
		d, _ := mustData[struct {
			Me struct {
				Orders conn[struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				}] `json:"orders"`
			} `json:"me"`
		}](t, g, apitest.Request{User: "demo-1", Query: `{ me { orders(first: 100) { edges { node { id status } } } } }`})
		var placed string
		for _, o := range d.Me.Orders.nodes() {
			if o.Status == "PLACED" {
				placed = o.ID
				break
			}
		}
		if placed == "" {
			t.Fatal("demo-1 has no PLACED order")
		}
		mustFail(t, g, apitest.Request{User: "demo-2", Query: `mutation($id: ID!) { cancelGroceryOrder(id: $id) { id status } }`,
			Variables: map[string]any{"id": placed}}, "NOT_FOUND", "not found")
		after, _ := mustData[struct {
			Node struct {
				Status string `json:"status"`
			} `json:"node"`
		}](t, g, apitest.Request{User: "demo-1", Query: `query($id: ID!) { node(id: $id) { ... on GroceryOrder { status } } }`, Variables: map[string]any{"id": placed}})
		if after.Node.Status != "PLACED" {
			t.Fatalf("status after demo-2's attempt: %s", after.Node.Status)
		}
	})
}
