package resolvers

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph"
	"github.com/plaza-gateway/plaza/graph/model"
)

// The relation table is checked when the package initialises (a mismatch
// panics there); these tests show what each mismatch reports, and check
// what initialisation cannot: that every resolver field with I/O is a
// relation or says why not, and that each relation's loader loads the
// field's type. TestRelations in package api counts the calls.

func checkTable(rels ...relation) error {
	_, err := newRelationSet(graph.NewExecutableSchema(graph.Config{}).Schema(), reflect.TypeFor[graph.ResolverRoot](), rels...)
	return err
}

func TestRelationTableChecks(t *testing.T) {
	storeKey := func(p *model.Product) (gateway.Key, bool) { return gateway.Key{}, false }
	for _, tc := range []struct {
		name string
		rels []relation
		want string // "" for no error
	}{
		{"the package's table holds", relationTable, ""},
		{"a renamed field fails and says so",
			[]relation{link[*model.Product, connectors.Store, *model.Store]{name: "shop", key: storeKey, loader: gateway.Stores.Of, conv: toStore}},
			"relation Product.shop: the schema has no field Product.shop (renamed or removed?)"},
		{"a plain field, which no resolver answers, fails",
			[]relation{link[*model.Product, connectors.Store, *model.Store]{name: "name", key: storeKey, loader: gateway.Stores.Of, conv: toStore}},
			"relation Product.name: no field resolver answers Product.name"},
		{"a parent that is not the model the resolver takes fails",
			[]relation{link[*connectors.Product, connectors.Store, *model.Store]{name: "store",
				key: func(*connectors.Product) (gateway.Key, bool) { return gateway.Key{}, false }, loader: gateway.Stores.Of, conv: toStore}},
			"relation Product.store: the relation's parent is *connectors.Product, but the field resolver takes *model.Product"},
		{"a type the schema does not have fails",
			[]relation{link[*gateway.Hit, connectors.Store, *model.Store]{name: "store",
				key: func(*gateway.Hit) (gateway.Key, bool) { return gateway.Key{}, false }, loader: gateway.Stores.Of, conv: toStore}},
			"relation Hit.store: the schema has no object type Hit"},
		{"a conversion to another model than the resolver's fails",
			[]relation{link[*model.Product, connectors.Store, *model.Lawyer]{name: "store", key: storeKey, loader: gateway.Stores.Of,
				conv: func(string, connectors.Store) *model.Lawyer { return nil }}},
			"relation Product.store: the conversion returns *model.Lawyer, but the field resolver returns *model.Store"},
		{"a relation without conversion above further relations fails",
			[]relation{
				link[*model.OrderItem, connectors.Product, *model.Product]{name: "product", loader: gateway.Products.Of,
					key: func(*model.OrderItem) (gateway.Key, bool) { return gateway.Key{}, false }},
				link[*model.Product, connectors.Store, *model.Store]{name: "store", key: storeKey, loader: gateway.Stores.Of, conv: toStore},
			},
			"relation OrderItem.product: leads to Product, and Product.store is a relation below it"},
		{"a relation declared twice fails",
			[]relation{
				link[*model.Product, connectors.Store, *model.Store]{name: "store", key: storeKey, loader: gateway.Stores.Of, conv: toStore},
				link[*model.Product, connectors.Store, *model.Store]{name: "store", key: storeKey, loader: gateway.Stores.Of, conv: toStore},
			},
			"relation Product.store: declared twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkTable(tc.rels...)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// notRelations are the resolver fields of object types that are not
// relations, each with the reason; Query, Mutation and Subscription fields
// are entry points (the roots of a walk, or writes, or streams).
var notRelations = map[string]string{
	"provider":                     "from the request's registry snapshot: no provider call",
	"Provider.status":              "the gateway's view of the provider, in memory",
	"Store.products":               "one paged call per store; providers have no batch of pages to gather",
	"Office.slots":                 "filters the office's own slots, fetched with it",
	"User.orders":                  "a list of its own: the root of a walk",
	"User.appointments":            "a list of its own: the root of a walk",
	"User.consultations":           "a list of its own: the root of a walk",
	"User.legalConsultations":      "a list of its own: the root of a walk",
	"User.applications":            "a list of its own: the root of a walk",
	"User.settings":                "the user's settings, one read of the settings store",
	"User.name":                    "the user's profile, one read of the settings store",
	"User.addresses":               "the user's profile, one read of the settings store",
	"User.defaultCity":             "the user's profile, one read of the settings store",
	"Analytics":                    "reads of the analytics store, not of providers",
	"ViewerProvider":               "reads of merchant growth's store and ledger for the signed-in provider, not of providers",
	"RewardAccount.history":        "one read of the ledger for the signed-in provider",
	"Provider.lifecycle":           "the directory's snapshot, in memory: no provider call",
	"Provider.certifications":      "one read of the directory, for an operator or the owner viewing one provider",
	"Provider.history":             "one read of the directory, for an operator or the owner viewing one provider",
	"Provider.changes":             "one read of the directory, for an operator or the owner viewing one provider",
	"Store.openNow":                "the store's own opening hours at the gateway's clock: no provider call",
	"ServiceApplication.visitSlot": "a slot of the offices ServiceApplication.office loads (same loader, same key): the loader batches it, and the prefetch has it when office is selected too",
	"StatusUpdate.node":            "one object read afresh per update of one subscription: nothing to batch",
}

func TestEveryResolverFieldIsARelationOrSaysWhyNot(t *testing.T) {
	for tf := range relations.resolved {
		if tf.typ == "Query" || tf.typ == "Mutation" || tf.typ == "Subscription" {
			continue
		}
		_, isRel := relations.byField[tf]
		_, exempt := notRelations[tf.String()]
		_, exemptField := notRelations[tf.field]
		_, exemptType := notRelations[tf.typ]
		switch {
		case isRel && (exempt || exemptField || exemptType):
			t.Errorf("%s is a relation and also listed in notRelations", tf)
		case !isRel && !exempt && !exemptField && !exemptType:
			t.Errorf("%s is answered by a field resolver but is neither a relation (relations.go) nor listed in notRelations with the reason", tf)
		}
	}
}

func TestRelationLoadersLoadTheFieldsType(t *testing.T) {
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		t.Fatal(err)
	}
	l := gateway.New(reg).NewLoaders()
	for tf, rel := range relations.byField {
		ld, ok := rel.loaderOf(l).(interface{ Kind() gid.Kind })
		if !ok {
			t.Fatalf("%s: loader %T has no Kind", tf, rel.loaderOf(l))
		}
		if got, want := string(ld.Kind()), relations.targetOf(rel); got != want {
			t.Errorf("%s: the loader loads %s, the field is of type %s", tf, got, want)
		}
	}
}

// TestSatisfiesMatchTheExecutor checks that the walk collects each type's
// fields with the executor's own type conditions, so graphql.CollectFields
// caches one result per selection that both use.
func TestSatisfiesMatchTheExecutor(t *testing.T) {
	src, err := os.ReadFile("../graph/generated.go")
	if err != nil {
		t.Fatal(err)
	}
	matches := regexp.MustCompile(`var \w+Implementors = \[\]string\{(.*)\}`).FindAllSubmatch(src, -1)
	if len(matches) < 20 {
		t.Fatalf("found %d implementor lists in graph/generated.go; the pattern no longer matches gqlgen's output", len(matches))
	}
	for _, m := range matches {
		want := strings.Split(strings.ReplaceAll(string(m[1]), `"`, ""), ", ")
		if got := relations.satisfies[want[0]]; !slices.Equal(got, want) {
			t.Errorf("type conditions of %s: walk %v, executor %v", want[0], got, want)
		}
	}
}

func TestABadTablePanicsAtStartWithTheReason(t *testing.T) {
	defer func() {
		if msg := fmt.Sprint(recover()); !strings.Contains(msg, "relation Product.shop: the schema has no field Product.shop") {
			t.Fatalf("panic %q, want one naming the renamed field", msg)
		}
	}()
	mustRelations(link[*model.Product, connectors.Store, *model.Store]{name: "shop", loader: gateway.Stores.Of, conv: toStore,
		key: func(*model.Product) (gateway.Key, bool) { return gateway.Key{}, false }})
}
