package limits

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// DefaultInFlightPerCPU is the default of Config.MaxInFlight per CPU: a
// core is kept busy while providers take tens of milliseconds to answer
// (sixteen lists of 50 at once), and a burst of a thousand connections or of
// very large queries holds only that much execution memory at once, instead
// of GC work and tail latency for everyone.
const DefaultInFlightPerCPU = 32

// complexityStat is the operation's computed complexity in its Stats, set
// by the complexity check for admission.
const complexityStat = "PlazaComplexity"

// Cost is the complexity the complexity check measured for op (0 before
// it ran), e.g. to cap a batch's total.
func Cost(op *graphql.OperationContext) int {
	cost, _ := op.Stats.GetExtension(complexityStat).(int)
	return cost
}

// Admit waits for room for the operation to execute: 1 + complexity /
// InFlightUnit units of MaxInFlight, so a list of 1,000 holds the room of
// twenty small queries, in arrival order. An operation that cannot start
// before its request's deadline (or whose client goes away) gets
// OVERLOADED, which the transport answers 503 with Retry-After. The
// returned func gives the room back.
func (g *Guard) Admit(ctx context.Context, op *graphql.OperationContext) (release func(), err *gqlerror.Error) {
	if g.inFlight == nil {
		return func() {}, nil
	}
	units := int64(1)
	if cost, ok := op.Stats.GetExtension(complexityStat).(int); ok && cost > 0 {
		units += int64(cost / g.cfg.InFlightUnit)
	}
	units = min(units, int64(g.cfg.MaxInFlight))
	if !g.inFlight.TryAcquire(units) && g.inFlight.Acquire(ctx, units) != nil {
		return nil, overloaded()
	}
	// Room may come as the deadline passes, or after the client has gone
	// (Acquire can succeed with ctx done): the operation cannot run then.
	// gqlgen's executor answers an ended context with no response at all,
	// which the transport would have to write.
	if ctx.Err() != nil {
		g.inFlight.Release(units)
		return nil, overloaded()
	}
	return func() { g.inFlight.Release(units) }, nil
}

func overloaded() *gqlerror.Error {
	e := errorf(CodeOverloaded, "the gateway is at capacity and the request could not start in time; retry shortly")
	e.Extensions["retryable"] = true
	return e
}
