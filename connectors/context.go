package connectors

import "context"

type userKey struct{}

// WithUser returns a context that carries the signed-in user's ID to every
// connector call (the HTTP connector forwards it as a header).
func WithUser(ctx context.Context, userID string) context.Context {
	return context.WithValue(ctx, userKey{}, userID)
}

// UserFrom returns the user carried by ctx, if any.
func UserFrom(ctx context.Context) (string, bool) {
	u, ok := ctx.Value(userKey{}).(string)
	return u, ok && u != ""
}
