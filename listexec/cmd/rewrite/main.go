// Command rewrite points gqlgen's generated executor at listexec: it replaces
// every call of graphql.MarshalSliceConcurrently in the given file with
// listexec.MarshalSlice (same signature and contract), and of
// graphql.NewDeferredGroup with listexec.NewDeferredGroup, adds the import,
// and marshals plain non-null scalar struct members directly (see
// plainScalarField).
// `go generate` runs it right after gqlgen (see server.go), so the committed
// graph/generated.go is what the two steps produce together.
//
//	go run ./listexec/cmd/rewrite graph/generated.go
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"regexp"
)

// replacements are applied in order; the first must match (it is how a
// change in gqlgen's output is noticed).
var replacements = []struct{ from, to string }{
	{"graphql.MarshalSliceConcurrently(", "listexec.MarshalSlice("},
	{"graphql.NewDeferredGroup(ctx)", "listexec.NewDeferredGroup(ctx, ec.OperationContext)"},
}

// plainScalarField matches gqlgen's resolution of a field that reads a
// struct member and marshals it as a non-null String, ID, Int or Boolean:
// per field, a field context, a context value, closures and a deferred
// recover, for a value that can neither fail, be null nor panic (obj is the
// object being marshalled, never nil). It is replaced with the marshalling
// alone, about 40% of a list query's fields. Those fields therefore pass no
// field middleware (gqlgen's AroundFields): Plaza registers none; its tracing
// is per operation and per connector call. Float is left alone: its
// marshaller reports NaN and infinities against the field's path.
var plainScalarField = memberField(`(?:string|int|bool)`, `marshalN(?:String2string|ID2string|Int2int|Boolean2bool)`)

// plainMoneyField matches the resolution of a non-null Money field read
// from a struct member. Money has only plain scalar fields (amount,
// currency), so nothing under it can fail or needs the field's context: a
// member that is set is marshalled directly. A nil one (never produced by
// Plaza's conversions) still goes through gqlgen, so its error keeps the
// field's path.
var plainMoneyField = memberField(`\*model\.Money`, `marshalNMoney2\S+`)

// memberField matches gqlgen's resolution of a non-null field that reads a
// struct member (submatch 1) of Go type vType and marshals it with the
// function that marshal matches (submatch 2), as gqlgen v0.17 writes it.
func memberField(vType, marshal string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\treturn graphql\.ResolveField\(
\t\tctx,
\t\tec\.OperationContext,
\t\tfield,
\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{
\t\t\treturn ec\.fieldContext_\w+\(ctx, field\)
\t\t\},
\t\tfunc\(ctx context\.Context\) \(any, error\) \{
\t\t\treturn obj\.(\w+), nil
\t\t\},
\t\tnil,
\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v ` + vType + `\) graphql\.Marshaler \{
\t\t\treturn ec\.(` + marshal + `)\(ctx, selections, v\)
\t\t\},
\t\ttrue,
\t\ttrue,
\t\)$`)
}

const (
	importLine = "\t\"github.com/plaza-gateway/plaza/listexec\"\n"
	anchor     = "\t\"github.com/99designs/gqlgen/graphql\"\n"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: rewrite graph/generated.go")
		os.Exit(2)
	}
	if err := rewrite(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "rewrite:", err)
		os.Exit(1)
	}
}

func rewrite(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	first := replacements[0]
	if !bytes.Contains(src, []byte(first.from)) {
		if bytes.Contains(src, []byte(first.to)) {
			return nil // already rewritten
		}
		return fmt.Errorf("%s: no %s call: has gqlgen changed how it marshals lists?", path, first.from)
	}
	out := src
	for _, r := range replacements {
		out = bytes.ReplaceAll(out, []byte(r.from), []byte(r.to))
	}
	if !plainScalarField.Match(out) {
		return fmt.Errorf("%s: no plain scalar field resolution: has gqlgen changed how it resolves fields?", path)
	}
	out = plainScalarField.ReplaceAll(out, []byte("\treturn ec.${2}(ctx, field.Selections, obj.${1})"))
	out = plainMoneyField.ReplaceAll(out, []byte("\tif obj.${1} != nil {\n\t\treturn ec.${2}(ctx, field.Selections, obj.${1})\n\t}\n${0}"))
	if !bytes.Contains(out, []byte(importLine)) {
		if !bytes.Contains(out, []byte(anchor)) {
			return fmt.Errorf("%s: no gqlgen graphql import to add listexec after", path)
		}
		out = bytes.Replace(out, []byte(anchor), []byte(anchor+importLine), 1)
	}
	if out, err = format.Source(out); err != nil {
		return fmt.Errorf("%s: rewritten source does not format: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}
