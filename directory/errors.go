package directory

import (
	"errors"
	"fmt"
)

// Code classifies a directory error for the client. The values are the
// GraphQL extensions.code the error presenter should emit.
type Code string

const (
	// Invalid: bad input; Field names it (extensions.field). Nothing changed.
	Invalid Code = "BAD_USER_INPUT"
	// NotFound: no provider (or run) with that id.
	NotFound Code = "NOT_FOUND"
	// Conflict: the change is not allowed from the current state (a
	// lifecycle move that the lifecycle does not permit).
	Conflict Code = "CONFLICT"
	// Unavailable: the source of truth cannot be reached; reads keep being
	// served from the snapshot, mutations fail until it is back.
	Unavailable Code = "UNAVAILABLE"
	// Internal: anything else; its cause is logged, never shown.
	Internal Code = "INTERNAL"
)

// Error is a directory error a client may see. Message is safe to show; Err
// is the cause, for logs.
type Error struct {
	Code    Code
	Field   string
	Message string
	Err     error
}

func (e *Error) Error() string {
	msg := string(e.Code)
	if e.Field != "" {
		msg += " (" + e.Field + ")"
	}
	msg += ": " + e.Message
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) (and the other sentinels) match
// any *Error of the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Field == "" && t.Message == "" && t.Err == nil && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalid     = &Error{Code: Invalid}
	ErrNotFound    = &Error{Code: NotFound}
	ErrConflict    = &Error{Code: Conflict}
	ErrUnavailable = &Error{Code: Unavailable}
)

// CodeOf returns the code of the first *Error in err's chain, Internal for
// any other error and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// FieldOf returns the field an Invalid error names ("" if none).
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(id string) *Error {
	return &Error{Code: NotFound, Field: "id", Message: fmt.Sprintf("provider %q not found", id)}
}

func unavailable(err error) *Error {
	return &Error{Code: Unavailable, Message: "the provider directory is unavailable; try again later", Err: err}
}
