package api_test

import (
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// TestCursorsAreBoundToTheirQuery: a cursor pages the query that made it;
// with other arguments, or on another field, it is BAD_USER_INPUT on
// `after` rather than an offset into an unrelated list.
func TestCursorsAreBoundToTheirQuery(t *testing.T) {
	g := startDemo(t)
	const search = `query($text: String, $after: String) { search(text: $text, first: 3, after: $after) {
		pageInfo { hasNextPage endCursor } edges { cursor node { __typename } } } }`
	type page struct {
		Search conn[idNode] `json:"search"`
	}
	first, _ := mustData[page](t, g, apitest.Request{Query: search, Variables: map[string]any{"text": "milk"}})
	if first.Search.PageInfo.EndCursor == nil || !first.Search.PageInfo.HasNextPage {
		t.Fatalf("first page %+v", first.Search.PageInfo)
	}
	cursor := *first.Search.PageInfo.EndCursor

	t.Run("the same query pages on", func(t *testing.T) {
		next, _ := mustData[page](t, g, apitest.Request{Query: search, Variables: map[string]any{"text": "milk", "after": cursor}})
		if len(next.Search.Edges) == 0 || next.Search.Edges[0].Cursor == cursor {
			t.Fatalf("next page %+v", next.Search)
		}
	})
	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"another text", search, map[string]any{"text": "bread", "after": cursor}},
		{"another field", `query($after: String) { doctors(first: 3, after: $after) { edges { cursor } } }`, map[string]any{"after": cursor}},
	} {
		t.Run("refused with "+tc.name, func(t *testing.T) {
			r := mustFail(t, g, apitest.Request{Query: tc.query, Variables: tc.vars}, "BAD_USER_INPUT", "belongs to another query")
			if r.Errors[0].Extensions["field"] != "after" {
				t.Fatalf("field %v", r.Errors[0].Extensions["field"])
			}
		})
	}
}
