package graphqlhttp

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestEncodeResponse checks that the response encoder, which splices the
// executor's data in rather than re-encoding it, writes what json.Marshal
// writes, whatever the members present (an extension or error may itself
// hold a "data" key).
func TestEncodeResponse(t *testing.T) {
	hasNext := true
	for _, tc := range []struct {
		name string
		resp graphql.Response
	}{
		{"data only", graphql.Response{Data: json.RawMessage(`{"node":{"id":"x"}}`)}},
		{"errors and data", graphql.Response{Errors: gqlerror.List{{Message: "partial", Path: ast.Path{ast.PathName("a")},
			Extensions: map[string]any{"data": nil, "code": "PROVIDER_ERROR"}}}, Data: json.RawMessage(`{"a":null,"b":1}`)}},
		{"extensions", graphql.Response{Data: json.RawMessage(`{"b":[1,2]}`), Extensions: map[string]any{"plaza": map[string]any{"data": nil}}}},
		{"every member", graphql.Response{Data: json.RawMessage(`{}`), Label: "l", Path: ast.Path{ast.PathIndex(1)}, HasNext: &hasNext,
			Errors: gqlerror.List{{Message: "m"}}, Extensions: map[string]any{"x": 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.resp)
			if err != nil {
				t.Fatal(err)
			}
			got, err := encodeResponse(&tc.resp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
	t.Run("a response that was not executed has no data member (a request error)", func(t *testing.T) {
		got, err := encodeResponse(&graphql.Response{Errors: gqlerror.List{{Message: "bad"}}, Extensions: map[string]any{"x": 1}})
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"errors":[{"message":"bad"}],"extensions":{"x":1}}`; string(got) != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
}
