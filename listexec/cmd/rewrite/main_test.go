package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// field renders gqlgen's resolution of a struct-member field, as it
// generates it.
func field(member, goType, marshal string) string {
	return `	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_T_f(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.` + member + `, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v ` + goType + `) graphql.Marshaler {
			return ec.` + marshal + `(ctx, selections, v)
		},
		true,
		true,
	)`
}

func TestRewrite(t *testing.T) {
	src := `package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

func (ec *executionContext) _T_name(ctx context.Context, field graphql.CollectedField, obj *model.T) (ret graphql.Marshaler) {
` + field("Name", "string", "marshalNString2string") + `
}

func (ec *executionContext) _T_rating(ctx context.Context, field graphql.CollectedField, obj *model.T) (ret graphql.Marshaler) {
` + field("Rating", "float64", "marshalNFloat2float64") + `
}

func (ec *executionContext) _T_price(ctx context.Context, field graphql.CollectedField, obj *model.T) (ret graphql.Marshaler) {
` + field("Price", "*model.Money", "marshalNMoney2ᚖmodelᚐMoney") + `
}

func (ec *executionContext) _T(ctx context.Context, sel ast.SelectionSet, obj *model.T) graphql.Marshaler {
	deferred := graphql.NewDeferredGroup(ctx)
	return graphql.MarshalSliceConcurrently(ctx, 2, 0, false, nil)
}
`
	path := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rewrite(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	out := string(b)
	for _, want := range []string{
		"\"github.com/plaza-gateway/plaza/listexec\"",
		"listexec.MarshalSlice(ctx, 2, 0, false, nil)",
		"listexec.NewDeferredGroup(ctx, ec.OperationContext)",
		"return ec.marshalNString2string(ctx, field.Selections, obj.Name)",
		"if obj.Price != nil {\n\t\treturn ec.marshalNMoney2ᚖmodelᚐMoney(ctx, field.Selections, obj.Price)\n\t}\n\treturn graphql.ResolveField(",
		"return obj.Rating, nil", // Float keeps gqlgen's path: it reports NaN against the field
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rewritten source lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "return obj.Name, nil") || strings.Contains(out, "graphql.MarshalSliceConcurrently") {
		t.Errorf("left a call it should have rewritten:\n%s", out)
	}
	// Running it again is a no-op: go generate may run it on its own output.
	if err := rewrite(path); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); string(again) != out {
		t.Error("a second run changed the file")
	}
}

// TestRewriteNoticesChangedOutput checks that a gqlgen whose output no
// longer has the calls the rewrite replaces fails go generate loudly rather
// than leaving an executor that silently lost its fast paths.
func TestRewriteNoticesChangedOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(path, []byte("package graph\n\nfunc f() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rewrite(path); err == nil || !strings.Contains(err.Error(), "has gqlgen changed") {
		t.Fatalf("err = %v, want a gqlgen-changed error", err)
	}
}
