package limits

import (
	"fmt"
	"net/http"

	"github.com/99designs/gqlgen/graphql/errcode"

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
)

// errorf returns a client-safe GraphQL error carrying code.
func errorf(code, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": code},
	}
}

// Response media types (GraphQL over HTTP, "Accept" negotiation).
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// statusFor is the HTTP status of a response that carries only errs (the
// operation was not executed), following the GraphQL-over-HTTP spec,
// including its SHOULDs (the graphql-http audit checks them):
//
//   - a request we could not read or understand as a GraphQL-over-HTTP request
//     gets its own 4xx whatever the Accept header: 413 (body or variables too
//     large), 415 (POST that is not application/json), 405 (method, or a
//     mutation over GET), 408 (the body did not arrive in time), 400
//     (malformed JSON, missing query, variables not an object, operationName
//     not in the document or missing when needed, a persisted-query hash that
//     does not match its document, a batch past its caps);
//   - a well-formed request whose document fails to parse or validate, breaks
//     a shape or complexity limit, or whose variables do not coerce, is a
//     "GraphQL request error": 400 with application/graphql-response+json
//     (the spec's MUST), 200 with application/json (the spec's SHOULD: legacy
//     clients such as Apollo Client treat any 4xx as a network failure and
//     drop the errors);
//   - any other error without data (a persisted-query hash not registered
//     yet, introspection refused) is 200, as APQ clients expect.
func statusFor(errs gqlerror.List, media string) int {
	for _, e := range errs {
		code, _ := e.Extensions["code"].(string)
		switch code {
		case CodeRequestTooLarge, CodeVariablesTooLarge:
			return http.StatusRequestEntityTooLarge
		case CodeUnsupportedMediaType:
			return http.StatusUnsupportedMediaType
		case CodeMethodNotAllowed:
			return http.StatusMethodNotAllowed
		case CodeRequestTimeout:
			return http.StatusRequestTimeout
		case CodeBadRequest, CodeOperationNotFound, CodePersistedQueryMismatch, CodeBatchTooLarge, CodeBatchTooComplex:
			return http.StatusBadRequest
		case CodeOverloaded:
			return http.StatusServiceUnavailable
		case CodeRateLimited:
			return http.StatusTooManyRequests
		}
	}
	if isRequestError(errs) && media == mediaGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// isRequestError reports whether errs reject the document or its variables.
func isRequestError(errs gqlerror.List) bool {
	for _, e := range errs {
		switch code, _ := e.Extensions["code"].(string); code {
		case CodeTooManyTokens, CodeQueryTooDeep, CodeTooManyAliases, CodeTooManyRootFields,
			CodeTooManyOperations, CodeTooManyRepeats, CodeQueryTooComplex:
			return true
		}
	}
	return errcode.GetErrorKind(errs) == errcode.KindProtocol
}
