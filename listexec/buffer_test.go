package listexec

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unsafe"

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
			Marshal(context.Background(), oc, answer, &first)
			var second bytes.Buffer
			Marshal(context.Background(), oc, graphql.Null, &second) // what the buffer holds before the data
			if presized := second.Cap() >= len(want); presized != tc.presized {
				t.Fatalf("second buffer's capacity %d for a first answer of %d bytes: presized %v, want %v", second.Cap(), len(want), presized, tc.presized)
			}
			other := &graphql.OperationContext{RawQuery: tc.query, Doc: &ast.QueryDocument{}}
			var third bytes.Buffer
			Marshal(context.Background(), other, graphql.Null, &third)
			if third.Cap() >= len(want) {
				t.Fatalf("another document started with %d bytes", third.Cap())
			}
			var again bytes.Buffer
			Marshal(context.Background(), oc, answer, &again)
			if first.String() != want || again.String() != want {
				t.Fatal("Marshal changed what the data writes")
			}
		})
	}
}

// TestMarshalIntoOutput checks that under an Output the data is what it is
// without one, in an array the Output lends from the pool and gives back on
// Release (a later operation writes into it), and that a subscription,
// which marshals every event into one buffer, takes none.
func TestMarshalIntoOutput(t *testing.T) {
	answer := graphql.MarshalString(strings.Repeat("y", 5_000))
	want := marshal(answer)
	query := &ast.OperationDefinition{Operation: ast.Query}
	for _, tc := range []struct {
		name   string
		op     *ast.OperationDefinition
		pooled bool
	}{
		{"a query", query, true},
		{"a subscription", &ast.OperationDefinition{Operation: ast.Subscription}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oc := &graphql.OperationContext{RawQuery: "{ b }", Doc: &ast.QueryDocument{}, Operation: tc.op}
			reused := false
			// The pool may drop what is put back (it does at random under
			// the race detector): one reuse in a few tries is enough.
			var last unsafe.Pointer
			for range 20 {
				ctx, out := WithOutput(context.Background())
				var buf bytes.Buffer
				Marshal(ctx, oc, answer, &buf)
				if buf.String() != want {
					t.Fatal("Marshal under an Output changed what the data writes")
				}
				if pooled := out.p != nil; pooled != tc.pooled {
					t.Fatalf("pooled %v, want %v", pooled, tc.pooled)
				}
				p := unsafe.Pointer(unsafe.SliceData(buf.Bytes()))
				reused = reused || p == last
				last = p
				out.Release()
				if out.p != nil {
					t.Fatal("Release kept the array")
				}
			}
			if tc.pooled && !reused {
				t.Fatal("no array was reused")
			}
		})
	}
}
