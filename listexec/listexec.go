// Package listexec runs the elements of a GraphQL list one after another
// while they only read memory, and concurrently as soon as one of them does
// I/O.
//
// gqlgen marshals every list element in its own goroutine
// (graphql.MarshalSliceConcurrently), so that loads from the elements'
// resolvers meet in one dataloader batch. Plaza's list resolvers prefetch
// the next level as one batch per provider before the elements run (see
// gateway.Loader.Prefetch), so most elements are answered from memory and
// the goroutines only cost: a goroutine, a stack grown by copying, more GC
// roots, per element. The profile of the list-of-50 query put that at about
// a fifth of the gateway's CPU.
//
// Each therefore runs elements in order on the caller's goroutine. The
// moment one of them is about to wait for I/O, it calls Miss (the gateway
// calls it through its I/O hook, gateway.WithIOHook, for every provider
// call and every load that no prefetch answered), and Miss starts every
// element not yet started, each in its own goroutine, before the caller
// waits: their loads join the waiting element's dataloader batch, as they
// would under gqlgen. A list that does no I/O runs without goroutines; a
// list that does costs no extra batch.
//
// The decision depends only on the operation and the data it meets, never
// on what ran before in the process: nothing is remembered between lists.
package listexec

import (
	"context"
	"sync"
)

// run is one list being executed in order; parent is the enclosing one, so
// that I/O in a nested list also releases the lists around it (their next
// elements' nested loads must meet in one batch too).
type run struct {
	parent *run
	ctx    context.Context // the elements' context, carrying this run
	fn     func(ctx context.Context, i int)
	n      int

	mu sync.Mutex
	// next is the first element not yet claimed, by the in-order loop (one
	// at a time) or by release (all the rest at once, leaving next == n).
	next int
	wg   sync.WaitGroup // the released elements
}

type runKey struct{}

// Miss records that the caller, running under ctx, is about to wait for
// I/O: every list run in order around it (the innermost first) starts its
// remaining elements concurrently, now, so that their I/O overlaps the
// caller's. It is cheap when ctx is not inside a list run in order.
func Miss(ctx context.Context) {
	r, _ := ctx.Value(runKey{}).(*run)
	for ; r != nil; r = r.parent {
		if !r.release() {
			return // released already, and whoever did released the enclosing runs
		}
	}
}

// release starts every element not yet claimed in its own goroutine and
// reports whether there were any. The claim and wg.Add happen under mu, so
// the in-order loop, which claims under mu too, cannot find the list
// exhausted and reach wg.Wait before the released elements are counted,
// whichever goroutine calls Miss and however late.
func (r *run) release() bool {
	r.mu.Lock()
	from := r.next
	r.next = r.n
	if from < r.n {
		r.wg.Add(r.n - from)
	}
	r.mu.Unlock()
	for i := from; i < r.n; i++ {
		go func() {
			defer r.wg.Done()
			r.fn(r.ctx, i)
		}()
	}
	return from < r.n
}

// claim returns the next element for the in-order loop, or false when every
// element is claimed (run or released).
func (r *run) claim() (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next >= r.n {
		return 0, false
	}
	r.next++
	return r.next - 1, true
}

// Each calls fn for i in [0, n), in order until one call reports I/O (see
// Miss) and concurrently from then on, and returns when all have returned.
// ctx passed to fn carries the run.
func Each(ctx context.Context, n int, fn func(ctx context.Context, i int)) {
	if n <= 1 {
		// Nothing to overlap.
		if n == 1 {
			fn(ctx, 0)
		}
		return
	}
	r := &run{fn: fn, n: n}
	r.parent, _ = ctx.Value(runKey{}).(*run)
	r.ctx = context.WithValue(ctx, runKey{}, r)
	for i, ok := r.claim(); ok; i, ok = r.claim() {
		fn(r.ctx, i)
	}
	r.wg.Wait()
}
