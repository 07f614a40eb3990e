package api

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/limits"
)

// fanOuts are the fields that call every provider of one or more verticals.
var fanOuts = map[limits.Field]bool{{Type: "Query", Name: "search"}: true, {Type: "Query", Name: "home"}: true}

// costs builds the complexity model from the schema and the declared kinds:
//
//   - a field returning a connection with a `first` argument is a page;
//   - a field with an `ids` list argument returns one object per ID;
//   - search and home fan out to every provider (fanOuts);
//   - a field returning an object of a declared kind costs the kind's
//     weight (gateway/kinds.go) plus its selection.
//
// Every other field costs 1 plus its selection.
func costs(schema *ast.Schema, guard *limits.Guard, kinds []gateway.KindInfo) limits.Costs {
	weights := make(map[string]int, len(kinds))
	for _, k := range kinds {
		weights[string(k.Kind)] = k.Weight
	}
	out := limits.Costs{}
	for _, t := range schema.Types {
		if t.Kind != ast.Object || strings.HasPrefix(t.Name, "__") {
			continue
		}
		for _, f := range t.Fields {
			field, returns := limits.Field{Type: t.Name, Name: f.Name}, f.Type.Name()
			switch {
			case fanOuts[field]:
				out[field] = guard.FanOut()
			case f.Arguments.ForName("first") != nil && strings.HasSuffix(returns, "Connection"):
				out[field] = guard.Page()
			case f.Arguments.ForName("ids") != nil && f.Type.Elem != nil:
				out[field] = limits.Each("ids")
			default:
				if w, ok := weights[returns]; ok {
					out[field] = limits.Weight(w)
				}
			}
		}
	}
	return out
}
