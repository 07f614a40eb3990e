package resolvers

import (
	"reflect"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph"
)

// routedByNode are the Node types node() answers itself, not through a
// declared kind: providers come from the registry, users from the identity.
var routedByNode = map[gid.Kind]bool{gid.Provider: true, gid.User: true}

// idOnly are kinds with global IDs but nothing to load by them: an office
// slot is addressed through its office (applyForGovService).
var idOnly = map[gid.Kind]bool{gid.OfficeSlot: true}

// TestKindsMatchSchema keeps the kinds declared in gateway/kinds.go, the
// schema's Node types (and their gqlgen.yml mapping), the gid kinds
// (generated from the declarations) and the model conversions in step:
// adding a kind to one and not the others fails here, naming what is missing
// and where it goes.
func TestKindsMatchSchema(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema() // what serve runs, generated from schema.graphqls
	implementsNode := map[string]bool{}
	for _, d := range schema.GetPossibleTypes(schema.Types["Node"]) {
		implementsNode[d.Name] = true
	}
	declared := map[gid.Kind]gateway.KindInfo{}
	for _, k := range gateway.Kinds() {
		if _, dup := declared[k.Kind]; dup {
			t.Errorf("%s is declared twice in gateway/kinds.go", k.Kind)
		}
		declared[k.Kind] = k
	}

	t.Run("every type implementing Node is a declared kind or routed by node itself", func(t *testing.T) {
		for name := range implementsNode {
			k, ok := declared[gid.Kind(name)]
			switch {
			case routedByNode[gid.Kind(name)]:
			case !ok:
				t.Errorf("schema type %s implements Node but has no declaration: add `<Handle> = declare(Entity[<vertical>, <connectors type>]{Kind: gid.%s, Op: ..., Get: ...})` to gateway/kinds.go and run `go generate ./...`", name, name)
			case k.Parent != "":
				t.Errorf("%s implements Node but is declared as loaded under its parent %s", name, k.Parent)
			}
		}
	})
	t.Run("every declared kind is a schema type: a Node, or a list under a Node parent", func(t *testing.T) {
		for kind, k := range declared {
			def := schema.Types[string(kind)]
			switch {
			case def == nil || def.Kind != ast.Object:
				t.Errorf("%s is declared in gateway/kinds.go but schema.graphqls has no such type: add `type %s implements Node` (or remove the declaration)", kind, kind)
			case k.Parent == "" && !implementsNode[string(kind)]:
				t.Errorf("%s is declared with IDs of its own but does not implement Node", kind)
			case k.Parent != "" && !implementsNode[string(k.Parent)]:
				t.Errorf("%s is loaded under %s, which does not implement Node", kind, k.Parent)
			}
		}
	})
	t.Run("gid knows exactly the declared kinds and the ones node routes itself", func(t *testing.T) {
		known := map[gid.Kind]bool{}
		for _, kind := range gid.Kinds() {
			known[kind] = true
			if _, ok := declared[kind]; !ok && !routedByNode[kind] && !idOnly[kind] {
				t.Errorf("gid kind %s has no declaration in gateway/kinds.go", kind)
			}
		}
		for kind := range declared {
			if !known[kind] {
				t.Errorf("%s is declared but gid does not know it, so its IDs would not decode: run `go generate ./...` (gid/kinds_gen.go)", kind)
			}
		}
	})
	t.Run("every declared Node kind converts to its model, with an ID naming it", func(t *testing.T) {
		for kind, k := range declared {
			if k.Parent != "" {
				continue
			}
			v := reflect.New(k.Value).Elem()
			if id := v.FieldByName("ID"); id.IsValid() && id.Kind() == reflect.String {
				id.SetString("x-1")
			}
			m := toModel("freshmart", v.Interface())
			if m == nil {
				t.Errorf("%s has no model conversion: define it in resolvers/convert.go as var toX = convert(gateway.<handle>, func(provider string, v %s) *model.%s {...})", kind, k.Value, kind)
				continue
			}
			if got := reflect.TypeOf(m).Elem().Name(); got != string(kind) {
				t.Errorf("%s converts to model.%s", kind, got)
			}
			// nodes(ids:) converts the value behind a pointer (Loaders.NodeRef).
			if byRef := toModel("freshmart", v.Addr().Interface()); !reflect.DeepEqual(byRef, m) {
				t.Errorf("%s: converted from a pointer %+v, from the value %+v", kind, byRef, m)
			}
			// gqlgen.yml's extraFields give each Node model the provider
			// its field resolvers load related objects from.
			if p := reflect.ValueOf(m).Elem().FieldByName("ProviderID"); !p.IsValid() || p.String() != "freshmart" {
				t.Errorf("%s: model.%s carries no ProviderID set by its conversion: add `%s: {extraFields: {ProviderID: {type: string}}}` to gqlgen.yml's models and set it in resolvers/convert.go", kind, kind, kind)
			}
			id, err := gid.Decode(reflect.ValueOf(m).Elem().FieldByName("ID").String())
			if err != nil || id.Kind != kind || id.Provider != "freshmart" || id.Local != "x-1" {
				t.Errorf("%s: the model's ID decodes to %+v (%v), want kind %s at freshmart, x-1", kind, id, err, kind)
			}
		}
	})
	t.Run("each kind loads a connectors type of its own: conversions are found by it", func(t *testing.T) {
		byType := map[reflect.Type]gid.Kind{}
		for kind, k := range declared {
			if other, dup := byType[k.Value]; dup {
				t.Errorf("%s and %s both load %s: `node` and search could not tell which model to convert to", kind, other, k.Value)
			}
			byType[k.Value] = kind
		}
	})
	t.Run("personal kinds are never cached", func(t *testing.T) {
		for kind, k := range declared {
			if k.Personal && k.TTL > 0 {
				t.Errorf("%s is personal but declares a cache TTL of %s", kind, k.TTL)
			}
			if k.Weight < 1 {
				t.Errorf("%s declares complexity weight %d, want at least 1", kind, k.Weight)
			}
		}
	})
}
