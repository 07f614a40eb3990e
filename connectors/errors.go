package connectors

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies an error for the client. Kinds double as the GraphQL
// `extensions.code` values and as the `code` field of the HTTP contract's
// error model, so one list serves both edges.
type Kind string

const (
	KindInvalid         Kind = "BAD_USER_INPUT"
	KindNotFound        Kind = "NOT_FOUND"
	KindConflict        Kind = "CONFLICT"
	KindUnauthenticated Kind = "UNAUTHENTICATED"
	KindForbidden       Kind = "FORBIDDEN"
	// KindProvider: the provider answered, but not usefully (5xx, garbage).
	KindProvider Kind = "PROVIDER_ERROR"
	// KindTimeout: the provider did not answer within its deadline.
	KindTimeout Kind = "PROVIDER_TIMEOUT"
	// KindUnavailable: the provider is down or its circuit breaker is open.
	KindUnavailable Kind = "PROVIDER_UNAVAILABLE"
	// KindRateLimited: the provider (or the gateway) asked the caller to slow down.
	KindRateLimited Kind = "RATE_LIMITED"
	// KindPaymentDeclined: the payment was refused (contract 1.4); nothing
	// changed, so the order can be paid with another method.
	KindPaymentDeclined Kind = "PAYMENT_DECLINED"
	// KindBelowMinimum: an order's items come to less than the store's
	// minimum order (contract 1.4); nothing was taken.
	KindBelowMinimum Kind = "BELOW_MINIMUM_ORDER"
	KindInternal     Kind = "INTERNAL"
)

// Error is an error with a client-visible kind and message. Message must be
// safe to show to any client; Err, the cause, is logged but never shown,
// because provider errors can carry personal, medical or legal data.
type Error struct {
	Kind     Kind
	Message  string
	Provider string
	// Retryable tells the gateway a read may be tried again.
	Retryable bool
	// RetryAfterMs is the provider's hint, when it gave one.
	RetryAfterMs int64
	Err          error
}

func (e *Error) Error() string {
	msg := string(e.Kind) + ": " + e.Message
	if e.Provider != "" {
		msg = "provider " + e.Provider + ": " + msg
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error whose message is safe to show to a client.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a kind and a client-safe message to an internal cause.
func Wrap(err error, kind Kind, message string) *Error {
	return &Error{Kind: kind, Message: message, Err: err}
}

// NotFound is the per-item error for an ID the provider does not know.
func NotFound(kind, id string) *Error {
	return Errorf(KindNotFound, "%s %q not found", kind, id)
}

// KindOf returns the kind of the first *Error in err's chain. Context errors
// map to KindTimeout; anything else unknown is KindInternal.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return KindTimeout
	}
	return KindInternal
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
