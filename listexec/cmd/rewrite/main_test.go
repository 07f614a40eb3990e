package main

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The tests run on real gqlgen output: the committed graph/generated.go with
// the rewrites undone, which is exactly what gqlgen wrote (the rewrite only
// adds, and renames two calls). TestGeneratedCodeIsFresh, at the module
// root, checks the counts against a fresh gqlgen run.

var directGuard = regexp.MustCompile(`(?m)^\tif (?:obj\.\w+ != nil && )?listexec\.Direct\(ec\.OperationContext\) \{\n\t\treturn (?:ec\.[^(]+\(ctx, field\.Selections, obj\.\w+\)|listexec\.\w+Of\(&obj\.\w+\))\n\t\}\n`)

// scalarListLoop is the element loop the inputs rule writes, and the blank
// line the printer leaves after it.
var scalarListLoop = regexp.MustCompile(`(?m)^\t\tres\[i\], err = ec\.(\w+)\(ctx, vSlice\[i\]\)\n\t\tif err != nil \{\n\t\t\tctx := graphql\.WithPathContext\(ctx, graphql\.NewPathWithIndex\(i\)\)\n\t\t\t_, err = ec\.\w+\(ctx, vSlice\[i\]\)\n\t\t\treturn nil, err\n\t\t\}\n\t\}\n\n`)

// gqlgenOutput returns the committed executor and gqlgen's output for it.
func gqlgenOutput(t *testing.T) (rewritten, raw []byte) {
	t.Helper()
	rewritten, err := os.ReadFile("../../../graph/generated.go")
	if err != nil {
		t.Fatal(err)
	}
	raw = directGuard.ReplaceAll(rewritten, nil)
	raw = scalarListLoop.ReplaceAll(raw, []byte("\t\tctx := graphql.WithPathContext(ctx, graphql.NewPathWithIndex(i))\n\t\tres[i], err = ec.$1(ctx, vSlice[i])\n\t\tif err != nil {\n\t\t\treturn nil, err\n\t\t}\n\t}\n"))
	for _, r := range [][2]string{
		{"listexec.MarshalSlice(", "graphql.MarshalSliceConcurrently("},
		{"listexec.NewDeferredGroup(ctx, ec.OperationContext)", "graphql.NewDeferredGroup(ctx)"},
		{"listexec.NewFieldSet(ctx, ec.OperationContext, fields)", "graphql.NewFieldSet(fields)"},
		{"listexec.CollectFields(ec.OperationContext, sel, ", "graphql.CollectFields(ec.OperationContext, sel, "},
		{"listexec.Marshal(ctx, opCtx, data, &buf)", "data.MarshalGQL(&buf)"},
		{"listexec.ResolveField(", "graphql.ResolveField("},
		{"\t\"github.com/plaza-gateway/plaza/listexec\"\n", ""},
	} {
		raw = bytes.ReplaceAll(raw, []byte(r[0]), []byte(r[1]))
	}
	if bytes.Contains(raw, []byte("listexec")) {
		t.Fatal("the committed executor has a rewrite the test cannot undo")
	}
	return rewritten, raw
}

// sample returns gqlgen's output cut down to its imports and the methods
// for Product, one list of edges, the list of IDs and Exec: every rule has something to rewrite,
// and the race detector does not make the test crawl through 17,000 lines.
func sample(t *testing.T, raw []byte) []byte {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "generated.go", raw, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var keep []ast.Decl
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			if gd := d.(*ast.GenDecl); gd.Tok == token.IMPORT {
				keep = append(keep, d)
			}
			continue
		}
		if n := fd.Name.Name; fd.Recv != nil && (strings.Contains(n, "_Product") || strings.HasPrefix(n, "marshalNAppointmentEdge2ᚕ") || strings.HasPrefix(n, "unmarshalNID2") || n == "Exec") {
			keep = append(keep, d)
		}
	}
	f.Decls, f.Comments = keep, nil
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRewriteReproducesTheCommittedExecutor(t *testing.T) {
	rewritten, raw := gqlgenOutput(t)
	out, counts, err := Rewrite(raw, RuleNames())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, rewritten) {
		t.Fatal("rewriting gqlgen's output does not give the committed graph/generated.go")
	}
	for _, r := range RuleNames() {
		if counts[r] == 0 {
			t.Errorf("rule %s rewrote nothing", r)
		}
	}
	t.Run("a rewritten file is left alone", func(t *testing.T) {
		again, counts, err := Rewrite(out, RuleNames())
		if err != nil || counts != nil || !bytes.Equal(again, out) {
			t.Fatalf("second rewrite: counts %v, err %v, changed %v", counts, err, !bytes.Equal(again, out))
		}
	})
	t.Run("the layout does not matter", func(t *testing.T) {
		// Spaces for the tabs that indent statements and arguments: the
		// text changes, the syntax does not.
		small := sample(t, raw)
		relaid := bytes.ReplaceAll(small, []byte("\n\t\t"), []byte("\n        "))
		if bytes.Equal(relaid, small) {
			t.Fatal("nothing relaid")
		}
		want, _, err := Rewrite(small, RuleNames())
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := Rewrite(relaid, RuleNames())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, want) {
			t.Fatal("a different layout of the same code rewrites differently")
		}
	})
}

// TestRewriteFailsOnMismatch checks that each way gqlgen's output could
// drift from what a rule expects stops the rewrite with an error naming the
// rule and the place.
func TestRewriteFailsOnMismatch(t *testing.T) {
	_, full := gqlgenOutput(t)
	raw := sample(t, full)
	for _, tc := range []struct {
		name, from, to string
		wantErr        []string
	}{
		{"gqlgen renames the list marshaller", "graphql.MarshalSliceConcurrently(", "graphql.MarshalSliceInParallel(",
			[]string{"rule lists: nothing to rewrite"}},
		{"gqlgen resolves plain fields another way", "graphql.ResolveField(", "graphql.ResolveFieldV2(",
			[]string{"rule scalars:", "rule money:", "not rewritten: _", "rule resolvers: nothing to rewrite"}},
		{"gqlgen passes the list marshaller as a value",
			"func (ec *executionContext) marshalNAppointmentEdge2",
			"var _ = graphql.MarshalSliceConcurrently\n\nfunc (ec *executionContext) marshalNAppointmentEdge2",
			[]string{"rule lists:", "not rewritten: generated.go:"}},
		{"gqlgen gives the deferred group another argument", "graphql.NewDeferredGroup(ctx)", "graphql.NewDeferredGroup(ctx, ec)",
			[]string{"rule defer:", "not rewritten"}},
		{"gqlgen marshals the data under another name", "data.MarshalGQL(&buf)", "result.MarshalGQL(&buf)",
			[]string{"rule buffer:", "not rewritten"}},
		{"a plain field gains a field middleware (a directive)",
			"\t\t\treturn obj.Name, nil\n\t\t},\n\t\tnil,",
			"\t\t\treturn obj.Name, nil\n\t\t},\n\t\tec.someDirective,",
			[]string{"rule scalars:", "not rewritten: _"}},
		{"a plain field is no longer recovered", "\t\ttrue,\n\t\ttrue,\n\t)\n}\nfunc (ec *executionContext) fieldContext_Product_name(",
			"\t\tfalse,\n\t\ttrue,\n\t)\n}\nfunc (ec *executionContext) fieldContext_Product_name(",
			[]string{"rule scalars:", "not rewritten: _Product_name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(raw, []byte(tc.from)) {
				t.Fatalf("gqlgen's output has no %q to change", tc.from)
			}
			n := 1
			if strings.HasPrefix(tc.name, "gqlgen r") { // renames: every occurrence
				n = -1
			}
			_, _, err := Rewrite(bytes.Replace(raw, []byte(tc.from), []byte(tc.to), n), RuleNames())
			if err == nil {
				t.Fatal("rewrite succeeded")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	t.Run("an unknown rule", func(t *testing.T) {
		if _, _, err := Rewrite(raw, []string{"lists", "everything"}); err == nil || !strings.Contains(err.Error(), `no rule "everything"`) {
			t.Fatalf("err %v", err)
		}
	})
}
