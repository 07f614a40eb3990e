package listexec

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/ast"
)

func marshal(m graphql.Marshaler) string {
	var b bytes.Buffer
	m.MarshalGQL(&b)
	return b.String()
}

// TestScalarsMatchGqlgen holds StringOf and IntOf to gqlgen's MarshalString
// and MarshalInt, byte for byte, on the values whose encoding has edges.
func TestScalarsMatchGqlgen(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and backslash \`, "tab\tcr\rlf\n", "\x00\x01\x1f\x7f",
		"Pure coconut water. 海南", "invalid utf-8 \xff\xfe end", "</script><!-- & -->", "\u2028\u2029",
	} {
		want := marshal(graphql.MarshalString(s))
		if got := marshal(StringOf(&s)); got != want {
			t.Errorf("StringOf(%q) = %s, gqlgen writes %s", s, got, want)
		}
		// Into a writer other than the executor's buffer.
		var other strings.Builder
		StringOf(&s).MarshalGQL(&other)
		if got := other.String(); got != want {
			t.Errorf("StringOf(%q) into a strings.Builder = %s, gqlgen writes %s", s, got, want)
		}
	}
	for _, i := range []int{0, 1, -1, 42, math.MaxInt, math.MinInt} {
		if got, want := marshal(IntOf(&i)), marshal(graphql.MarshalInt(i)); got != want {
			t.Errorf("IntOf(%d) = %s, gqlgen writes %s", i, got, want)
		}
	}
}

// TestFieldSetMatchesGqlgen checks that FieldSet writes what gqlgen's field
// set writes, repeated aliases included, and that without Direct it is
// gqlgen's marshaller.
func TestFieldSetMatchesGqlgen(t *testing.T) {
	direct := mustOperation(t, func(*executor.Executor) {})
	withMiddleware := mustOperation(t, func(e *executor.Executor) {
		e.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) })
	})
	field := func(alias string) graphql.CollectedField {
		return graphql.CollectedField{Field: &ast.Field{Alias: alias, Name: alias}}
	}
	many := make([]graphql.CollectedField, maxScan+1)
	for i := range many {
		many[i] = field(string(rune('a' + i%26)))
	}
	for _, tc := range []struct {
		name   string
		fields []graphql.CollectedField
	}{
		{"no field", nil},
		{"one field", []graphql.CollectedField{field("id")}},
		{"several fields", []graphql.CollectedField{field("id"), field("name"), field("price")}},
		{"aliases to escape", []graphql.CollectedField{field(`a"b`), field("c\\d"), field("e\nf")}},
		{"a repeated alias keeps its first value", []graphql.CollectedField{field("id"), field("name"), field("id"), field("x"), field("name")}},
		{"more fields than the scan takes", many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := graphql.NewFieldSet(tc.fields)
			for _, oc := range []*graphql.OperationContext{direct, withMiddleware} {
				got := NewFieldSet(context.Background(), oc, tc.fields)
				for i := range tc.fields {
					got.Values[i] = graphql.MarshalInt(i)
					want.Values[i] = graphql.MarshalInt(i)
				}
				if g, w := marshal(got), marshal(want); g != w {
					t.Fatalf("wrote %s, gqlgen writes %s", g, w)
				}
				var other strings.Builder // not the executor's buffer
				got.MarshalGQL(&other)
				if g, w := other.String(), marshal(want); g != w {
					t.Fatalf("wrote %s into a strings.Builder, gqlgen writes %s", g, w)
				}
				if wantPlain := len(tc.fields) > maxScan || oc == withMiddleware; got.plain != wantPlain {
					t.Fatalf("plain = %v, want %v", got.plain, wantPlain)
				}
			}
		})
	}
}

func mustOperation(t *testing.T, setup func(*executor.Executor)) *graphql.OperationContext {
	t.Helper()
	e := executor.New(probeSchema{})
	setup(e)
	oc, err := e.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: "{ probe }"})
	if err != nil {
		t.Fatal(err)
	}
	return oc
}

// TestFieldSetResolvesConcurrentFieldsAsGqlgen schedules fields
// concurrently beside fields set directly, on both paths, and checks the
// object written and its invalid count against gqlgen's field set.
func TestFieldSetResolvesConcurrentFieldsAsGqlgen(t *testing.T) {
	direct := mustOperation(t, func(*executor.Executor) {})
	withMiddleware := mustOperation(t, func(e *executor.Executor) {
		e.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) })
	})
	fields := make([]graphql.CollectedField, 0, inlineValues+2)
	for _, a := range []string{"id", "store", "name", "provider", "a", "b", "c", "d", "e", "f"} {
		fields = append(fields, graphql.CollectedField{Field: &ast.Field{Alias: a, Name: a}})
	}
	resolved := func(v graphql.Marshaler) func(context.Context) graphql.Marshaler {
		return func(context.Context) graphql.Marshaler { return v }
	}
	panics := func(context.Context) graphql.Marshaler { panic("store resolver failed") }
	for _, tc := range []struct {
		name         string
		n            int
		store        func(context.Context) graphql.Marshaler
		storeNonNull bool
		provider     bool // a second field resolved concurrently
		wantInvalid  uint32
		wantErrors   int
	}{
		{"a resolved field among plain ones", 4, resolved(graphql.MarshalString("s-1")), false, true, 0, 0},
		{"a nullable field resolved to null", 4, resolved(graphql.Null), false, true, 0, 0},
		{"a non-null field resolved to null invalidates the object", 4, resolved(graphql.Null), true, true, 1, 0},
		{"more fields than the field set holds", len(fields), resolved(graphql.MarshalString("s-2")), true, true, 0, 0},
		{"the only resolved field", 4, resolved(graphql.MarshalString("s-3")), false, false, 0, 0},
		{"the only resolved field, non-null and null, invalidates the object", 4, resolved(graphql.Null), true, false, 1, 0},
		{"the only resolved field, nullable and RequiredNull, invalidates the object", 4, resolved(graphql.RequiredNull), false, false, 1, 0},
		{"the only resolved field, non-null and RequiredNull, does not", 4, resolved(graphql.RequiredNull), true, false, 0, 0},
		{"the only resolved field panics: null and an error", 4, panics, true, false, 1, 1},
		{"a panicking field beside another", 4, panics, false, true, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := fields[:tc.n]
			schedule := func(oc *graphql.OperationContext, values []graphql.Marshaler,
				resolve func(oc *graphql.OperationContext, dg *graphql.DeferredGroup, i int, recoverFromPanic, nonNull bool, f func(context.Context) graphql.Marshaler)) {
				var dg graphql.DeferredGroup
				for i := range fs {
					if i != 1 && (i != 3 || !tc.provider) {
						values[i] = graphql.MarshalInt(i)
					}
				}
				resolve(oc, &dg, 1, true, tc.storeNonNull, tc.store)
				if tc.provider {
					resolve(oc, &dg, 3, true, false, resolved(graphql.MarshalString("p")))
				}
			}
			newCtx := func() context.Context {
				return graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
			}
			want := graphql.NewFieldSet(fs)
			schedule(direct, want.Values, want.ResolveConcurrently)
			wantCtx := newCtx()
			want.Dispatch(wantCtx)
			for _, oc := range []*graphql.OperationContext{direct, withMiddleware} {
				got := NewFieldSet(context.Background(), oc, fs)
				schedule(oc, got.Values, got.ResolveConcurrently)
				ctx := newCtx()
				got.Dispatch(ctx)
				if g, w := marshal(got), marshal(want); g != w {
					t.Fatalf("wrote %s, gqlgen writes %s", g, w)
				}
				if got.Invalids != want.Invalids || got.Invalids != tc.wantInvalid {
					t.Fatalf("invalids %d, gqlgen counts %d, want %d", got.Invalids, want.Invalids, tc.wantInvalid)
				}
				if g, w := len(graphql.GetErrors(ctx)), len(graphql.GetErrors(wantCtx)); g != w || g != tc.wantErrors {
					t.Fatalf("%d errors, gqlgen reports %d, want %d", g, w, tc.wantErrors)
				}
			}
		})
	}
}
