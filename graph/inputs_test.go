package graph

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestScalarListInputs checks the element loop the rewrite's inputs rule
// writes (listexec/cmd/rewrite): the elements unmarshalled without a path
// of their own, and an element that fails reported at its index, as gqlgen
// reports it.
func TestScalarListInputs(t *testing.T) {
	ec := &executionContext{}
	ctx := graphql.WithPathContext(context.Background(), graphql.NewPathWithField("ids"))
	got, err := ec.unmarshalNID2ᚕstringᚄ(ctx, []any{"a", 7, "c"})
	if err != nil || !slices.Equal(got, []string{"a", "7", "c"}) {
		t.Fatalf("got %q, %v", got, err)
	}
	_, err = ec.unmarshalNID2ᚕstringᚄ(ctx, []any{"a", "b", map[string]any{"id": "c"}})
	var gerr *gqlerror.Error
	if !errors.As(err, &gerr) || gerr.Path.String() != (ast.Path{ast.PathName("ids"), ast.PathIndex(2)}).String() {
		t.Fatalf("error %v at path %v, want it at ids[2]", err, gerr)
	}
}
