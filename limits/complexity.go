package limits

import (
	"context"
	"math"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// A FieldCost prices one field from the cost of its selection (child) and
// its arguments, variables substituted.
type FieldCost func(child int, args map[string]any) int

// Field names a field of a GraphQL type.
type Field struct{ Type, Name string }

// Costs is a cost model: the price of each listed field. Every other field
// costs gqlgen's default, 1 plus its selection. The model estimates how many
// objects an operation can return, since each one may cost a provider call;
// the GraphQL layer builds it from its schema with the rules below (limits
// knows no schema), so
// `stores(first: 100) { edges { node { products(first: 100) {...} } } }`
// multiplies out, while the same query with defaults stays well in bounds.
type Costs map[Field]FieldCost

// Page prices a connection: 1 + first × (its selection), first defaulting
// to DefaultFirst. pageInfo and totalCount are counted per item too, a
// small overestimate that keeps the rule one multiplication.
func (g *Guard) Page() FieldCost {
	return func(child int, args map[string]any) int { return list(g.first(args), child) }
}

// Each prices a field returning one object per element of its list
// argument arg (nodes(ids)): 1 + len(arg) × (its selection).
func Each(arg string) FieldCost {
	return func(child int, args map[string]any) int {
		ids, _ := args[arg].([]any)
		return list(len(ids), child)
	}
}

// FanOut prices a field that calls every provider of one or more verticals
// (search, home): FanOutCost + first × (its selection), first defaulting
// to DefaultFirst.
func (g *Guard) FanOut() FieldCost {
	return func(child int, args map[string]any) int {
		return satAdd(g.cfg.FanOutCost, satMul(g.first(args), child))
	}
}

// Weight prices a field returning one object that costs w: w + (its
// selection).
func Weight(w int) FieldCost {
	return func(child int, _ map[string]any) int { return satAdd(w, child) }
}

// first is a page's size: the `first` argument, at least 1, or DefaultFirst
// when absent (or not an integer, which validation has refused already).
func (g *Guard) first(args map[string]any) int {
	v, ok := args["first"]
	if !ok || v == nil {
		return g.cfg.DefaultFirst
	}
	n, err := graphql.UnmarshalInt(v)
	if err != nil {
		return g.cfg.DefaultFirst
	}
	return max(n, 1)
}

func list(n, child int) int { return satAdd(1, satMul(n, child)) }

func satMul(a, b int) int {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt32/b {
		return math.MaxInt32
	}
	return a * b
}

// Complexity returns the gqlgen extension that prices operations with
// costs and rejects those costing more than MaxComplexity
// (QUERY_TOO_COMPLEX, with the computed cost in the message). It runs after
// validation, once per request: the cost depends on the variables
// (`first: $n`).
func (g *Guard) Complexity(costs Costs) graphql.HandlerExtension {
	return &complexityLimit{max: g.cfg.MaxComplexity, costs: costs}
}

type complexityLimit struct {
	max   int
	costs Costs
	es    graphql.ExecutableSchema
}

// priced is an executable schema whose field costs come from costs first.
type priced struct {
	graphql.ExecutableSchema
	costs Costs
}

func (p priced) Complexity(ctx context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	if cost, ok := p.costs[Field{typeName, field}]; ok {
		return cost(child, args), true
	}
	return p.ExecutableSchema.Complexity(ctx, typeName, field, child, args)
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*complexityLimit)(nil)

func (*complexityLimit) ExtensionName() string { return "PlazaComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = priced{es, c.costs}
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	cost := complexity.Calculate(ctx, c.es, op.Operation, op.Variables)
	op.Stats.SetExtension(complexityStat, cost) // for admission
	if c.max >= 0 && cost > c.max {             // negative: no limit, the cost is still measured
		return errorf(CodeQueryTooComplex, "operation has complexity %d, which exceeds the limit of %d; ask for smaller pages (first) or fewer nested lists", cost, c.max)
	}
	return nil
}
