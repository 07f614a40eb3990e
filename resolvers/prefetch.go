package resolvers

// One prefetch mechanism for every level the resolvers prefetch.
//
// A field that loads another object by key through a request loader (an
// order's store, an item's product, a doctor's slots) is a *relation*, and
// every relation is one entry of the table in relations.go. When a resolver
// that sees a whole level at once has its result — a root list (stores,
// search, me.orders…), nodes(ids:), node(id:) as the operation's one root
// field, the home page — it calls prefetch with that result. prefetch walks
// the result along the operation's own selection set, exactly as the
// executor is about to: through the models' plain fields (edges, node,
// items, sections…), grouping the objects it meets by type and collecting
// each type's fields with the same fragments and type conditions the
// executor applies (graphql.CollectFields, whose per-operation cache the
// executor then hits). Wherever the selection names a relation, the keys of
// every object at that level are gathered, and each loader fetches its keys
// as one batch (gateway.Loader.Prefetch: one call per provider). Levels
// below a relation are walked on the fetched objects in the next round.
// Relations whose targets select no further relation are fetched together
// in the last round, so a loader reached at several depths (an order's
// store, its products' stores) costs one call per provider, not one per
// depth. The per-object field resolvers then find everything in the
// loaders' memory, whatever the executor's timing, and the elements of a
// list run in order without goroutines (package listexec).
//
// A field below a list (Store.products of each store) does not walk: it
// sees one parent, so a prefetch there would cost a call per parent; its
// level is left to the dataloader, which gathers the elements' loads into
// one batch window.
//
// Nothing addresses a field by a path of strings. The table is checked at
// package initialisation against the generated executable schema and the
// generated resolver interfaces (checkRelations): a relation whose field was
// renamed or removed, is no longer answered by a field resolver, takes
// another parent model or converts to another model than its resolver
// returns, panics with a message that says which and why. TestRelations
// counts the provider calls of every relation, per level.

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph"
)

// relation is one table entry, type-erased so that one table holds
// relations of every model; link is its only implementation.
type relation interface {
	// parent is the model type the field belongs to (*model.Product).
	parent() reflect.Type
	field() string
	// child is the model type the conversion returns; nil without one
	// (the walk stops at the relation's targets).
	child() reflect.Type
	// loaderOf returns the loader the relation fetches through: relations
	// sharing a loader are fetched as one batch.
	loaderOf(*gateway.Loaders) any
	// keys appends the keys of parents (values of parent()) to into.
	keys(parents []reflect.Value, into []gateway.Key) []gateway.Key
	// fetch prefetches keys and returns what was fetched, for children.
	fetch(ctx context.Context, l *gateway.Loaders, keys []gateway.Key) any
	// children converts the fetched objects of parents, each once, and
	// hands each parent its object when the relation says how (set) and
	// the loader l holds it fresh.
	children(l *gateway.Loaders, fetched any, parents []reflect.Value) []reflect.Value
	// sets reports whether children hands the parents their objects: such
	// a relation is converted after its fetch even when nothing below it is
	// walked, so that its resolver returns what the prefetch converted.
	sets() bool
}

// link is a relation from model P: the field loads values V through the
// loader, by key of P, and conv (optional) turns a value into the model C
// its field resolver returns, so the walk can go on below it. set
// (optional, with conv) hands that model to the parent, so the field
// resolver returns it rather than loading and converting the value again
// per parent. A value the loader served stale is not handed over: its
// resolver loads it and reports the field's path as stale.
type link[P, V, C any] struct {
	name   string
	key    func(P) (gateway.Key, bool)
	loader func(*gateway.Loaders) *gateway.Loader[V]
	conv   func(provider string, v V) C
	set    func(P, C)
}

func (k link[P, V, C]) parent() reflect.Type { return reflect.TypeFor[P]() }
func (k link[P, V, C]) field() string        { return k.name }

func (k link[P, V, C]) child() reflect.Type {
	if k.conv == nil {
		return nil
	}
	return reflect.TypeFor[C]()
}

func (k link[P, V, C]) loaderOf(l *gateway.Loaders) any { return k.loader(l) }

func (k link[P, V, C]) keys(parents []reflect.Value, into []gateway.Key) []gateway.Key {
	for _, v := range parents {
		if key, ok := k.key(v.Interface().(P)); ok {
			into = append(into, key)
		}
	}
	return into
}

func (k link[P, V, C]) fetch(ctx context.Context, l *gateway.Loaders, keys []gateway.Key) any {
	return k.loader(l).Prefetch(ctx, keys)
}

func (k link[P, V, C]) sets() bool { return k.conv != nil && k.set != nil }

func (k link[P, V, C]) children(l *gateway.Loaders, fetched any, parents []reflect.Value) []reflect.Value {
	got, _ := fetched.(map[gateway.Key]V)
	if k.conv == nil || len(got) == 0 {
		return nil
	}
	ld := k.loader(l)
	out := make([]reflect.Value, 0, len(got))
	models := make(map[gateway.Key]C, len(got))
	for _, pv := range parents {
		parent := pv.Interface().(P)
		key, ok := k.key(parent)
		if !ok {
			continue
		}
		m, done := models[key]
		if !done {
			v, found := got[key]
			if !found {
				continue // failed: its resolver reports the error
			}
			m = k.conv(key.Provider, v)
			models[key] = m
			out = append(out, reflect.ValueOf(m))
		}
		if k.set != nil && !ld.Stale(key) {
			k.set(parent, m)
		}
	}
	return out
}

// prefetch walks v, the result of the current field, along the field's
// selection set and prefetches every relation it selects, level by level
// (see the comment at the top of this file).
func prefetch[T any](ctx context.Context, r *Resolver, v T) T {
	fc := graphql.GetFieldContext(ctx)
	op := graphql.GetOperationContext(ctx)
	if fc == nil || op == nil || fc.Field.Field == nil {
		return v
	}
	w := walk{op: op, rels: relations}
	w.expand([]reflect.Value{reflect.ValueOf(v)}, fc.Field.Selections)
	if len(w.next) == 0 && len(w.last) == 0 {
		return v // nothing selected below: no loaders needed
	}
	l := r.loaders(ctx)
	for len(w.next) > 0 {
		round := w.next
		w.next = nil
		w.fetch(ctx, l, round, true)
	}
	w.fetch(ctx, l, w.last, false)
	return v
}

// prefetchIDs is the root level of node(id:) and nodes(ids:): the objects
// the IDs name, one batch per kind and provider, the kinds in parallel.
// Undecodable IDs (errs[i] set, from gid.Decode) and kinds without a loader
// are left to node, which reports them.
func (r *Resolver) prefetchIDs(ctx context.Context, ids []gid.ID, errs []error) {
	byKind := map[gid.Kind][]gateway.Key{}
	for i, g := range ids {
		if errs[i] == nil {
			byKind[g.Kind] = append(byKind[g.Kind], gateway.KeyOf(g))
		}
	}
	r.loaders(ctx).PrefetchByKind(ctx, byKind)
}

// pending is one relation selected at one level: its parents there, and
// the selection below it.
type pending struct {
	rel     relation
	parents []reflect.Value
	sel     ast.SelectionSet
	keys    []gateway.Key
}

// walk is one prefetch: the relations still to fetch whose targets are
// walked further (next), and those fetched in the last round (last).
type walk struct {
	op   *graphql.OperationContext
	rels *relationSet
	next []pending
	last []pending
}

// expand walks vals (models, slices of them, interfaces holding them) along
// sel and queues the relations it selects.
func (w *walk) expand(vals []reflect.Value, sel ast.SelectionSet) {
	if len(sel) == 0 {
		return
	}
	var gs typeGroups
	for _, v := range vals {
		gs.add(v, len(vals))
	}
	w.expandGroups(gs, sel)
}

func (w *walk) expandGroups(gs typeGroups, sel ast.SelectionSet) {
	for _, g := range gs {
		t := w.rels.typeOf(g.typ)
		for _, f := range graphql.CollectFields(w.op, sel, t.satisfies) {
			if rel, ok := t.rels[f.Name]; ok {
				p := pending{rel: rel, parents: g.vals, sel: f.Selections}
				if rel.child() != nil && w.rels.reaches(w.op, rel, f.Selections) {
					w.next = append(w.next, p)
				} else {
					w.last = append(w.last, p)
				}
				continue
			}
			i, ok := t.fields[f.Name]
			if !ok || len(f.Selections) == 0 {
				continue
			}
			var kids typeGroups
			for _, v := range g.vals {
				kids.add(v.Elem().Field(i), len(g.vals))
			}
			w.expandGroups(kids, f.Selections)
		}
	}
}

// fetch fetches a round: the keys of the relations that share a loader as
// one batch, the loaders in parallel; then, when deeper, walks the fetched
// objects along each relation's own selection.
func (w *walk) fetch(ctx context.Context, l *gateway.Loaders, round []pending, deeper bool) {
	type batch struct {
		loader  any
		members []int // indexes into round
		keys    []gateway.Key
		fetched any
	}
	var batches []*batch
	for i := range round {
		p := &round[i]
		p.keys = p.rel.keys(p.parents, make([]gateway.Key, 0, len(p.parents)))
		if len(p.keys) == 0 {
			continue
		}
		ld := p.rel.loaderOf(l)
		var b *batch
		for _, x := range batches {
			if x.loader == ld {
				b = x
			}
		}
		if b == nil {
			b = &batch{loader: ld}
			batches = append(batches, b)
		}
		b.members = append(b.members, i)
		if b.keys == nil {
			b.keys = p.keys // the batch's own until a second member copies it
		} else {
			b.keys = append(b.keys[:len(b.keys):len(b.keys)], p.keys...)
		}
	}
	run := func(b *batch) { b.fetched = round[b.members[0]].rel.fetch(ctx, l, b.keys) }
	if len(batches) == 1 {
		run(batches[0])
	} else {
		var wg sync.WaitGroup
		for _, b := range batches {
			wg.Go(func() { run(b) })
		}
		wg.Wait()
	}
	for _, b := range batches {
		for _, i := range b.members {
			p := round[i]
			switch {
			case deeper:
				w.expand(p.rel.children(l, b.fetched, p.parents), p.sel)
			case p.rel.sets():
				p.rel.children(l, b.fetched, p.parents)
			}
		}
	}
}

// typeGroup is the values of one model type met at one level.
type typeGroup struct {
	typ  reflect.Type
	vals []reflect.Value
}

// typeGroups groups the models met at one level by type, in order of first
// appearance.
type typeGroups []typeGroup

// add adds v, flattening slices and interfaces and dropping nils; hint is
// how many values the level is likely to hold.
func (gs *typeGroups) add(v reflect.Value, hint int) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			gs.add(v.Elem(), hint)
		}
	case reflect.Slice, reflect.Array:
		n := v.Len()
		for i := range n {
			gs.add(v.Index(i), max(hint, n))
		}
	case reflect.Pointer:
		if v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return
		}
		i := 0
		for i < len(*gs) && (*gs)[i].typ != v.Type() {
			i++
		}
		if i == len(*gs) {
			*gs = append(*gs, typeGroup{typ: v.Type(), vals: make([]reflect.Value, 0, hint)})
		}
		(*gs)[i].vals = append((*gs)[i].vals, v)
	}
}

// relationSet is the checked relation table, indexed for the walk.
type relationSet struct {
	schema *ast.Schema
	// byField holds the relations by GraphQL type and field.
	byField map[typeField]relation
	// resolved holds the fields answered by a field resolver.
	resolved map[typeField]reflect.Type
	// satisfies is, per object type, the type conditions it meets: its
	// name, its interfaces and unions, in the order the executor lists
	// them (so CollectFields' cache is shared with the executor).
	satisfies map[string][]string
	types     sync.Map // reflect.Type -> *walkType
}

type typeField struct{ typ, field string }

func (tf typeField) String() string { return tf.typ + "." + tf.field }

// walkType is what the walk needs of one model type.
type walkType struct {
	satisfies []string
	rels      map[string]relation
	// fields are the plain (not resolver) fields that can hold objects, by
	// GraphQL name: the walk's way down without I/O.
	fields map[string]int
}

// typeOf describes model type t (a pointer to a struct), once.
func (s *relationSet) typeOf(t reflect.Type) *walkType {
	if wt, ok := s.types.Load(t); ok {
		return wt.(*walkType)
	}
	name := t.Elem().Name()
	wt := &walkType{satisfies: s.satisfies[name], rels: map[string]relation{}, fields: map[string]int{}}
	if wt.satisfies == nil {
		wt.satisfies = []string{name}
	}
	for tf, rel := range s.byField {
		if tf.typ == name && rel.parent() == t {
			wt.rels[tf.field] = rel
		}
	}
	for i := range t.Elem().NumField() {
		sf := t.Elem().Field(i)
		json, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if json == "" || json == "-" || !sf.IsExported() {
			continue
		}
		if _, resolved := s.resolved[typeField{name, json}]; resolved {
			continue
		}
		switch sf.Type.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Interface:
			wt.fields[json] = i
		}
	}
	actual, _ := s.types.LoadOrStore(t, wt)
	return actual.(*walkType)
}

// reaches reports whether sel, below rel, selects another relation, so the
// walk must go on below rel's targets (otherwise they are fetched in the
// last round).
func (s *relationSet) reaches(op *graphql.OperationContext, rel relation, sel ast.SelectionSet) bool {
	return s.selectsRelation(op, s.targetOf(rel), sel)
}

func (s *relationSet) targetOf(rel relation) string {
	def := s.schema.Types[rel.parent().Elem().Name()]
	return def.Fields.ForName(rel.field()).Type.Name()
}

func (s *relationSet) selectsRelation(op *graphql.OperationContext, typ string, sel ast.SelectionSet) bool {
	if len(sel) == 0 {
		return false
	}
	def := s.schema.Types[typ]
	if def == nil {
		return false
	}
	for _, d := range s.schema.GetPossibleTypes(def) {
		for _, f := range graphql.CollectFields(op, sel, s.satisfies[d.Name]) {
			tf := typeField{d.Name, f.Name}
			if _, ok := s.byField[tf]; ok {
				return true
			}
			fd := d.Fields.ForName(f.Name)
			if _, resolved := s.resolved[tf]; resolved || fd == nil {
				continue // a resolver's own result: the walk does not go there
			}
			if s.selectsRelation(op, fd.Type.Name(), f.Selections) {
				return true
			}
		}
	}
	return false
}

// newRelationSet checks rels against the schema and the generated resolver
// interfaces (root is graph.ResolverRoot) and indexes them. The error names
// every entry that does not hold and why.
func newRelationSet(schema *ast.Schema, root reflect.Type, rels ...relation) (*relationSet, error) {
	s := &relationSet{
		schema: schema, byField: map[typeField]relation{}, resolved: resolverFields(schema, root),
		satisfies: map[string][]string{},
	}
	for name, def := range schema.Types {
		if def.Kind == ast.Object {
			sat := []string{name}
			for _, i := range schema.GetImplements(def) {
				sat = append(sat, i.Name)
			}
			s.satisfies[name] = sat
		}
	}
	var problems []string
	for _, rel := range rels {
		if err := s.check(rel); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		tf := typeField{rel.parent().Elem().Name(), rel.field()}
		if _, dup := s.byField[tf]; dup {
			problems = append(problems, fmt.Sprintf("relation %s: declared twice", tf))
			continue
		}
		s.byField[tf] = rel
	}
	// Only now that every relation is known: a relation without a
	// conversion must lead to a type below which no relation is reachable.
	for tf, rel := range s.byField {
		if rel.child() == nil {
			if below := s.relationBelow(s.targetOf(rel), map[string]bool{}); below != "" {
				problems = append(problems, fmt.Sprintf("relation %s: leads to %s, and %s is a relation below it; give %s a conversion to the model its resolver returns so the walk can go on",
					tf, s.targetOf(rel), below, tf))
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("resolvers: the prefetch relation table does not match the schema:\n  %s", strings.Join(problems, "\n  "))
	}
	return s, nil
}

// check verifies one relation: its parent is an object type of the schema,
// its field exists there, a field resolver answers it (else the loaders are
// not what answers it), that resolver takes the relation's parent model,
// and returns the conversion's model when there is one.
func (s *relationSet) check(rel relation) error {
	pt := rel.parent()
	if pt.Kind() != reflect.Pointer || pt.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("relation %v.%s: the parent must be a pointer to a model", pt, rel.field())
	}
	tf := typeField{pt.Elem().Name(), rel.field()}
	def := s.schema.Types[tf.typ]
	if def == nil || def.Kind != ast.Object {
		return fmt.Errorf("relation %s: the schema has no object type %s (renamed?)", tf, tf.typ)
	}
	if def.Fields.ForName(tf.field) == nil {
		return fmt.Errorf("relation %s: the schema has no field %s (renamed or removed?)", tf, tf)
	}
	m, ok := s.resolved[tf]
	if !ok {
		return fmt.Errorf("relation %s: no field resolver answers %s (gqlgen.yml `resolver: true`), so its loader would never be read", tf, tf)
	}
	if m.NumIn() < 2 || m.In(1) != pt {
		return fmt.Errorf("relation %s: the relation's parent is %v, but the field resolver takes %v", tf, pt, argType(m, 1))
	}
	if c := rel.child(); c != nil && (m.NumOut() == 0 || m.Out(0) != c) {
		return fmt.Errorf("relation %s: the conversion returns %v, but the field resolver returns %v", tf, c, m.Out(0))
	}
	return nil
}

func argType(m reflect.Type, i int) any {
	if m.NumIn() <= i {
		return "no parent"
	}
	return m.In(i)
}

// relationBelow returns a relation reachable from typ through plain fields
// (depth first, each type once), or "".
func (s *relationSet) relationBelow(typ string, seen map[string]bool) string {
	def := s.schema.Types[typ]
	if def == nil || seen[typ] {
		return ""
	}
	seen[typ] = true
	for _, d := range s.schema.GetPossibleTypes(def) {
		for _, f := range d.Fields {
			tf := typeField{d.Name, f.Name}
			if _, ok := s.byField[tf]; ok {
				return tf.String()
			}
			if _, resolved := s.resolved[tf]; resolved {
				continue
			}
			if r := s.relationBelow(f.Type.Name(), seen); r != "" {
				return r
			}
		}
	}
	return ""
}

// resolverFields returns the fields of object types that a generated
// resolver interface answers, with the method's type (ctx, parent, args…).
// root is graph.ResolverRoot: one method per object type returning its
// resolver interface, one method per resolved field (gqlgen names them in
// Go case: deliverySlots -> DeliverySlots, id -> ID).
func resolverFields(schema *ast.Schema, root reflect.Type) map[typeField]reflect.Type {
	out := map[typeField]reflect.Type{}
	for i := range root.NumMethod() {
		m := root.Method(i)
		def := schema.Types[m.Name]
		if def == nil || m.Type.NumOut() != 1 || m.Type.Out(0).Kind() != reflect.Interface {
			continue
		}
		iface := m.Type.Out(0)
		for j := range iface.NumMethod() {
			rm := iface.Method(j)
			for _, f := range def.Fields {
				if strings.EqualFold(f.Name, rm.Name) {
					out[typeField{def.Name, f.Name}] = rm.Type
				}
			}
		}
	}
	return out
}

// mustRelations is newRelationSet over the generated schema and resolver
// interfaces, for the package's table: a mismatch is a programming error
// that must not reach production, so it panics at initialisation (every
// test binary and every start fails, naming the relation).
func mustRelations(rels ...relation) *relationSet {
	s, err := newRelationSet(graph.NewExecutableSchema(graph.Config{}).Schema(), reflect.TypeFor[graph.ResolverRoot](), rels...)
	if err != nil {
		panic(err)
	}
	return s
}
