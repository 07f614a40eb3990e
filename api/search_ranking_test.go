package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
)

const rankedSearchQuery = `query($text: String, $v: Vertical, $city: String, $first: Int, $after: String) {
  search(text: $text, vertical: $v, city: $city, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    facets { verticals { value label count } providers { value label count } }
    edges { cursor score node {
      __typename
      ... on Product { id name category provider { key vertical } }
      ... on Store { id name provider { key vertical } }
      ... on Doctor { id name specialty provider { key vertical } }
      ... on Lawyer { id name practiceAreas bio provider { key vertical } }
      ... on GovService { id name provider { key vertical } }
      ... on Provider { id name key vertical }
    } }
  }
}`

type rankedHit struct {
	Typename      string   `json:"__typename"`
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Category      string   `json:"category"`
	Specialty     string   `json:"specialty"`
	PracticeAreas []string `json:"practiceAreas"`
	Bio           string   `json:"bio"`
	Key           string   `json:"key"`
	Vertical      string   `json:"vertical"`
	Provider      *struct {
		Key      string `json:"key"`
		Vertical string `json:"vertical"`
	} `json:"provider"`
}

// providerKey is the provider a result counts for in the facets.
func (h rankedHit) providerKey() (key, vertical string) {
	if h.Provider == nil {
		return h.Key, h.Vertical
	}
	return h.Provider.Key, h.Provider.Vertical
}

type facetCount struct {
	Value string  `json:"value"`
	Label *string `json:"label"`
	Count int     `json:"count"`
}

type rankedConn struct {
	conn[rankedHit]
	Facets struct {
		Verticals []facetCount `json:"verticals"`
		Providers []facetCount `json:"providers"`
	} `json:"facets"`
}

type rankedData struct {
	Search rankedConn `json:"search"`
}

// searchAll pages through a search `first` at a time and returns every edge
// and the first page's response.
func searchAll(t *testing.T, g *apitest.Gateway, vars map[string]any, first int) (all []rankedHit, firstPage rankedConn) {
	t.Helper()
	var after any
	for page := 0; ; page++ {
		d, _ := mustData[rankedData](t, g, apitest.Request{Query: rankedSearchQuery, Variables: merge(vars, map[string]any{"first": first, "after": after})})
		if page == 0 {
			firstPage = d.Search
		}
		all = append(all, d.Search.nodes()...)
		if !d.Search.PageInfo.HasNextPage {
			if len(all) != d.Search.TotalCount {
				t.Fatalf("paged %d results, totalCount %d", len(all), d.Search.TotalCount)
			}
			return all, firstPage
		}
		if page > 100 {
			t.Fatal("paging does not end")
		}
		after = *d.Search.PageInfo.EndCursor
	}
}

func TestSearchRanking(t *testing.T) {
	g := startDemo(t)

	t.Run("shows both grocery providers on the first page for milk", func(t *testing.T) {
		d, resp := mustData[rankedData](t, g, apitest.Request{Query: rankedSearchQuery, Variables: map[string]any{"text": "milk", "first": 10}, Debug: true})
		from := map[string]int{}
		for _, h := range d.Search.nodes() {
			k, _ := h.providerKey()
			from[k]++
		}
		if from["freshcart"] == 0 || from["greenbasket"] == 0 {
			t.Fatalf("first page per provider: %v", from)
		}
		for k, n := range from {
			if n > 5 {
				t.Fatalf("%s takes %d of the first 10: %v", k, n, from)
			}
		}
		// The supply index answers the search: no provider is asked to.
		if n, per := resp.CallCount("SearchProducts"); n != 0 {
			t.Fatalf("SearchProducts calls per provider: %v, want none (search reads the index)", per)
		}
		top := d.Search.nodes()[0]
		if !strings.Contains(strings.ToLower(top.Name), "milk") {
			t.Fatalf("top result %q does not say milk", top.Name)
		}
	})

	for _, tc := range []struct{ text, vertical string }{{"milk", ""}, {"", "LEGAL"}, {"id card", ""}} {
		t.Run(fmt.Sprintf("facets of %q %s count exactly the results reachable by paging", tc.text, tc.vertical), func(t *testing.T) {
			vars := map[string]any{}
			if tc.text != "" {
				vars["text"] = tc.text
			}
			if tc.vertical != "" {
				vars["v"] = tc.vertical
			}
			all, first := searchAll(t, g, vars, 50)
			verticals, providers := map[string]int{}, map[string]int{}
			for _, h := range all {
				k, v := h.providerKey()
				providers[k]++
				verticals[v]++
			}
			check := func(name string, got []facetCount, want map[string]int) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s facets %+v, counted %v", name, got, want)
				}
				for i, f := range got {
					if want[f.Value] != f.Count {
						t.Fatalf("%s facet %s = %d, counted %d", name, f.Value, f.Count, want[f.Value])
					}
					if f.Label == nil || *f.Label == "" {
						t.Fatalf("%s facet %s has no label", name, f.Value)
					}
					if i > 0 && (f.Count > got[i-1].Count || f.Count == got[i-1].Count && f.Value < got[i-1].Value) {
						t.Fatalf("%s facets out of order: %+v", name, got)
					}
				}
			}
			check("vertical", first.Facets.Verticals, verticals)
			check("provider", first.Facets.Providers, providers)
		})
	}

	t.Run("paging by 7 visits the same results in the same order as one big page", func(t *testing.T) {
		for _, text := range []string{"milk", "lawyer"} {
			vars := map[string]any{"text": text}
			big, _ := searchAll(t, g, vars, 50)
			small, _ := searchAll(t, g, vars, 7)
			if len(big) < 15 {
				t.Fatalf("%q: only %d results", text, len(big))
			}
			seen := map[string]bool{}
			for i := range big {
				if big[i].ID != small[i].ID {
					t.Fatalf("%q: position %d is %s in one page, %s paging by 7", text, i, big[i].ID, small[i].ID)
				}
				if seen[big[i].ID] {
					t.Fatalf("%q: %s twice", text, big[i].ID)
				}
				seen[big[i].ID] = true
			}
		}
	})

	// Providers filter by the literal text, so these find nothing in the
	// first round; the second round asks with the rewritten text.
	tests := []struct {
		name, text, vertical string
		// op is the search the second round must have repeated ("" when the
		// first round may already have found enough).
		op string
		ok func(rankedHit) bool
	}{
		{"finds paediatricians of both providers for a misspelt paediatrician", "paediatrcian", "MEDICAL", "SearchDoctors",
			func(h rankedHit) bool { return h.Specialty == "Paediatrics" }},
		{"finds paediatricians for children's doctor", "children's doctor", "MEDICAL", "",
			func(h rankedHit) bool { return h.Specialty == "Paediatrics" }},
		{"finds lawyers and legal providers for attorney", "attorney", "LEGAL", "SearchLawyers",
			func(h rankedHit) bool {
				return h.Typename == "Lawyer" || h.Typename == "Provider" && h.Vertical == "LEGAL"
			}},
		{"finds milk for mlik", "mlik", "GROCERY", "SearchProducts",
			func(h rankedHit) bool { return strings.Contains(strings.ToLower(h.Name), "milk") }},
	}
	for _, tt := range tests {
		t.Run(tt.name+" from the index, without asking providers to search", func(t *testing.T) {
			d, resp := mustData[rankedData](t, g, apitest.Request{Query: rankedSearchQuery, Variables: map[string]any{"text": tt.text, "v": tt.vertical, "first": 10}, Debug: true})
			nodes := d.Search.nodes()
			if len(nodes) < 4 {
				t.Fatalf("only %d results", len(nodes))
			}
			from := map[string]bool{}
			for _, h := range nodes[:4] {
				if !tt.ok(h) {
					t.Fatalf("unexpected %s %q in the top 4", h.Typename, h.Name)
				}
				k, _ := h.providerKey()
				from[k] = true
			}
			if len(from) < 2 {
				t.Fatalf("top 4 from only %v", from)
			}
			ops := map[string]bool{}
			for _, c := range resp.Extensions.Plaza.Calls {
				if strings.HasPrefix(c.Operation, "Search") {
					ops[c.Operation] = true
				}
			}
			// The typo and synonym handling is the index's (and rank's): no
			// provider is asked to search, once or twice.
			if len(ops) > 0 {
				t.Fatalf("provider search calls %v: search reads the index: %s", ops, resp.Raw)
			}
		})
	}
}
