package listexec

import (
	"bytes"
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/ast"
)

// BenchmarkMarshalList writes what the list of 50 writes: 50 products, each
// with its id, name, price (amount, currency), unit and store (id, name,
// city), into a buffer that holds it, as Marshal's pooled one does.
func BenchmarkMarshalList(b *testing.B) {
	oc := directOperation(b)
	fields := func(names ...string) []graphql.CollectedField {
		out := make([]graphql.CollectedField, len(names))
		for i, n := range names {
			out[i] = graphql.CollectedField{Field: &ast.Field{Alias: n, Name: n}}
		}
		return out
	}
	product, price, store := fields("id", "name", "price", "unit", "store"), fields("amount", "currency"), fields("id", "name", "city")
	id, name, unit, city, currency := "gid_UHJvZHVjdDpmcmVzaGNhcnQ6cC0wMDAwMDE", "Organic Bananas 1kg", "kg", "Berlin", "EUR"
	amount := 249
	list := make(graphql.Array, 50)
	for i := range list {
		pr := NewFieldSet(context.Background(), oc, price)
		pr.Values[0], pr.Values[1] = IntOf(&amount), StringOf(&currency)
		st := NewFieldSet(context.Background(), oc, store)
		st.Values[0], st.Values[1], st.Values[2] = StringOf(&id), StringOf(&name), StringOf(&city)
		p := NewFieldSet(context.Background(), oc, product)
		p.Values[0], p.Values[1], p.Values[2], p.Values[3], p.Values[4] = StringOf(&id), StringOf(&name), pr, StringOf(&unit), st
		list[i] = p
	}
	var buf bytes.Buffer
	list.MarshalGQL(&buf)
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		list.MarshalGQL(&buf)
	}
}

// directOperation is an operation with no field middleware (Direct).
func directOperation(tb testing.TB) *graphql.OperationContext {
	tb.Helper()
	oc, err := executor.New(probeSchema{}).CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: "{ probe }"})
	if err != nil || !Direct(oc) {
		tb.Fatalf("operation: %v", err)
	}
	return oc
}
