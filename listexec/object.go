package listexec

import (
	"bytes"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// FieldSet replaces graphql.FieldSet in the generated executor's object
// marshallers (see cmd/rewrite, rule objects): the same field set, embedded,
// so every gqlgen method (ResolveConcurrently, Dispatch, views for @defer)
// runs unchanged, and a MarshalGQL that writes the object without
// gqlgen's per-object cost. gqlgen's marshalFieldSet walks the fields through
// an iterator that copies every field to the heap and keeps a map of the
// aliases written: about a quarter of a list query's allocations. This one
// walks the slices in place and finds a repeated alias by scanning the
// fields before it (an object has few fields; past maxScan it falls back to
// gqlgen).
//
// With a field middleware registered (Direct false) it is gqlgen's
// marshaller, so that path stays the plain one the differential test
// compares with.
type FieldSet struct {
	*graphql.FieldSet
	fields []graphql.CollectedField
	plain  bool
}

// maxScan bounds the quadratic alias scan.
const maxScan = 32

// NewFieldSet has the contract of graphql.NewFieldSet, which it replaces.
func NewFieldSet(oc *graphql.OperationContext, fields []graphql.CollectedField) *FieldSet {
	return &FieldSet{
		FieldSet: graphql.NewFieldSet(fields),
		fields:   fields,
		plain:    len(fields) > maxScan || !Direct(oc),
	}
}

// MarshalGQL writes what graphql.FieldSet.MarshalGQL writes: the fields in
// order, each alias once (its first value), every value as marshalled.
func (m *FieldSet) MarshalGQL(w io.Writer) {
	if m.plain {
		m.FieldSet.MarshalGQL(w)
		return
	}
	_, _ = io.WriteString(w, "{")
	first := true
	for i := range m.fields {
		alias := m.fields[i].Alias
		if written(m.fields[:i], alias) {
			continue
		}
		if !first {
			_, _ = io.WriteString(w, ",")
		}
		first = false
		writeQuotedString(w, alias)
		_, _ = io.WriteString(w, ":")
		m.Values[i].MarshalGQL(w)
	}
	_, _ = io.WriteString(w, "}")
}

func written(before []graphql.CollectedField, alias string) bool {
	for i := range before {
		if before[i].Alias == alias {
			return true
		}
	}
	return false
}

// String, ID and Int marshal a non-null scalar read from a struct member
// the way graphql.MarshalString, MarshalID and MarshalInt do, through a
// pointer to the member: a pointer fits in an interface without an
// allocation, where gqlgen's marshallers allocate a closure per value. They
// read the member when the response is written, so the object must not
// change after its resolver returned it (no resolver of Plaza's changes a
// model it has returned).
type (
	String string
	Int    int
)

// StringOf is the marshaller of *s.
func StringOf(s *string) graphql.Marshaler { return (*String)(s) }

// IntOf is the marshaller of *i.
func IntOf(i *int) graphql.Marshaler { return (*Int)(i) }

func (s *String) MarshalGQL(w io.Writer) { writeQuotedString(w, string(*s)) }

func (i *Int) MarshalGQL(w io.Writer) {
	// The executor marshals into a bytes.Buffer: format into its spare
	// capacity rather than into a buffer the interface call would move to
	// the heap.
	if b, ok := w.(*bytes.Buffer); ok {
		_, _ = b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(*i), 10))
		return
	}
	_, _ = io.WriteString(w, strconv.FormatInt(int64(*i), 10))
}

const encodeHex = "0123456789ABCDEF"

// writeQuotedString is gqlgen's (graphql/string.go), which is unexported:
// it escapes control characters, backslash and quote, and passes every other
// byte through as it is. TestScalarsMatchGqlgen holds the two together.
func writeQuotedString(w io.Writer, s string) {
	start := 0
	_, _ = io.WriteString(w, `"`)
	for i, c := range s {
		if c < 0x20 || c == '\\' || c == '"' {
			_, _ = io.WriteString(w, s[start:i])
			switch c {
			case '\t':
				_, _ = io.WriteString(w, `\t`)
			case '\r':
				_, _ = io.WriteString(w, `\r`)
			case '\n':
				_, _ = io.WriteString(w, `\n`)
			case '\\':
				_, _ = io.WriteString(w, `\\`)
			case '"':
				_, _ = io.WriteString(w, `\"`)
			default:
				_, _ = w.Write([]byte{'\\', 'u', '0', '0', encodeHex[c>>4], encodeHex[c&0xf]})
			}
			start = i + 1
		}
	}
	_, _ = io.WriteString(w, s[start:])
	_, _ = io.WriteString(w, `"`)
}
