// Package auth identifies callers: users by JWT bearer token (HS256 in
// development, RS256 against a JWKS in production), analysts by API key, and
// carries the resulting principal in the request context.
package auth

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Principal is who is calling. The zero value is an anonymous caller.
type Principal struct {
	UserID string
	// Problem says why a presented credential was not accepted ("token
	// expired", ...); empty when none was presented or it was valid.
	Problem string
	// Roles come from an API key (see APIKeys) or from a token's `roles`
	// claim (RoleOperator); Scopes from an API key. Empty for app users.
	Roles  []string
	Scopes []string
	// Provider is the provider a PROVIDER credential speaks for (a
	// provider token's `provider` claim, or a provider API key); Actor
	// names who used it (the token's subject, or the key's id), for the
	// records. A provider credential makes no app user: UserID stays empty.
	Provider string
	Actor    string
	// Expires is when the token presented stops being valid (zero without
	// one): a long-lived stream (a subscription over SSE) ends then.
	Expires time.Time
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the caller carried by ctx; ok is false when no auth middleware
// ran (a wiring mistake, not an anonymous caller).
func From(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Config configures token verification. At least one of Secret and Keys
// must be set; a token is accepted only with an algorithm whose key is
// configured, so an HS256 token signed with an RSA public key (algorithm
// confusion) and `alg: none` are both refused.
type Config struct {
	// Secret signs and verifies HS256 tokens (development, and `plaza
	// token`). Empty: HS256 tokens are refused.
	Secret []byte
	// Keys supplies the RS256 public keys by key ID (a JWKS, see JWKS).
	// Nil: RS256 tokens are refused.
	Keys KeySet
	// Issuer and Audience are checked when set.
	Issuer   string
	Audience string
	// Leeway tolerates clock skew between issuer and gateway.
	Leeway time.Duration
	// Now is injectable for tests.
	Now func() time.Time
}

// KeySet returns the RSA public key a token names in its `kid` header. An
// empty kid is allowed when the set holds a single key.
type KeySet interface {
	Key(ctx context.Context, kid string) (*rsa.PublicKey, error)
}

// DevSecret is the HS256 secret used when none is configured. It exists so
// `go run .` works out of the box; production must configure its own.
const DevSecret = "plaza-dev-secret-change-me"

// Verifier checks bearer tokens.
type Verifier struct {
	cfg    Config
	parser *jwt.Parser
}

// NewVerifier returns a Verifier for cfg. Expiry is always required.
func NewVerifier(cfg Config) (*Verifier, error) {
	var methods []string
	if len(cfg.Secret) > 0 {
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if cfg.Keys != nil {
		methods = append(methods, jwt.SigningMethodRS256.Alg())
	}
	if len(methods) == 0 {
		return nil, errors.New("auth: neither an HS256 secret nor RS256 keys are configured")
	}
	if cfg.Leeway < 0 {
		return nil, errors.New("auth: negative leeway")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithExpirationRequired(),
		// A token issued in the future (beyond the leeway) comes from an
		// issuer with a broken clock or was minted to outlive its exp.
		jwt.WithIssuedAt(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return &Verifier{cfg: cfg, parser: jwt.NewParser(opts...)}, nil
}

// Verify returns the user ID a token was issued to. ctx bounds a JWKS
// refresh that an unknown key ID may trigger.
func (v *Verifier) Verify(ctx context.Context, token string) (string, error) {
	user, _, err := v.VerifyRoles(ctx, token)
	return user, err
}

// VerifyRoles is Verify that also returns the roles the token's `roles`
// claim grants. Only roles a token may carry (TokenRoles) are returned; any
// other name in the claim is ignored, so an issuer cannot mint an analyst
// (whose credential is an API key) by accident.
func (v *Verifier) VerifyRoles(ctx context.Context, token string) (string, []string, error) {
	user, roles, _, err := v.VerifyExpiry(ctx, token)
	return user, roles, err
}

// VerifyExpiry is VerifyRoles that also returns when the token expires
// (its `exp`), so a connection authenticated once can end with its token.
func (v *Verifier) VerifyExpiry(ctx context.Context, token string) (string, []string, time.Time, error) {
	claims, err := v.verify(ctx, token)
	if err != nil {
		return "", nil, time.Time{}, err
	}
	if claims.Provider != "" {
		return "", nil, time.Time{}, errProviderToken
	}
	return claims.Subject, claims.Roles, claims.ExpiresAt.Time, nil
}

// verify checks a token and returns its claims, the roles filtered to
// TokenRoles.
func (v *Verifier) verify(ctx context.Context, token string) (numericClaims, error) {
	var claims numericClaims
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		// The parser has already refused algorithms outside the configured
		// ones; the key's type must still match the algorithm's family.
		switch t.Method.(type) {
		case *jwt.SigningMethodHMAC:
			return v.cfg.Secret, nil
		case *jwt.SigningMethodRSA:
			kid, _ := t.Header["kid"].(string)
			return v.cfg.Keys.Key(ctx, kid)
		}
		return nil, fmt.Errorf("unexpected algorithm %v", t.Header["alg"])
	})
	if err != nil {
		return numericClaims{}, err
	}
	if claims.Subject == "" {
		return numericClaims{}, errors.New("token has no subject")
	}
	var roles []string
	for _, r := range claims.Roles {
		if slices.Contains(TokenRoles, r) && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	claims.Roles = roles
	return claims, nil
}

// errProviderToken refuses a provider's token where a user's is needed.
var errProviderToken = errors.New("auth: a provider token does not sign in a user")

// numericClaims are the registered claims with exp, nbf and iat required to
// be JSON numbers, as RFC 7519 says (NumericDate). jwt's own decoding also
// takes a numeric string ("exp": "1700000000"), which some issuers emit by
// mistake and which other verifiers refuse: a token must mean the same
// thing everywhere it is checked. Roles is Plaza's `roles` claim.
type numericClaims struct {
	jwt.RegisteredClaims
	Roles []string `json:"roles,omitempty"`
	// Provider makes the token a PROVIDER credential for that provider.
	Provider string `json:"provider,omitempty"`
}

// ErrClaimNotNumber is returned for a token whose exp, nbf or iat is not a
// JSON number.
var ErrClaimNotNumber = errors.New("auth: time claim is not a number")

// claimTypeError names the time claim that is not a number.
type claimTypeError struct{ claim string }

func (e *claimTypeError) Error() string { return e.claim + " must be a number" }
func (e *claimTypeError) Unwrap() error { return ErrClaimNotNumber }

func (c *numericClaims) UnmarshalJSON(b []byte) error {
	var times struct {
		Exp json.RawMessage `json:"exp"`
		Nbf json.RawMessage `json:"nbf"`
		Iat json.RawMessage `json:"iat"`
	}
	if err := json.Unmarshal(b, &times); err != nil {
		return err
	}
	for _, t := range []struct {
		name string
		raw  json.RawMessage
	}{{"exp", times.Exp}, {"nbf", times.Nbf}, {"iat", times.Iat}} {
		if len(t.raw) > 0 && !isJSONNumber(t.raw) {
			return &claimTypeError{t.name}
		}
	}
	if err := json.Unmarshal(b, &c.RegisteredClaims); err != nil {
		return err
	}
	var plaza struct {
		Roles    []string `json:"roles"`
		Provider string   `json:"provider"`
	}
	if err := json.Unmarshal(b, &plaza); err != nil {
		return fmt.Errorf("roles or provider claim: %w", err)
	}
	c.Roles, c.Provider = plaza.Roles, plaza.Provider
	return nil
}

// isJSONNumber reports whether raw (one JSON value) is a number: numbers
// alone start with a digit or a minus sign.
func isJSONNumber(raw json.RawMessage) bool {
	return raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'
}

// Issue signs an HS256 token for user valid for ttl (used by `plaza token`
// and tests), granting roles (each one of TokenRoles) in the `roles` claim.
// It fails when no secret is configured.
func (v *Verifier) Issue(user string, ttl time.Duration, roles ...string) (string, error) {
	return v.issue(user, "", ttl, roles)
}

// IssueProvider signs an HS256 token with which user (a provider's
// developer) acts for provider, valid for ttl: `plaza token --provider`.
func (v *Verifier) IssueProvider(user, provider string, ttl time.Duration) (string, error) {
	if provider == "" {
		return "", errors.New("auth: a provider token needs a provider")
	}
	return v.issue(user, provider, ttl, nil)
}

func (v *Verifier) issue(user, provider string, ttl time.Duration, roles []string) (string, error) {
	if len(v.cfg.Secret) == 0 {
		return "", errors.New("auth: no HS256 secret configured to issue development tokens")
	}
	for _, r := range roles {
		if !slices.Contains(TokenRoles, r) {
			return "", fmt.Errorf("auth: a token cannot carry role %q (want one of %s)", r, strings.Join(TokenRoles, ", "))
		}
	}
	now := v.cfg.Now()
	claims := numericClaims{RegisteredClaims: jwt.RegisteredClaims{
		Subject:   user,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		Issuer:    v.cfg.Issuer,
	}, Roles: roles, Provider: provider}
	if v.cfg.Audience != "" {
		claims.Audience = jwt.ClaimStrings{v.cfg.Audience}
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(v.cfg.Secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Middleware identifies the caller of every request. A missing token makes an
// anonymous caller; an invalid one too, with Problem set, so fields that need
// a user fail with a message that says what was wrong, while public fields
// still work.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := v.Principal(r.Context(), r.Header.Get("Authorization"))
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// Principal is the caller an Authorization value ("Bearer <token>")
// identifies: anonymous when it is empty, anonymous with Problem set when
// it is not accepted. Middleware reads it from the header, a websocket
// from its connection_init payload. A provider API key is left to
// ProviderKeys.Middleware.
func (v *Verifier) Principal(ctx context.Context, authorization string) Principal {
	if authorization == "" {
		return Principal{}
	}
	token, ok := bearerToken(authorization)
	if !ok {
		return Principal{Problem: "authorization header must be 'Bearer <token>'"}
	}
	if strings.HasPrefix(token, ProviderKeyPrefix) {
		return Principal{}
	}
	claims, err := v.verify(ctx, token)
	switch {
	case err != nil:
		return Principal{Problem: "invalid token: " + reason(err)}
	case claims.Provider != "":
		return Principal{Provider: claims.Provider, Actor: claims.Subject, Roles: []string{RoleProvider}, Expires: claims.ExpiresAt.Time}
	}
	return Principal{UserID: claims.Subject, Roles: claims.Roles, Expires: claims.ExpiresAt.Time}
}

// bearerToken returns the token of an Authorization header of the Bearer
// scheme. The scheme name is case-insensitive (RFC 6750 section 2.1 via RFC
// 7235 section 2.1), so "bearer" and "BEARER" are accepted as well.
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// reason turns a jwt error into a short message that is safe to show.
func reason(err error) string {
	var notNumber *claimTypeError
	switch {
	case errors.As(err, &notNumber):
		return notNumber.Error()
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "missing required claim"
	case errors.Is(err, ErrUnknownKey):
		return "unknown signing key"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "unverifiable token"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	}
	return "rejected"
}

// APIKeyID returns a stable, non-secret identifier of the API key r carries
// (a truncated SHA-256 digest), for rate limiting and logs; ok is false
// without a key. It says nothing about whether the key is valid.
func APIKeyID(r *http.Request) (id string, ok bool) {
	key, err := keyFrom(r)
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:12]), true
}
