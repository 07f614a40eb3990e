package listexec

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
)

// FieldSet replaces graphql.FieldSet in the generated executor's object
// marshallers (see cmd/rewrite, rule objects): it has the members and
// methods the executor uses (Values, Invalids, ResolveConcurrently,
// ResolveRootConcurrently, Dispatch), and a MarshalGQL that writes the
// object without gqlgen's per-object cost. gqlgen's marshalFieldSet walks
// the fields through an iterator that copies every field to the heap and
// keeps a map of the aliases written: about a quarter of a list query's
// allocations. This one walks the slices in place and finds a repeated
// alias by scanning the fields before it (an object has few fields; past
// maxScan it falls back to gqlgen).
//
// An object is one allocation: under a list, its field set and its values
// come from the list's slab (see fieldSets), each object taking as many
// values as it has fields; outside one, the values of up to inlineValues
// fields are allocated with the field set. gqlgen's field set (two more
// allocations) is made only
// for an object with a field resolved concurrently (a resolver), which
// gqlgen's own methods schedule and dispatch; Dispatch then copies the
// values they set and adds their invalid count.
//
// With a field middleware registered (Direct false) it is gqlgen's field
// set, made at once and sharing Values, and gqlgen's marshaller, so that
// path stays the plain one the differential test compares with.
type FieldSet struct {
	fields   []graphql.CollectedField
	Values   []graphql.Marshaler
	Invalids uint32
	plain    bool
	// fs is gqlgen's field set: made by the second field resolved
	// concurrently (or a deferred one), or at once when plain.
	fs *graphql.FieldSet
	// one is the object's only field resolved concurrently while it is the
	// only one (a product's store): Dispatch runs it as gqlgen runs a lone
	// delayed field, on the calling goroutine, without gqlgen's field set,
	// its task list and its closure around resolve (four allocations an
	// object).
	one pending
}

// inlineFieldSet is a field set allocated on its own, outside a list's
// slab, with room for its values.
type inlineFieldSet struct {
	FieldSet
	vals [inlineValues]graphql.Marshaler
}

// pending is a field scheduled by ResolveConcurrently and not yet resolved.
type pending struct {
	resolve                   func(context.Context) graphql.Marshaler
	oc                        *graphql.OperationContext
	i                         int
	recoverFromPanic, nonNull bool
}

// maxScan bounds the quadratic alias scan.
const maxScan = 32

// inlineValues is how many fields' values a field set allocated on its own
// holds without a slice of its own: most objects select fewer.
const inlineValues = 8

// NewFieldSet has the contract of graphql.NewFieldSet, which it replaces.
// ctx is the object's: inside a list the field set comes from the list's
// slab (see fieldSets).
func NewFieldSet(ctx context.Context, oc *graphql.OperationContext, fields []graphql.CollectedField) *FieldSet {
	plain := len(fields) > maxScan || !Direct(oc)
	n := len(fields)
	if plain {
		n = 0 // gqlgen's field set holds the values
	}
	m, vals := newFieldSet(ctx, n)
	*m = FieldSet{fields: fields, plain: plain}
	switch {
	case m.plain:
		m.fs = graphql.NewFieldSet(fields)
		m.Values = m.fs.Values
	case vals != nil:
		m.Values = vals
	default:
		m.Values = make([]graphql.Marshaler, len(fields))
	}
	return m
}

func (m *FieldSet) gqlgen() *graphql.FieldSet {
	if m.fs == nil {
		m.fs = graphql.NewFieldSet(m.fields)
	}
	return m.fs
}

// ResolveConcurrently is graphql.FieldSet.ResolveConcurrently: field i is
// resolved by Dispatch (or under @defer, by the deferred group). The first
// field not deferred is held in m; any further one, or a deferred one, goes
// to gqlgen's field set, the held one first, so gqlgen schedules them all in
// the order it would have.
func (m *FieldSet) ResolveConcurrently(oc *graphql.OperationContext, deferred *graphql.DeferredGroup, i int,
	recoverFromPanic, nonNull bool, resolve func(ctx context.Context) graphql.Marshaler) {
	if !m.plain && m.fs == nil && m.one.resolve == nil && !m.fields[i].IsDeferred() {
		m.one = pending{resolve: resolve, oc: oc, i: i, recoverFromPanic: recoverFromPanic, nonNull: nonNull}
		return
	}
	m.release().ResolveConcurrently(oc, deferred, i, recoverFromPanic, nonNull, resolve)
}

// release hands the held field, if any, to gqlgen's field set and returns
// that field set.
func (m *FieldSet) release() *graphql.FieldSet {
	fs := m.gqlgen()
	if p := m.one; p.resolve != nil {
		m.one = pending{}
		// Not deferred (or it would not be held): the group is not read.
		fs.ResolveConcurrently(p.oc, nil, p.i, p.recoverFromPanic, p.nonNull, p.resolve)
	}
	return fs
}

// ResolveRootConcurrently is graphql.FieldSet.ResolveRootConcurrently.
func (m *FieldSet) ResolveRootConcurrently(ctx context.Context, oc *graphql.OperationContext, i int,
	recoverFromPanic, nonNull bool, resolve func(ctx context.Context) graphql.Marshaler) {
	m.release().ResolveRootConcurrently(ctx, oc, i, recoverFromPanic, nonNull, resolve)
}

// Dispatch is graphql.FieldSet.Dispatch: it resolves the fields scheduled
// concurrently, and counts their invalid results in Invalids.
func (m *FieldSet) Dispatch(ctx context.Context) {
	if p := m.one; p.resolve != nil {
		m.one = pending{}
		v := p.run(ctx)
		m.Values[p.i] = v
		// gqlgen's executeDelayed: the field's invalid result (Null when
		// non-null, RequiredNull otherwise) invalidates the object.
		if (p.nonNull && v == graphql.Null) || (!p.nonNull && v == graphql.RequiredNull) {
			atomic.AddUint32(&m.Invalids, 1)
		}
	}
	if m.fs == nil {
		return
	}
	m.fs.Dispatch(ctx)
	if !m.plain {
		// gqlgen set exactly the values of the fields it scheduled
		// (Null for a deferred one); the others are nil there.
		for i, v := range m.fs.Values {
			if v != nil {
				m.Values[i] = v
			}
		}
	}
	atomic.AddUint32(&m.Invalids, atomic.LoadUint32(&m.fs.Invalids))
}

// run is gqlgen's recoverToNull: a panic is reported through oc and
// resolves to Null.
func (p *pending) run(ctx context.Context) (v graphql.Marshaler) {
	if p.recoverFromPanic {
		defer func() {
			if r := recover(); r != nil {
				p.oc.Error(ctx, p.oc.Recover(ctx, r))
				v = graphql.Null
			}
		}()
	}
	return p.resolve(ctx)
}

// MarshalGQL writes what graphql.FieldSet.MarshalGQL writes: the fields in
// order, each alias once (its first value), every value as marshalled.
func (m *FieldSet) MarshalGQL(w io.Writer) {
	if m.plain {
		m.fs.MarshalGQL(w)
		return
	}
	if b, ok := w.(*bytes.Buffer); ok {
		m.marshalInto(b)
		return
	}
	// Another writer (tests, a transport of gqlgen's own): the same bytes,
	// written once.
	var b bytes.Buffer
	m.marshalInto(&b)
	_, _ = w.Write(b.Bytes())
}

// marshalInto is MarshalGQL into the executor's buffer: the punctuation
// and the aliases written straight into it, not through io.WriteString's
// interface check per piece.
func (m *FieldSet) marshalInto(b *bytes.Buffer) {
	_ = b.WriteByte('{')
	first := true
	for i := range m.fields {
		alias := m.fields[i].Alias
		if written(m.fields[:i], alias) {
			continue
		}
		if !first {
			_ = b.WriteByte(',')
		}
		first = false
		writeQuotedInto(b, alias)
		_ = b.WriteByte(':')
		m.Values[i].MarshalGQL(b)
	}
	_ = b.WriteByte('}')
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
	if b, ok := w.(*bytes.Buffer); ok {
		writeQuotedInto(b, s)
		return
	}
	_, _ = w.Write(AppendQuoted(make([]byte, 0, len(s)+2), s))
}

// writeQuotedInto is writeQuotedString into the executor's buffer, appended
// to its spare capacity in one piece.
func writeQuotedInto(b *bytes.Buffer, s string) {
	b.Grow(len(s) + 2)
	_, _ = b.Write(AppendQuoted(b.AvailableBuffer(), s))
}

// AppendQuoted appends s quoted as a GraphQL response string (what
// graphql.MarshalString and writeQuotedString write). The string
// is scanned byte by byte: the bytes it escapes are all ASCII, so every
// other byte, of a valid character or not, passes through as gqlgen's
// rune-by-rune scan passes it.
func AppendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '\t':
			dst = append(dst, `\t`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\\':
			dst = append(dst, `\\`...)
		case '"':
			dst = append(dst, `\"`...)
		default:
			dst = append(dst, '\\', 'u', '0', '0', encodeHex[c>>4], encodeHex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
