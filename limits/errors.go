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
// operation was not executed), following the GraphQL-over-HTTP draft where
// it is explicit and gqlgen's convention where the draft leaves a choice:
//
//   - a request we could not read or understand as a GraphQL-over-HTTP request
//     gets its own 4xx whatever the Accept header: 413 (body or variables too
//     large), 415 (POST that is not application/json), 405 (method, or a
//     mutation over GET), 400 (malformed JSON, missing query, variables not
//     an object, operationName not in the document or missing when needed);
//   - a well-formed request whose document fails to parse or validate, breaks
//     a shape or complexity limit, or whose variables do not coerce, is a
//     "GraphQL request error": 400 with application/graphql-response+json
//     (the draft's MUST), 422 with application/json (gqlgen's convention,
//     which clients of this gateway already rely on; the draft's SHOULD is
//     200 there);
//   - any other error without data (a persisted-query hash not registered
//     yet) is 200, as APQ clients expect.
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
		case CodeBadRequest, CodeOperationNotFound:
			return http.StatusBadRequest
		case CodeOverloaded:
			return http.StatusServiceUnavailable
		}
	}
	if !isRequestError(errs) {
		return http.StatusOK
	}
	if media == mediaGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
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
