package listexec

import (
	"bytes"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestMarshalSizesFromTheLastAnswer checks that the second answer to a
// document starts in a buffer that holds it whole, that another document
// takes no hint from it, and that an operation with @defer takes none.
func TestMarshalSizesFromTheLastAnswer(t *testing.T) {
	answer := graphql.MarshalString(strings.Repeat("x", 10_000))
	want := marshal(answer)
	for _, tc := range []struct {
		name     string
		query    string
		presized bool
	}{
		{"a document answered before", "{ a }", true},
		{"a document with @defer", "{ ... @defer { a } }", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oc := &graphql.OperationContext{RawQuery: tc.query, Doc: &ast.QueryDocument{}}
			var first bytes.Buffer
			Marshal(oc, answer, &first)
			var second bytes.Buffer
			Marshal(oc, graphql.Null, &second) // what the buffer holds before the data
			if presized := second.Cap() >= len(want); presized != tc.presized {
				t.Fatalf("second buffer's capacity %d for a first answer of %d bytes: presized %v, want %v", second.Cap(), len(want), presized, tc.presized)
			}
			other := &graphql.OperationContext{RawQuery: tc.query, Doc: &ast.QueryDocument{}}
			var third bytes.Buffer
			Marshal(other, graphql.Null, &third)
			if third.Cap() >= len(want) {
				t.Fatalf("another document started with %d bytes", third.Cap())
			}
			var again bytes.Buffer
			Marshal(oc, answer, &again)
			if first.String() != want || again.String() != want {
				t.Fatal("Marshal changed what the data writes")
			}
		})
	}
}
