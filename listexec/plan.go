package listexec

import (
	"sync/atomic"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// CollectFields replaces graphql.CollectFields in the generated executor
// (see cmd/rewrite, rule plans): the same fields, kept across requests.
//
// gqlgen collects an object's fields once per request, but finds them again
// for every object it marshals by hashing the type names (fnv, two
// allocations) under a read lock: three times per product of a list of 50.
// And every request collects anew, although the query cache hands every
// request with the same text the same parsed document. Here the fields of a
// selection set are kept in a fixed table keyed by the addresses of the
// selection set and of the type names, and shared by every later request
// that marshals the same selection set.
//
// The collection depends on the document and, through @include, @skip and
// @defer, on the variables: a selection set where any of those reads a
// variable (at its level, or in the fragments it spreads) is collected per
// request, as gqlgen does. An entry holds its selection set and type names,
// so no other can take their addresses while it lives; a collision only
// replaces the entry. The table costs the same memory however many
// documents come and go (it may keep up to len(plans) selection sets of
// evicted documents alive).
//
// With a field middleware registered (Direct false) it is gqlgen's, so that
// path stays the plain one the differential test compares with.
func CollectFields(oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	if len(sel) == 0 || !Direct(oc) {
		return graphql.CollectFields(oc, sel, satisfies)
	}
	k := planKey{
		sel:       uintptr(unsafe.Pointer(unsafe.SliceData(sel))),
		n:         len(sel),
		satisfies: uintptr(unsafe.Pointer(unsafe.SliceData(satisfies))),
		m:         len(satisfies),
	}
	slot := &plans[k.hash()]
	if p := slot.Load(); p != nil && p.key == k {
		return p.fields
	}
	fields := graphql.CollectFields(oc, sel, satisfies)
	if constant(oc.Doc, sel, 0) {
		slot.Store(&plan{key: k, sel: sel, satisfies: satisfies, fields: fields})
	}
	return fields
}

type planKey struct {
	sel       uintptr
	n         int
	satisfies uintptr
	m         int
}

func (k planKey) hash() uint64 {
	h := uint64(k.sel) ^ uint64(k.n)<<48 ^ uint64(k.satisfies)*31 ^ uint64(k.m)<<56
	// Fibonacci hashing: the top bits of h times 2^64/φ.
	return h * 0x9E3779B97F4A7C15 >> (64 - planBits)
}

// plan is one selection set's collected fields. sel and satisfies are held
// only so that their arrays outlive the entry: while it exists, an equal key
// is the same selection set and type names.
type plan struct {
	key       planKey
	sel       ast.SelectionSet
	satisfies []string
	fields    []graphql.CollectedField
}

const planBits = 10

var plans [1 << planBits]atomic.Pointer[plan]

// maxFragmentDepth bounds constant's walk through nested fragment spreads
// (the validator already refuses cycles).
const maxFragmentDepth = 16

// constant reports whether collecting sel depends on nothing but the
// document: no directive at its level, in its inline fragments or in the
// fragments it spreads, reads a variable.
func constant(doc *ast.QueryDocument, sel ast.SelectionSet, depth int) bool {
	if depth > maxFragmentDepth {
		return false
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if readsVariable(s.Directives) {
				return false
			}
		case *ast.InlineFragment:
			if readsVariable(s.Directives) || !constant(doc, s.SelectionSet, depth+1) {
				return false
			}
		case *ast.FragmentSpread:
			if readsVariable(s.Directives) || doc == nil {
				return false
			}
			f := doc.Fragments.ForName(s.Name)
			if f == nil || readsVariable(f.Directives) || !constant(doc, f.SelectionSet, depth+1) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func readsVariable(ds ast.DirectiveList) bool {
	for _, d := range ds {
		for _, a := range d.Arguments {
			if hasVariable(a.Value) {
				return true
			}
		}
	}
	return false
}

func hasVariable(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable {
		return true
	}
	for _, c := range v.Children {
		if hasVariable(c.Value) {
			return true
		}
	}
	return false
}
