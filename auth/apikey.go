package auth

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Roles a principal can hold besides being a signed-in user.
const (
	// RoleAnalyst comes with an analyst API key.
	RoleAnalyst = "ANALYST"
	// RoleOperator runs the provider directory (registers, suspends,
	// approves providers). It comes in a token's `roles` claim: from `plaza
	// token --role OPERATOR` in development, from the configured issuer in
	// production.
	RoleOperator = "OPERATOR"
)

// TokenRoles are the roles a bearer token's `roles` claim may grant.
var TokenRoles = []string{RoleOperator}

// ScopeAnalytics lets an API key read the analysts' API (`analytics`).
const ScopeAnalytics = "analytics"

// APIKeyHeader carries an API key; `Authorization: ApiKey <key>` works too.
const APIKeyHeader = "Plaza-Api-Key"

// DevAnalystKey is the analyst key accepted outside production when
// PLAZA_ANALYST_KEYS is not set, so the playground's analyst examples work
// out of the box. Production must configure its own keys.
const DevAnalystKey = "dev-analyst-key"

// HasRole reports whether p holds role.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// HasScope reports whether p holds scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// APIKeys verifies API keys. Only SHA-256 digests of the keys are kept, so
// a lookup does not compare secrets byte by byte and a memory dump does not
// reveal them.
type APIKeys struct {
	scopes map[[sha256.Size]byte][]string
}

// ParseAPIKeys reads a key list: comma-separated entries `key` or
// `key:scope1+scope2`. A key without scopes gets ScopeAnalytics. Keys must
// be at least 12 characters.
func ParseAPIKeys(spec string) (*APIKeys, error) {
	k := &APIKeys{scopes: map[[sha256.Size]byte][]string{}}
	for _, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		key, scopeList, _ := strings.Cut(entry, ":")
		if len(key) < 12 {
			return nil, fmt.Errorf("auth: API key %q…: keys must be at least 12 characters", key[:min(len(key), 3)])
		}
		scopes := []string{ScopeAnalytics}
		if scopeList != "" {
			scopes = strings.Split(scopeList, "+")
		}
		k.scopes[sha256.Sum256([]byte(key))] = scopes
	}
	return k, nil
}

// Lookup returns the scopes of key; ok is false for an unknown key.
func (k *APIKeys) Lookup(key string) (scopes []string, ok bool) {
	if k == nil || key == "" {
		return nil, false
	}
	scopes, ok = k.scopes[sha256.Sum256([]byte(key))]
	return scopes, ok
}

var errNoKey = errors.New("no API key")

// keyFrom returns the API key a request carries.
func keyFrom(r *http.Request) (string, error) {
	if k := r.Header.Get(APIKeyHeader); k != "" {
		return strings.TrimSpace(k), nil
	}
	if k, ok := apiKeyScheme(r.Header.Get("Authorization")); ok {
		return strings.TrimSpace(k), nil
	}
	return "", errNoKey
}

// apiKeyScheme returns what follows the `ApiKey` scheme of an Authorization
// header, the scheme matched case-insensitively as HTTP auth schemes are
// (RFC 9110 section 11.1), like Bearer.
func apiKeyScheme(h string) (string, bool) {
	const scheme = "apikey "
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	return h[len(scheme):], true
}

// Middleware adds the roles and scopes of a presented API key to the
// principal set by the token middleware (mount it inside Verifier's). A
// valid key with ScopeAnalytics makes the caller an ANALYST; an unknown key
// sets Problem, so analyst fields answer UNAUTHENTICATED with a reason.
// A nil *APIKeys accepts no key.
func (k *APIKeys) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := keyFrom(r)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		p, _ := From(r.Context())
		if _, ours := apiKeyScheme(r.Header.Get("Authorization")); ours && p.UserID == "" {
			p.Problem = "" // the token middleware complained about a header that was ours
		}
		scopes, ok := k.Lookup(key)
		if !ok {
			p.Problem = "invalid API key"
		} else {
			p.Scopes = append(slices.Clone(p.Scopes), scopes...)
			if slices.Contains(scopes, ScopeAnalytics) {
				p.Roles = append(slices.Clone(p.Roles), RoleAnalyst)
			}
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}
