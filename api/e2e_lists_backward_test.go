package api_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// TestListsPageBackward: each per-kind list pages back with last/before as
// `search` does: the page before the second page is the first page.
func TestListsPageBackward(t *testing.T) {
	g := startDemo(t)
	type page struct {
		Edges []struct {
			Cursor string
			Node   struct{ ID string }
		}
		PageInfo struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       string
		}
	}
	ids := func(p page) []string {
		var out []string
		for _, e := range p.Edges {
			out = append(out, e.Node.ID)
		}
		return out
	}
	for _, field := range []string{"stores", "products", "doctors", "lawyers", "govServices"} {
		t.Run(field, func(t *testing.T) {
			var firstPage struct{ List page }
			g.MustPost(apitest.Request{Query: fmt.Sprintf(`{ list: %s(first: 3) { edges { cursor node { id } } pageInfo { endCursor } } }`, field)}).Decode(t, &firstPage)
			first := firstPage.List
			second := pageAfter(t, g, field, first.PageInfo.EndCursor)
			if len(first.Edges) != 3 || len(second) != 3 {
				t.Fatalf("pages of %d and %d, want 3 and 3", len(first.Edges), len(second))
			}
			var back struct{ List page }
			g.MustPost(apitest.Request{Query: fmt.Sprintf(`query($before: String) { list: %s(last: 3, before: $before) { edges { node { id } } pageInfo { hasNextPage hasPreviousPage } } }`, field),
				Variables: map[string]any{"before": second[0]}}).Decode(t, &back)
			if got, want := ids(back.List), ids(first); !slices.Equal(got, want) {
				t.Fatalf("the page before the second is %v, want the first %v", got, want)
			}
			if back.List.PageInfo.HasPreviousPage || !back.List.PageInfo.HasNextPage {
				t.Fatalf("page info %+v: the first page has a next page and no previous one", back.List.PageInfo)
			}
			mustFail(t, g, apitest.Request{Query: fmt.Sprintf(`{ %s(first: 3, last: 3) { edges { cursor } } }`, field)}, "BAD_USER_INPUT", "not both")
			mustFail(t, g, apitest.Request{Query: fmt.Sprintf(`{ %s(last: 3, before: "garbage") { edges { cursor } } }`, field)}, "BAD_USER_INPUT", "")
		})
	}
	t.Run("one store's products page forward only", func(t *testing.T) {
		store := groceryStores(t, g, "Hangzhou")[0].ID
		mustFail(t, g, apitest.Request{Query: `query($s: ID) { products(storeId: $s, last: 3) { edges { cursor } } }`, Variables: map[string]any{"s": store}},
			"BAD_USER_INPUT", "forward only")
	})
}

// pageAfter returns the edge cursors of field's page of 3 after cursor.
func pageAfter(t *testing.T, g *apitest.Gateway, field, cursor string) []string {
	t.Helper()
	var out struct {
		List struct{ Edges []struct{ Cursor string } }
	}
	g.MustPost(apitest.Request{Query: fmt.Sprintf(`query($after: String) { list: %s(first: 3, after: $after) { edges { cursor } } }`, field),
		Variables: map[string]any{"after": cursor}}).Decode(t, &out)
	var cs []string
	for _, e := range out.List.Edges {
		cs = append(cs, e.Cursor)
	}
	return cs
}
