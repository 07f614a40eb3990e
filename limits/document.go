package limits

import (
	"context"
	"math"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"
)

// CheckRequest runs the per-document checks before gqlgen parses and
// validates: a missing query, the token cap, the shape limits and the
// operation name. A document already in the query cache passed them when it
// was added, so only its operation name is checked. A request carrying only
// a persisted-query hash is left to gqlgen (the query was checked when it was
// registered, since registration sends the full text through here).
func (g *Guard) CheckRequest(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		if _, ok := p.Extensions["persistedQuery"]; ok {
			return nil
		}
		return errorf(CodeBadRequest, "the request has no query")
	}
	doc, ok := g.cache.Get(ctx, p.Query)
	if !ok {
		var err *gqlerror.Error
		if doc, err = g.parse(p.Query); err != nil {
			return err
		}
		if err := g.checkShape(doc); err != nil {
			return err
		}
	}
	return checkOperationName(doc, p.OperationName)
}

// parse parses query, stopping at MaxTokens. The tokens are counted by the
// lexer alone first: it allocates nothing per token, where the parser builds
// a node per field, so a document far past the cap (10,000 repeated fields)
// costs a scan, not an AST.
func (g *Guard) parse(query string) (*ast.QueryDocument, *gqlerror.Error) {
	limit := max(g.cfg.MaxTokens, 0) // 0 is gqlparser's "no limit"
	if limit > 0 && tooManyTokens(query, limit) {
		return nil, errorf(CodeTooManyTokens, "the document has more than %d tokens; send a smaller query", limit)
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, limit)
	if err == nil {
		return doc, nil
	}
	gqlErr, ok := err.(*gqlerror.Error)
	if !ok {
		gqlErr = gqlerror.Wrap(err)
	}
	// gqlparser reports the cap only through its message ("exceeded token
	// limit of N"); the test for TOO_MANY_TOKENS fails if that changes.
	if strings.HasPrefix(gqlErr.Message, "exceeded token limit") {
		return nil, errorf(CodeTooManyTokens, "the document has more than %d tokens; send a smaller query", limit)
	}
	errcode.Set(gqlErr, errcode.ParseFailed)
	return nil, gqlErr
}

func checkOperationName(doc *ast.QueryDocument, name string) *gqlerror.Error {
	if doc.Operations.ForName(name) != nil {
		return nil
	}
	switch {
	case len(doc.Operations) == 0:
		return errorf(CodeBadRequest, "the document has no operation")
	case name == "":
		return errorf(CodeOperationNotFound, "the document has %d operations; set operationName to the one to run", len(doc.Operations))
	default:
		return errorf(CodeOperationNotFound, "operation %q is not in the document", name)
	}
}

// shape is what the walk learns about one selection set, with named and
// inline fragments merged in.
type shape struct {
	depth   int            // deepest field below, 1 for a set of leaves
	aliases int            // aliased fields, fragments counted per use
	names   map[string]int // response name -> occurrences at this level
	fields  int            // fields at this level
}

// shapeWalker walks operations once, following fragment spreads; each named
// fragment is summarised once and reused, so a fragment spread many times
// (or a "billion laughs" chain of them) costs one walk, while its counts are
// added per use.
type shapeWalker struct {
	cfg       *Config
	doc       *ast.QueryDocument
	fragments map[string]*shape // nil value: being walked (a cycle; validation rejects it)
	err       *gqlerror.Error
}

// checkShape enforces MaxOperations, MaxDepth, MaxAliases, MaxRootFields and
// MaxFieldRepeats on doc.
func (g *Guard) checkShape(doc *ast.QueryDocument) *gqlerror.Error {
	if exceeds(len(doc.Operations), g.cfg.MaxOperations) {
		return errorf(CodeTooManyOperations, "the document has %d operations; the limit is %d", len(doc.Operations), g.cfg.MaxOperations)
	}
	w := shapeWalker{cfg: &g.cfg, doc: doc}
	for _, op := range doc.Operations {
		s := w.selectionSet(op.SelectionSet)
		if w.err != nil {
			return w.err
		}
		if exceeds(s.fields, g.cfg.MaxRootFields) {
			return errorf(CodeTooManyRootFields, "operation %s selects %d root fields; the limit is %d", opName(op), s.fields, g.cfg.MaxRootFields)
		}
		if exceeds(s.depth, g.cfg.MaxDepth) {
			return errorf(CodeQueryTooDeep, "operation %s is %d levels deep; the limit is %d", opName(op), s.depth, g.cfg.MaxDepth)
		}
		if exceeds(s.aliases, g.cfg.MaxAliases) {
			return errorf(CodeTooManyAliases, "operation %s uses %d aliases; the limit is %d", opName(op), s.aliases, g.cfg.MaxAliases)
		}
	}
	return nil
}

func opName(op *ast.OperationDefinition) string {
	if op.Name == "" {
		return "(anonymous)"
	}
	return op.Name
}

func (w *shapeWalker) selectionSet(set ast.SelectionSet) shape {
	s := shape{names: make(map[string]int, len(set))}
	for _, sel := range set {
		if w.err != nil {
			return s
		}
		switch sel := sel.(type) {
		case *ast.Field:
			s.names[sel.Alias] = satAdd(s.names[sel.Alias], 1)
			s.fields = satAdd(s.fields, 1)
			if sel.Alias != sel.Name {
				s.aliases = satAdd(s.aliases, 1)
			}
			if strings.HasPrefix(sel.Name, "__") {
				continue // introspection: gqlparser's MaxIntrospectionDepth bounds it
			}
			child := w.selectionSet(sel.SelectionSet)
			s.depth = max(s.depth, 1+child.depth)
			s.aliases = satAdd(s.aliases, child.aliases)
		case *ast.InlineFragment:
			s.merge(w.selectionSet(sel.SelectionSet))
		case *ast.FragmentSpread:
			if f := w.fragment(sel.Name); f != nil {
				s.merge(*f)
			}
		}
	}
	for name, n := range s.names {
		if exceeds(n, w.cfg.MaxFieldRepeats) && w.err == nil {
			w.err = errorf(CodeTooManyRepeats, "%q is selected %d times in one selection set; the limit is %d", name, n, w.cfg.MaxFieldRepeats)
		}
	}
	return s
}

// fragment returns the memoised shape of the named fragment, nil for an
// unknown fragment or a cycle (both left to validation to report).
func (w *shapeWalker) fragment(name string) *shape {
	if w.fragments == nil {
		w.fragments = make(map[string]*shape, len(w.doc.Fragments))
	}
	if f, seen := w.fragments[name]; seen {
		return f
	}
	def := w.doc.Fragments.ForName(name)
	if def == nil {
		return nil
	}
	w.fragments[name] = nil
	s := w.selectionSet(def.SelectionSet)
	w.fragments[name] = &s
	return &s
}

func (s *shape) merge(o shape) {
	s.depth = max(s.depth, o.depth)
	s.aliases = satAdd(s.aliases, o.aliases)
	s.fields = satAdd(s.fields, o.fields)
	for name, n := range o.names {
		s.names[name] = satAdd(s.names[name], n)
	}
}

// satAdd adds without wrapping: fragment chains can multiply counts far
// past any int.
func satAdd(a, b int) int {
	if a > math.MaxInt32-b {
		return math.MaxInt32
	}
	return a + b
}

// tooManyTokens reports whether query has more than limit tokens. A lexical
// error ends the count: the parser reports it properly.
func tooManyTokens(query string, limit int) bool {
	l := lexer.New(&ast.Source{Input: query})
	for n := 0; n <= limit; n++ {
		tok, err := l.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return false
		}
	}
	return true
}
