package graphqlhttp

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plaza-gateway/plaza/limits"
)

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
		case limits.CodeRequestTooLarge, limits.CodeVariablesTooLarge:
			return http.StatusRequestEntityTooLarge
		case limits.CodeUnsupportedMediaType:
			return http.StatusUnsupportedMediaType
		case limits.CodeMethodNotAllowed:
			return http.StatusMethodNotAllowed
		case limits.CodeRequestTimeout:
			return http.StatusRequestTimeout
		case limits.CodeBadRequest, limits.CodeOperationNotFound, limits.CodePersistedQueryMismatch, limits.CodePersistedQueryNotAllowed,
			limits.CodeBatchTooLarge, limits.CodeBatchTooComplex:
			return http.StatusBadRequest
		case limits.CodeOverloaded:
			return http.StatusServiceUnavailable
		case limits.CodeRateLimited:
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
		case limits.CodeTooManyTokens, limits.CodeQueryTooDeep, limits.CodeTooManyAliases, limits.CodeTooManyRootFields,
			limits.CodeTooManyOperations, limits.CodeTooManyRepeats, limits.CodeQueryTooComplex:
			return true
		}
	}
	return errcode.GetErrorKind(errs) == errcode.KindProtocol
}
