package gateway

import "context"

// IOHook is called, with the caller's context, right before work running
// under that context waits for I/O: every connector call, and every Load
// that no Prefetch answered. The GraphQL layer plugs its list execution in
// here (resolvers.WithLoaders installs listexec.Miss), so that a list
// running its elements in order starts the others the moment one waits, and
// their calls overlap. The gateway needs to know nothing about how the
// caller schedules its work.
type IOHook func(ctx context.Context)

type ioHookKey struct{}

// WithIOHook returns ctx in which hook is told of every wait for I/O (see
// IOHook). Without one, waiting needs no announcement.
func WithIOHook(ctx context.Context, hook IOHook) context.Context {
	return context.WithValue(ctx, ioHookKey{}, hook)
}

// willWait calls the context's I/O hook, if any.
func willWait(ctx context.Context) {
	if h, ok := ctx.Value(ioHookKey{}).(IOHook); ok && h != nil {
		h(ctx)
	}
}
