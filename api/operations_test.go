package api_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// The frontend's and analysts' saved operations live in
// testdata/operations. Each must validate against schema.graphqls (so a
// breaking schema change fails CI before it breaks the app) and run against
// the demo gateway without errors.

const operationsDir = "../testdata/operations"

func loadSchema(tb testing.TB) *ast.Schema {
	tb.Helper()
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		tb.Fatal(err)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if err != nil {
		tb.Fatalf("schema.graphqls: %v", err)
	}
	return schema
}

// savedOperations returns every saved operation by file name.
func savedOperations(tb testing.TB) map[string]string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(operationsDir, "*.graphql"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no saved operations in %s: %v", operationsDir, err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	return out
}

func TestSavedOperationsValidate(t *testing.T) {
	schema := loadSchema(t)
	for name, doc := range savedOperations(t) {
		t.Run(name+" validates against schema.graphqls", func(t *testing.T) {
			q, errs := gqlparser.LoadQuery(schema, doc)
			if len(errs) > 0 {
				t.Fatalf("%s: %v", name, errs)
			}
			if len(q.Operations) != 1 || q.Operations[0].Name == "" {
				t.Fatalf("%s: want exactly one named operation, got %d", name, len(q.Operations))
			}
		})
	}

	t.Run("a document using a removed field fails validation", func(t *testing.T) {
		// Guards the guard: validation must catch what a schema change breaks.
		if _, errs := gqlparser.LoadQuery(schema, `query { providers { edges { node { id removedField } } } }`); len(errs) == 0 {
			t.Fatal("an unknown field validated")
		}
	})
}

// operationRun says how to run one saved operation against the demo
// gateway: as whom, and with which variables (found through the API, so no
// test depends on generated IDs).
type operationRun struct {
	user string
	vars func(t *testing.T, g *apitest.Gateway) map[string]any
	// analyst runs it with the analyst key on a gateway with analytics.
	analyst bool
	// provider runs it with that provider's token on a gateway with
	// merchant growth.
	provider string
	// growthAnalyst runs it with the analyst key on a gateway with
	// merchant growth.
	growthAnalyst bool
}

func operationRuns() map[string]operationRun {
	none := func(*testing.T, *apitest.Gateway) map[string]any { return nil }
	return map[string]operationRun{
		"home.graphql":   {user: "demo-1", vars: none},
		"cities.graphql": {vars: none},
		"search.graphql": {vars: func(*testing.T, *apitest.Gateway) map[string]any {
			return map[string]any{"text": "milk", "city": "Shanghai", "first": 20}
		}},
		"product_detail.graphql": {vars: func(t *testing.T, g *apitest.Gateway) map[string]any {
			return map[string]any{"id": groceryStores(t, g, "Hangzhou")[0].Products.Edges[0].Node.ID}
		}},
		"store_page.graphql": {vars: func(t *testing.T, g *apitest.Gateway) map[string]any {
			return map[string]any{"id": groceryStores(t, g, "Hangzhou")[0].ID, "first": 30}
		}},
		"my_orders.graphql":   {user: "demo-1", vars: func(*testing.T, *apitest.Gateway) map[string]any { return map[string]any{"first": 20} }},
		"my_activity.graphql": {user: "demo-1", vars: none},
		"place_order.graphql": {user: "demo-30", vars: func(t *testing.T, g *apitest.Gateway) map[string]any {
			s := groceryStores(t, g, "Chengdu")[0]
			return map[string]any{"input": orderInput(s.ID, s.DeliverySlots[0].ID, s.Products.Edges[0].Node.ID, 2, "ops-1")["in"]}
		}},
		"book_appointment.graphql": {user: "demo-30", vars: func(t *testing.T, g *apitest.Gateway) map[string]any {
			d := someDoctors(t, g, 1)[0]
			return map[string]any{"input": bookInput(d.ID, d.Slots[0].ID, "")["in"]}
		}},
		"apply_for_service.graphql": {user: "demo-30", vars: func(t *testing.T, g *apitest.Gateway) map[string]any {
			s := someService(t, g, "id card")
			return map[string]any{"input": map[string]any{"serviceId": s.ID, "officeId": s.Offices[0].ID,
				"slotId": s.Offices[0].Slots[0].ID, "documents": s.RequiredDocuments}}
		}},
		"analytics_overview.graphql":         {analyst: true, vars: analyticsRange},
		"analytics_provider_traffic.graphql": {analyst: true, vars: analyticsRange},
		"analytics_search_trends.graphql": {analyst: true, vars: func(t *testing.T, g *apitest.Gateway) map[string]any {
			v := analyticsRange(t, g)
			v["vertical"], v["city"] = "GROCERY", "Hangzhou"
			return v
		}},
		"provider_growth.graphql":             {provider: "freshcart", vars: none},
		"provider_traffic.graphql":            {provider: "freshcart", vars: analyticsRange},
		"analytics_provider_exposure.graphql": {analyst: true, vars: analyticsRange},
		"provider_apply_for_loan.graphql": {provider: "freshcart", vars: func(*testing.T, *apitest.Gateway) map[string]any {
			return map[string]any{"input": loanInput(100_000, "CNY", 60, "saved-operation", true)["in"]}
		}},
		"analytics_growth_totals.graphql": {growthAnalyst: true, vars: analyticsRange},
		"provider_list.graphql": {vars: func(*testing.T, *apitest.Gateway) map[string]any {
			return map[string]any{"first": 100}
		}},
	}
}

func TestSavedOperationsRun(t *testing.T) {
	g, analyst, growing, growthAnalyst := startDemo(t), startPersonal(t, 0), startGrowth(t), startGrowthForAnalysts(t)
	analyst.search(t, "milk") // so the funnel has a rate
	ops := savedOperations(t)
	runs := operationRuns()
	if got, want := slices.Sorted(mapKeys(ops)), slices.Sorted(mapKeys(runs)); !slices.Equal(got, want) {
		t.Fatalf("saved operations %v, but runs are defined for %v: add the variables for new files", got, want)
	}
	for name, doc := range ops {
		run := runs[name]
		t.Run(name+" runs against the demo gateway without errors", func(t *testing.T) {
			req, on := apitest.Request{Query: doc, User: run.user}, g
			if run.analyst {
				req.Header, on = map[string][]string{"Plaza-Api-Key": {testAnalystKey}}, analyst.Gateway
			}
			if run.provider != "" {
				req.Header, on = growing.providerToken(t, run.provider), growing.Gateway
			}
			if run.growthAnalyst {
				req.Header, on = map[string][]string{"Plaza-Api-Key": {testAnalystKey}}, growthAnalyst.Gateway
			}
			req.Variables = run.vars(t, on)
			resp := on.MustPost(req)
			if strings.Contains(string(resp.Data), "null") && !allowedNulls(string(resp.Data)) {
				t.Fatalf("unexpected null in %.600s", resp.Data)
			}
		})
	}
}

// allowedNulls reports whether every null in data is a field that is null
// by design in demo data (an unanswered question, an unscheduled case, the
// delivery slot of a past order, which the provider no longer lists).
func allowedNulls(data string) bool {
	for _, f := range []string{`"answer":null`, `"scheduledAt":null`, `"endCursor":null`, `"slot":null`} {
		data = strings.ReplaceAll(data, f, "")
	}
	return !strings.Contains(data, "null")
}
