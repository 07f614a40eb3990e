package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

// generateSteps are server.go's //go:generate directives, which the test
// runs one at a time so that it can read gqlgen's own output in between.
var generateSteps = [][]string{
	{"go", "run", "./gid/cmd/kinds"},
	{"go", "tool", "gqlgen", "generate"},
	{"go", "run", "./listexec/cmd/rewrite", "graph/generated.go"},
}

// TestGeneratedCodeIsFresh regenerates the gqlgen output and fails when it
// differs from what is committed: a schema change without `go generate
// ./...` must not land. Between gqlgen and the rewrite it checks that every
// rewrite rule (listexec/cmd/rewrite) rewrote exactly as many calls and
// fields as gqlgen generated for it, counted independently of the rewriter:
// the calls by their text in gqlgen's output, the fields from gqlgen's own
// model of the schema (codegen.BuildData).
func TestGeneratedCodeIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates code; skipped in -short mode")
	}
	checkDirectives(t)
	generated := []string{"gid/kinds_gen.go", "graph/generated.go", "graph/model/models_gen.go", "resolvers/schema.resolvers.go"}
	before := map[string][]byte{}
	for _, f := range generated {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		before[f] = b
	}
	// Regenerate in place, then restore whatever was there so the working tree
	// is left as found even when the check fails.
	t.Cleanup(func() {
		for f, b := range before {
			_ = os.WriteFile(f, b, 0o644)
		}
	})
	mustRun(t, generateSteps[0]) // gid's kinds, from gateway/kinds.go
	mustRun(t, generateSteps[1])
	raw, err := os.ReadFile("graph/generated.go")
	if err != nil {
		t.Fatal(err)
	}
	scalars, money := plainMemberFields(t)
	want := map[string]int{
		"lists":   bytes.Count(raw, []byte("graphql.MarshalSliceConcurrently(")),
		"defer":   bytes.Count(raw, []byte("graphql.NewDeferredGroup(ctx)")),
		"objects": bytes.Count(raw, []byte("graphql.NewFieldSet(fields)")),
		"plans":   bytes.Count(raw, []byte("graphql.CollectFields(ec.OperationContext, sel, ")),
		"buffer":  bytes.Count(raw, []byte("data.MarshalGQL(&buf)")),
		"scalars": scalars,
		"money":   money,
		// Every call of gqlgen's ResolveField: the scalar and money rules
		// keep theirs behind their guards.
		"resolvers": bytes.Count(raw, []byte("graphql.ResolveField(")),
	}
	want["inputs"] = scalarListInputs(raw)
	got := rewriteCounts(t, mustRun(t, generateSteps[2]))
	for rule, n := range want {
		if n == 0 {
			t.Errorf("gqlgen generated nothing for rule %s: the test no longer checks it", rule)
		}
		if got[rule] != n {
			t.Errorf("rule %s rewrote %d, gqlgen generated %d", rule, got[rule], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("the rewriter applied rules %v; the test counts %v", got, want)
	}
	for _, f := range generated {
		after, err := os.ReadFile(filepath.Clean(f))
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		if !bytes.Equal(before[f], after) {
			t.Errorf("%s is stale: run `go generate ./...` and commit the result", f)
		}
	}
}

// checkDirectives fails when server.go's //go:generate lines are not the
// steps the test runs.
func checkDirectives(t *testing.T) {
	t.Helper()
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(src), "\n") {
		if d, ok := strings.CutPrefix(l, "//go:generate "); ok {
			lines = append(lines, d)
		}
	}
	var want []string
	for _, s := range generateSteps {
		want = append(want, strings.Join(s, " "))
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("server.go generates with %q; the test runs %q", lines, want)
	}
}

func mustRun(t *testing.T, args []string) []byte {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

var rewriteLine = regexp.MustCompile(`(?m)^rewrite: (\w+): (\d+) rewritten$`)

// rewriteCounts reads the rewriter's report of what each rule rewrote.
func rewriteCounts(t *testing.T, out []byte) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, m := range rewriteLine.FindAllSubmatch(out, -1) {
		n, _ := strconv.Atoi(string(m[2]))
		got[string(m[1])] = n
	}
	if len(got) == 0 {
		t.Fatalf("the rewriter reported no counts:\n%s", out)
	}
	return got
}

// plainMemberFields counts, in gqlgen's model of the schema, the fields the
// rewriter's "scalars" and "money" rules are for: read from a struct member
// (no resolver, no method), no directive, non-null, and of a plain Go
// String, ID, Int or Boolean, or of Money.
func plainMemberFields(t *testing.T) (scalars, money int) {
	t.Helper()
	cfg, err := config.LoadConfig("gqlgen.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.LoadSchema(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Init(); err != nil {
		t.Fatal(err)
	}
	data, err := codegen.BuildData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range data.Objects {
		for _, f := range o.Fields {
			tr := f.TypeReference
			if f.IsResolver || f.GoFieldType != codegen.GoFieldVariable || len(f.Directives) > 0 || !tr.GQL.NonNull || tr.GQL.Elem != nil {
				continue
			}
			switch goType := fmt.Sprint(tr.GO); tr.GQL.NamedType {
			case "String", "ID":
				scalars += b2i(goType == "string")
			case "Int":
				scalars += b2i(goType == "int")
			case "Boolean":
				scalars += b2i(goType == "bool")
			case "Money":
				money++
			}
		}
	}
	return scalars, money
}

// scalarListInputs counts, in gqlgen's output, the list unmarshallers
// whose elements are a scalar's (the inputs rule): an element loop calling an
// unmarshaller that only converts v and puts ctx's path on its error.
func scalarListInputs(raw []byte) int {
	scalar := map[string]bool{}
	for _, m := range scalarUnmarshaller.FindAllSubmatch(raw, -1) {
		scalar[string(m[1])] = true
	}
	n := 0
	for _, m := range elementLoop.FindAllSubmatch(raw, -1) {
		n += b2i(scalar[string(m[1])])
	}
	return n
}

var (
	scalarUnmarshaller = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (unmarshal\w+)\(ctx context\.Context, v any\) \(\w+, error\) \{\n\tres, err := graphql\.Unmarshal\w+\(v\)\n\treturn res, graphql\.ErrorOnPath\(ctx, err\)\n\}`)
	elementLoop        = regexp.MustCompile(`(?m)^\tfor i := range vSlice \{\n\t\tctx := graphql\.WithPathContext\(ctx, graphql\.NewPathWithIndex\(i\)\)\n\t\tres\[i\], err = ec\.(\w+)\(ctx, vSlice\[i\]\)`)
)

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
