package limits

import (
	"context"
	"math"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plaza-gateway/plaza/graph"
	"github.com/plaza-gateway/plaza/graph/model"
)

// SetComplexity installs Plaza's cost model on c; fields not set here cost
// gqlgen's default, 1 plus their children. The model estimates how many
// objects an operation can return, since each one may cost a provider call:
//
//   - a connection costs 1 + first × (its selection), first defaulting to
//     DefaultFirst; pageInfo and totalCount are counted per item too, a
//     small overestimate that keeps the rule one multiplication;
//   - nodes(ids) costs 1 + len(ids) × (its selection);
//   - search costs FanOutCost + first × (its selection), home FanOutCost +
//     DefaultFirst × (its selection), for they call every provider of the
//     matching verticals.
//
// So `stores(first: 100) { edges { node { products(first: 100) {...} } } }`
// multiplies out, while the same query with defaults stays well in bounds.
func (g *Guard) SetComplexity(c *graph.ComplexityRoot) {
	page := func(first *int) int {
		if first == nil {
			return g.cfg.DefaultFirst
		}
		return max(*first, 1)
	}
	list := func(n, child int) int { return satAdd(1, satMul(n, child)) }

	c.Query.Nodes = func(child int, ids []string) int { return list(len(ids), child) }
	c.Query.Providers = func(child int, _ *model.Vertical, _ *string, first *int, _ *string) int {
		return list(page(first), child)
	}
	c.Query.Stores = func(child int, _ *string, first *int, _ *string) int { return list(page(first), child) }
	c.Query.Products = func(child int, _, _, _, _ *string, first *int, _ *string) int { return list(page(first), child) }
	c.Query.Doctors = func(child int, _, _ *string, first *int, _ *string) int { return list(page(first), child) }
	c.Query.Lawyers = func(child int, _, _ *string, first *int, _ *string) int { return list(page(first), child) }
	c.Query.GovServices = func(child int, _, _ *string, first *int, _ *string) int { return list(page(first), child) }
	c.Query.Search = func(child int, _ *string, _ *model.Vertical, _ *string, first *int, _ *string) int {
		return satAdd(g.cfg.FanOutCost, satMul(page(first), child))
	}
	c.Query.Home = func(child int, _ *string) int {
		return satAdd(g.cfg.FanOutCost, satMul(g.cfg.DefaultFirst, child))
	}

	c.Store.Products = func(child int, _ *string, first *int, _ *string) int { return list(page(first), child) }

	userList := func(child int, first *int, _ *string) int { return list(page(first), child) }
	c.User.Orders = userList
	c.User.Appointments = userList
	c.User.Consultations = userList
	c.User.LegalConsultations = userList
	c.User.Applications = userList
}

func satMul(a, b int) int {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt32/b {
		return math.MaxInt32
	}
	return a * b
}

// Complexity returns the gqlgen extension that rejects operations costing
// more than MaxComplexity (QUERY_TOO_COMPLEX, with the computed cost in the
// message). It runs after validation, once per request: the cost depends on
// the variables (`first: $n`).
func (g *Guard) Complexity() graphql.HandlerExtension {
	return &complexityLimit{max: g.cfg.MaxComplexity}
}

type complexityLimit struct {
	max int
	es  graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*complexityLimit)(nil)

func (*complexityLimit) ExtensionName() string { return "PlazaComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
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
