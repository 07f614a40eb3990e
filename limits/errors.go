package limits

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Codes set in `extensions.code` of the errors this package returns.
const (
	CodeRequestTooLarge      = "REQUEST_TOO_LARGE"
	CodeVariablesTooLarge    = "VARIABLES_TOO_LARGE"
	CodeBadRequest           = "BAD_REQUEST"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	CodeOperationNotFound    = "OPERATION_NOT_FOUND"
	CodeTooManyTokens        = "TOO_MANY_TOKENS"
	CodeQueryTooDeep         = "QUERY_TOO_DEEP"
	CodeTooManyAliases       = "TOO_MANY_ALIASES"
	CodeTooManyRootFields    = "TOO_MANY_ROOT_FIELDS"
	CodeTooManyOperations    = "TOO_MANY_OPERATIONS"
	CodeTooManyRepeats       = "TOO_MANY_REPEATED_FIELDS"
	CodeQueryTooComplex      = "QUERY_TOO_COMPLEX"
	CodeOverloaded           = "OVERLOADED"
	// CodeShuttingDown ends a subscription stream when the instance shuts
	// down: subscribe again (another instance takes it).
	CodeShuttingDown = "SHUTTING_DOWN"
	// CodeRateLimited: the caller's rate limit has no room (the same code
	// as the rate limiter's own 429).
	CodeRateLimited = "RATE_LIMITED"
	// CodeRequestTimeout: the body did not arrive within BodyReadTimeout.
	CodeRequestTimeout = "REQUEST_TIMEOUT"
	// CodeBatchTooLarge and CodeBatchTooComplex refuse a whole batch (a JSON
	// array of operations) past MaxBatch operations or MaxBatchComplexity.
	CodeBatchTooLarge   = "BATCH_TOO_LARGE"
	CodeBatchTooComplex = "BATCH_TOO_COMPLEX"
	// CodePersistedQueryNotFound is gqlgen's APQ code for a hash not
	// registered (yet): the client then sends the document with its hash.
	CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
	// CodePersistedQueryMismatch: the hash sent is not the sha256 of the
	// document sent with it (APQ answers 400).
	CodePersistedQueryMismatch = "PERSISTED_QUERY_HASH_MISMATCH"
	// CodePersistedQueryNotAllowed: the gateway runs only the app's
	// persisted documents (PLAZA_PERSISTED_ONLY) and the request is not one
	// (HTTP 400).
	CodePersistedQueryNotAllowed = "PERSISTED_QUERY_NOT_ALLOWED"
)

// errorf returns a client-safe GraphQL error carrying code.
func errorf(code, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": code},
	}
}
