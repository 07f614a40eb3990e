package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
)

// A rule rewrites one kind of call or field in the generated executor. Each
// counts two ways: the candidates, found by what gqlgen states (a call of a
// named function, or a field context declaring a plain member read), and
// the rewrites, which also require the exact syntax the rule replaces. The
// two must agree, and a rule with no candidate at all fails too: either
// means gqlgen changed what it generates, and `go generate` must stop
// rather than leave part of the executor unrewritten.
type rule struct {
	name  string
	apply func(f *file) (candidates, rewritten []string)
}

var rules = []rule{
	// graphql.MarshalSliceConcurrently -> listexec.MarshalSlice: list
	// elements in order until one does I/O (package listexec).
	{"lists", func(f *file) ([]string, []string) {
		return f.replaceCall("MarshalSliceConcurrently", 5, func(c *ast.CallExpr) {
			c.Fun = sel("listexec", "MarshalSlice")
		})
	}},
	// graphql.NewDeferredGroup(ctx) -> listexec.NewDeferredGroup(ctx,
	// ec.OperationContext): no per-object group without @defer.
	{"defer", func(f *file) ([]string, []string) {
		return f.replaceCall("NewDeferredGroup", 1, func(c *ast.CallExpr) {
			c.Fun = sel("listexec", "NewDeferredGroup")
			c.Args = append(c.Args, sel("ec", "OperationContext"))
		})
	}},
	// Non-null String, ID, Int and Boolean fields read from a struct member
	// are marshalled directly when no field middleware is registered (see
	// listexec.Direct): per field, gqlgen builds a field context, a context
	// value, closures and a deferred recover, for a value that can neither
	// fail, be null nor panic; String, ID and Int through a pointer to the
	// member (listexec.StringOf, IntOf), which costs no allocation. Float is left alone: its marshaller reports
	// NaN and infinities against the field's path.
	{"scalars", func(f *file) ([]string, []string) {
		plain := map[string]bool{
			"marshalNString2string": true, "marshalNID2string": true,
			"marshalNInt2int": true, "marshalNBoolean2bool": true,
		}
		return f.directFields(func(fn string) bool { return plain[fn] }, false)
	}},
	// graphql.NewFieldSet(fields) -> listexec.NewFieldSet(ctx,
	// ec.OperationContext, fields): every object is written without gqlgen's
	// per-object alias map and per-field copies (listexec.FieldSet), and
	// inside a list allocated with the list's others.
	{"objects", func(f *file) ([]string, []string) {
		return f.replaceCall("NewFieldSet", 1, func(c *ast.CallExpr) {
			c.Fun = sel("listexec", "NewFieldSet")
			c.Args = append([]ast.Expr{ast.NewIdent("ctx"), sel("ec", "OperationContext")}, c.Args...)
		})
	}},
	// graphql.CollectFields(ec.OperationContext, sel, <types>) ->
	// listexec.CollectFields(...): an object's fields collected once per
	// selection set for every request with the same document, and found
	// without gqlgen's per-object hashing (listexec.CollectFields).
	{"plans", func(f *file) ([]string, []string) {
		return f.replaceCall("CollectFields", 3, func(c *ast.CallExpr) {
			c.Fun = sel("listexec", "CollectFields")
		})
	}},
	// Lists of scalars in arguments and variables (nodes(ids:)): gqlgen
	// gives every element a path context (two allocations) before
	// unmarshalling it, for an error's path; the element is unmarshalled
	// without it, and again with it only when it fails.
	{"inputs", func(f *file) ([]string, []string) {
		return f.scalarListInputs()
	}},
	// data.MarshalGQL(&buf) -> listexec.Marshal(ctx, opCtx, data, &buf)
	// in Exec: the response buffer sized from the last answer to the same
	// document, and pooled when the transport lends one (listexec.Output).
	{"buffer", func(f *file) ([]string, []string) {
		var candidates, rewritten []string
		ast.Inspect(f.ast, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok || len(c.Args) != 1 {
				return true
			}
			s, ok := c.Fun.(*ast.SelectorExpr)
			if !ok || s.Sel.Name != "MarshalGQL" {
				return true
			}
			if u, ok := c.Args[0].(*ast.UnaryExpr); !ok || u.Op != token.AND || !isIdent(u.X, "buf") {
				return true
			}
			candidates = append(candidates, f.pos(c))
			if isIdent(s.X, "data") {
				rewritten = append(rewritten, f.pos(c))
				c.Args = []ast.Expr{ast.NewIdent("ctx"), ast.NewIdent("opCtx"), s.X, c.Args[0]}
				c.Fun = sel("listexec", "Marshal")
			}
			return true
		})
		return candidates, rewritten
	}},
	// Non-null Money fields read from a struct member, when set and no
	// field middleware is registered: Money has only plain scalar fields
	// (amount, currency). A nil member still goes through gqlgen, so its
	// error keeps the field's path.
	{"money", func(f *file) ([]string, []string) {
		return f.directFields(func(fn string) bool { return strings.HasPrefix(fn, "marshalNMoney2") }, true)
	}},
	// graphql.ResolveField -> listexec.ResolveField: a field resolved
	// without a field middleware or directive calls its resolver without
	// gqlgen's middleware closure. Last: the scalar and money rules match
	// gqlgen's call by name.
	{"resolvers", func(f *file) ([]string, []string) {
		return f.replaceCall("ResolveField", 9, func(c *ast.CallExpr) {
			c.Fun = sel("listexec", "ResolveField")
		})
	}},
}

// RuleNames lists the rules in the order they apply.
func RuleNames() []string {
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = r.name
	}
	return names
}

const listexecPath = "github.com/plaza-gateway/plaza/listexec"

// Rewrite applies the named rules to src, gqlgen's generated executor, and
// returns the result and how many rewrites each rule made. A file already
// rewritten is returned with nil counts.
func Rewrite(src []byte, names []string) ([]byte, map[string]int, error) {
	fset := token.NewFileSet()
	imports, err := parser.ParseFile(fset, "generated.go", src, parser.ImportsOnly)
	if err != nil {
		return nil, nil, err
	}
	for _, imp := range imports.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == listexecPath {
			return src, nil, nil
		}
	}
	af, err := parser.ParseFile(fset, "generated.go", src, parser.ParseComments)
	if err != nil {
		return nil, nil, err
	}
	f := &file{fset: fset, ast: af, funcs: map[string]*ast.FuncDecl{}}
	for _, d := range af.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil {
			f.funcs[fd.Name.Name] = fd
		}
	}
	counts := map[string]int{}
	var errs []error
	for _, name := range names {
		i := slices.IndexFunc(rules, func(r rule) bool { return r.name == name })
		if i < 0 {
			return nil, nil, fmt.Errorf("no rule %q (rules: %s)", name, strings.Join(RuleNames(), ", "))
		}
		candidates, rewritten := rules[i].apply(f)
		counts[name] = len(rewritten)
		switch {
		case len(candidates) == 0:
			errs = append(errs, fmt.Errorf("rule %s: nothing to rewrite: has gqlgen changed what it generates?", name))
		case !slices.Equal(candidates, rewritten):
			errs = append(errs, fmt.Errorf("rule %s: %d candidates but %d rewritten; not rewritten: %s",
				name, len(candidates), len(rewritten), strings.Join(missing(candidates, rewritten), ", ")))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	if len(names) > 0 {
		addImport(af, listexecPath)
	}
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, af); err != nil {
		return nil, nil, err
	}
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("rewritten source does not format: %w", err)
	}
	return out, counts, nil
}

// file is the parsed executor; funcs are its methods by name.
type file struct {
	fset  *token.FileSet
	ast   *ast.File
	funcs map[string]*ast.FuncDecl
}

func (f *file) pos(n ast.Node) string { return f.fset.Position(n.Pos()).String() }

// replaceCall rewrites every call of graphql.<name> with nargs arguments.
// Its candidates are every mention of graphql.<name>, called or not.
func (f *file) replaceCall(name string, nargs int, replace func(*ast.CallExpr)) (candidates, rewritten []string) {
	calls := map[*ast.SelectorExpr]*ast.CallExpr{}
	ast.Inspect(f.ast, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok && len(c.Args) == nargs {
			if s, ok := c.Fun.(*ast.SelectorExpr); ok {
				calls[s] = c
			}
		}
		if s, ok := n.(*ast.SelectorExpr); ok && isSel(s, "graphql", name) {
			candidates = append(candidates, f.pos(s))
		}
		return true
	})
	ast.Inspect(f.ast, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok && isSel(s, "graphql", name) {
			if c := calls[s]; c != nil {
				rewritten = append(rewritten, f.pos(s))
				replace(c)
			}
		}
		return true
	})
	return candidates, rewritten
}

// directFields puts a direct marshalling of the struct member, guarded by
// listexec.Direct, in front of gqlgen's resolution of every field whose
// field context gqlgen declares as neither a method nor a resolver and whose
// non-null marshaller is in marshal. nilCheck guards pointer members.
//
// Candidates are the field functions gqlgen declares so; rewritten are
// those whose body is exactly `return graphql.ResolveField(ctx,
// ec.OperationContext, field, <field context>, func(ctx) (any, error) {
// return obj.<member>, nil }, nil, func(ctx, selections, v) { return
// ec.<marshal>(ctx, selections, v) }, true, true)`: a nil middleware (no
// directive), recover on and non-null.
func (f *file) directFields(marshal func(string) bool, nilCheck bool) (candidates, rewritten []string) {
	names := make([]string, 0, len(f.funcs))
	for name := range f.funcs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fd := f.funcs[name]
		if !strings.HasPrefix(name, "_") || !plainMemberContext(f.funcs["fieldContext"+name]) || !callsMarshal(fd, marshal) {
			continue
		}
		candidates = append(candidates, name)
		member, fn, ok := resolveFieldOfMember(fd, marshal)
		if !ok {
			continue
		}
		rewritten = append(rewritten, name)
		var call *ast.CallExpr
		if by, ok := byPointer[fn]; ok {
			// listexec.<by>(&obj.<member>): no allocation per value.
			call = &ast.CallExpr{Fun: sel("listexec", by), Args: []ast.Expr{&ast.UnaryExpr{Op: token.AND, X: sel("obj", member)}}}
		} else {
			call = &ast.CallExpr{Fun: sel("ec", fn), Args: []ast.Expr{ast.NewIdent("ctx"), sel("field", "Selections"), sel("obj", member)}}
		}
		direct := &ast.ReturnStmt{Results: []ast.Expr{call}}
		var cond ast.Expr = &ast.CallExpr{Fun: sel("listexec", "Direct"), Args: []ast.Expr{sel("ec", "OperationContext")}}
		if nilCheck {
			cond = &ast.BinaryExpr{X: &ast.BinaryExpr{X: sel("obj", member), Op: token.NEQ, Y: ast.NewIdent("nil")}, Op: token.LAND, Y: cond}
		}
		guard := &ast.IfStmt{Cond: cond, Body: &ast.BlockStmt{List: []ast.Stmt{direct}}}
		fd.Body.List = append([]ast.Stmt{guard}, fd.Body.List...)
	}
	return candidates, rewritten
}

// scalarListInputs rewrites the element loop of every list unmarshaller
// whose elements' unmarshaller is a scalar's (`res, err :=
// graphql.Unmarshal<X>(v); return res, graphql.ErrorOnPath(ctx, err)`: the
// context is read only for an error's path). Candidates are those loops;
// rewritten are those of exactly the shape
//
//	for i := range vSlice {
//		ctx := graphql.WithPathContext(ctx, graphql.NewPathWithIndex(i))
//		res[i], err = ec.<elem>(ctx, vSlice[i])
//		if err != nil {
//			return nil, err
//		}
//	}
//
// which become
//
//	for i := range vSlice {
//		res[i], err = ec.<elem>(ctx, vSlice[i])
//		if err != nil {
//			ctx := graphql.WithPathContext(ctx, graphql.NewPathWithIndex(i))
//			_, err = ec.<elem>(ctx, vSlice[i])
//			return nil, err
//		}
//	}
func (f *file) scalarListInputs() (candidates, rewritten []string) {
	names := make([]string, 0, len(f.funcs))
	for name := range f.funcs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !strings.HasPrefix(name, "unmarshal") {
			continue
		}
		ast.Inspect(f.funcs[name].Body, func(n ast.Node) bool {
			loop, ok := n.(*ast.RangeStmt)
			if !ok || !isIdent(loop.X, "vSlice") || len(loop.Body.List) == 0 {
				return true
			}
			elem := ""
			ast.Inspect(loop.Body, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					if s, ok := c.Fun.(*ast.SelectorExpr); ok && isIdent(s.X, "ec") && f.scalarUnmarshaller(s.Sel.Name) {
						elem = s.Sel.Name
					}
				}
				return elem == ""
			})
			if elem == "" {
				return true
			}
			candidates = append(candidates, f.pos(loop))
			if !elementLoop(loop.Body.List, elem) {
				return true
			}
			rewritten = append(rewritten, f.pos(loop))
			// Built anew, without positions, so the printer lays them out
			// as written above.
			call := func() ast.Expr {
				return &ast.CallExpr{Fun: sel("ec", elem), Args: []ast.Expr{ast.NewIdent("ctx"), &ast.IndexExpr{X: ast.NewIdent("vSlice"), Index: ast.NewIdent("i")}}}
			}
			pathCtx := &ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent("ctx")}, Tok: token.DEFINE, Rhs: []ast.Expr{&ast.CallExpr{
				Fun:  sel("graphql", "WithPathContext"),
				Args: []ast.Expr{ast.NewIdent("ctx"), &ast.CallExpr{Fun: sel("graphql", "NewPathWithIndex"), Args: []ast.Expr{ast.NewIdent("i")}}},
			}}}
			loop.Body.List = []ast.Stmt{
				&ast.AssignStmt{Lhs: []ast.Expr{&ast.IndexExpr{X: ast.NewIdent("res"), Index: ast.NewIdent("i")}, ast.NewIdent("err")}, Tok: token.ASSIGN, Rhs: []ast.Expr{call()}},
				&ast.IfStmt{
					Cond: &ast.BinaryExpr{X: ast.NewIdent("err"), Op: token.NEQ, Y: ast.NewIdent("nil")},
					Body: &ast.BlockStmt{List: []ast.Stmt{
						pathCtx,
						&ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent("_"), ast.NewIdent("err")}, Tok: token.ASSIGN, Rhs: []ast.Expr{call()}},
						&ast.ReturnStmt{Results: []ast.Expr{ast.NewIdent("nil"), ast.NewIdent("err")}},
					}},
				},
			}
			loop.Body.Rbrace = token.NoPos
			return true
		})
	}
	return candidates, rewritten
}

// scalarUnmarshaller reports whether the method name is a scalar's
// unmarshaller: `res, err := graphql.<fn>(v); return res,
// graphql.ErrorOnPath(ctx, err)`.
func (f *file) scalarUnmarshaller(name string) bool {
	fd := f.funcs[name]
	if fd == nil || !strings.HasPrefix(name, "unmarshal") || len(fd.Body.List) != 2 {
		return false
	}
	a, ok := fd.Body.List[0].(*ast.AssignStmt)
	if !ok || len(a.Rhs) != 1 || len(a.Lhs) != 2 || !isIdent(a.Lhs[0], "res") || !isIdent(a.Lhs[1], "err") {
		return false
	}
	c, ok := a.Rhs[0].(*ast.CallExpr)
	if !ok || len(c.Args) != 1 || !isIdent(c.Args[0], "v") {
		return false
	}
	if s, ok := c.Fun.(*ast.SelectorExpr); !ok || !isIdent(s.X, "graphql") || !strings.HasPrefix(s.Sel.Name, "Unmarshal") {
		return false
	}
	r, ok := fd.Body.List[1].(*ast.ReturnStmt)
	if !ok || len(r.Results) != 2 || !isIdent(r.Results[0], "res") {
		return false
	}
	e, ok := r.Results[1].(*ast.CallExpr)
	return ok && isSel(e.Fun, "graphql", "ErrorOnPath") && len(e.Args) == 2 && isIdent(e.Args[0], "ctx") && isIdent(e.Args[1], "err")
}

// elementLoop matches the loop body scalarListInputs rewrites.
func elementLoop(body []ast.Stmt, elem string) bool {
	if len(body) != 3 {
		return false
	}
	// ctx := graphql.WithPathContext(ctx, graphql.NewPathWithIndex(i))
	p, ok := body[0].(*ast.AssignStmt)
	if !ok || p.Tok != token.DEFINE || len(p.Lhs) != 1 || !isIdent(p.Lhs[0], "ctx") || len(p.Rhs) != 1 {
		return false
	}
	pc, ok := p.Rhs[0].(*ast.CallExpr)
	if !ok || !isSel(pc.Fun, "graphql", "WithPathContext") || len(pc.Args) != 2 || !isIdent(pc.Args[0], "ctx") {
		return false
	}
	ix, ok := pc.Args[1].(*ast.CallExpr)
	if !ok || !isSel(ix.Fun, "graphql", "NewPathWithIndex") || len(ix.Args) != 1 || !isIdent(ix.Args[0], "i") {
		return false
	}
	// res[i], err = ec.<elem>(ctx, vSlice[i])
	a, ok := body[1].(*ast.AssignStmt)
	if !ok || a.Tok != token.ASSIGN || len(a.Lhs) != 2 || !isIdent(a.Lhs[1], "err") || len(a.Rhs) != 1 {
		return false
	}
	if x, ok := a.Lhs[0].(*ast.IndexExpr); !ok || !isIdent(x.X, "res") || !isIdent(x.Index, "i") {
		return false
	}
	c, ok := a.Rhs[0].(*ast.CallExpr)
	if !ok || !isSel(c.Fun, "ec", elem) || len(c.Args) != 2 || !isIdent(c.Args[0], "ctx") {
		return false
	}
	if x, ok := c.Args[1].(*ast.IndexExpr); !ok || !isIdent(x.X, "vSlice") || !isIdent(x.Index, "i") {
		return false
	}
	// if err != nil { return nil, err }
	check, ok := body[2].(*ast.IfStmt)
	if !ok || check.Init != nil || check.Else != nil || len(check.Body.List) != 1 {
		return false
	}
	if b, ok := check.Cond.(*ast.BinaryExpr); !ok || b.Op != token.NEQ || !isIdent(b.X, "err") || !isIdent(b.Y, "nil") {
		return false
	}
	r, ok := check.Body.List[0].(*ast.ReturnStmt)
	return ok && len(r.Results) == 2 && isIdent(r.Results[0], "nil") && isIdent(r.Results[1], "err")
}

// byPointer names the listexec marshaller that writes what gqlgen's
// non-null scalar marshaller writes, from a pointer to the member:
// graphql.MarshalString, MarshalID and MarshalInt never return Null, so
// the generated marshallers' null check has nothing to report.
var byPointer = map[string]string{
	"marshalNString2string": "StringOf",
	"marshalNID2string":     "StringOf",
	"marshalNInt2int":       "IntOf",
}

// plainMemberContext reports whether fc is gqlgen's field context for a
// field read from a struct member: `return graphql.NewScalarFieldContext(
// "<Object>", field, false, false, "<Scalar>")` (isMethod, isResolver), or
// a FieldContext literal with IsMethod and IsResolver false.
func plainMemberContext(fc *ast.FuncDecl) bool {
	if fc == nil {
		return false
	}
	plain := false
	ast.Inspect(fc.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if isSel(n.Fun, "graphql", "NewScalarFieldContext") && len(n.Args) == 5 && isIdent(n.Args[2], "false") && isIdent(n.Args[3], "false") {
				plain = true
			}
		case *ast.CompositeLit:
			if isSel(n.Type, "graphql", "FieldContext") {
				method, resolver := "", ""
				for _, e := range n.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok {
							if v, ok := kv.Value.(*ast.Ident); ok {
								switch k.Name {
								case "IsMethod":
									method = v.Name
								case "IsResolver":
									resolver = v.Name
								}
							}
						}
					}
				}
				plain = plain || method == "false" && resolver == "false"
			}
		}
		return true
	})
	return plain
}

// callsMarshal reports whether fd calls any of the marshallers.
func callsMarshal(fd *ast.FuncDecl, marshal func(string) bool) bool {
	found := false
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if s, ok := c.Fun.(*ast.SelectorExpr); ok && isIdent(s.X, "ec") && marshal(s.Sel.Name) {
				found = true
			}
		}
		return !found
	})
	return found
}

// resolveFieldOfMember matches the exact body directFields rewrites and
// returns the member read and the marshaller called.
func resolveFieldOfMember(fd *ast.FuncDecl, marshal func(string) bool) (member, fn string, ok bool) {
	if len(fd.Body.List) != 1 {
		return "", "", false
	}
	ret, ok := fd.Body.List[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 1 {
		return "", "", false
	}
	call, ok := ret.Results[0].(*ast.CallExpr)
	if !ok || !isSel(call.Fun, "graphql", "ResolveField") || len(call.Args) != 9 {
		return "", "", false
	}
	a := call.Args
	if !isIdent(a[0], "ctx") || !isSel(a[1], "ec", "OperationContext") || !isIdent(a[2], "field") ||
		!isIdent(a[5], "nil") || !isIdent(a[7], "true") || !isIdent(a[8], "true") {
		return "", "", false
	}
	// The resolver: func(ctx context.Context) (any, error) { return obj.<member>, nil }
	res := onlyReturn(a[4])
	if len(res) != 2 || !isIdent(res[1], "nil") {
		return "", "", false
	}
	m, ok := res[0].(*ast.SelectorExpr)
	if !ok || !isIdent(m.X, "obj") {
		return "", "", false
	}
	// The marshaller: func(ctx, selections, v T) graphql.Marshaler { return ec.<fn>(ctx, selections, v) }
	res = onlyReturn(a[6])
	if len(res) != 1 {
		return "", "", false
	}
	mc, ok := res[0].(*ast.CallExpr)
	if !ok || len(mc.Args) != 3 || !isIdent(mc.Args[0], "ctx") || !isIdent(mc.Args[1], "selections") || !isIdent(mc.Args[2], "v") {
		return "", "", false
	}
	ms, ok := mc.Fun.(*ast.SelectorExpr)
	if !ok || !isIdent(ms.X, "ec") || !marshal(ms.Sel.Name) {
		return "", "", false
	}
	return m.Sel.Name, ms.Sel.Name, true
}

// onlyReturn returns the results of a function literal whose body is one
// return statement.
func onlyReturn(e ast.Expr) []ast.Expr {
	fl, ok := e.(*ast.FuncLit)
	if !ok || len(fl.Body.List) != 1 {
		return nil
	}
	r, ok := fl.Body.List[0].(*ast.ReturnStmt)
	if !ok {
		return nil
	}
	return r.Results
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isSel(e ast.Expr, x, name string) bool {
	s, ok := e.(*ast.SelectorExpr)
	return ok && isIdent(s.X, x) && s.Sel.Name == name
}

func sel(x, name string) *ast.SelectorExpr {
	return &ast.SelectorExpr{X: ast.NewIdent(x), Sel: ast.NewIdent(name)}
}

// addImport adds path to the file's import block, which gqlgen always
// writes (format.Source then sorts it).
func addImport(f *ast.File, path string) {
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
			spec := &ast.ImportSpec{Path: &ast.BasicLit{Kind: token.STRING, Value: strconv.Quote(path), ValuePos: gd.Specs[len(gd.Specs)-1].End()}}
			gd.Specs = append(gd.Specs, spec)
			f.Imports = append(f.Imports, spec)
			return
		}
	}
}

// missing lists the candidates not in rewritten.
func missing(candidates, rewritten []string) []string {
	var out []string
	for _, c := range candidates {
		if !slices.Contains(rewritten, c) {
			out = append(out, c)
		}
	}
	return out
}
