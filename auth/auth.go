// Package auth identifies callers: users by JWT bearer token, and carries the
// resulting principal in the request context.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	// Roles and Scopes come from an API key (see APIKeys); empty for users.
	Roles  []string
	Scopes []string
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

// Config configures token verification.
type Config struct {
	// Secret signs and verifies HS256 tokens (development default).
	Secret []byte
	// Issuer and Audience are checked when set.
	Issuer   string
	Audience string
	// Leeway tolerates clock skew between issuer and gateway.
	Leeway time.Duration
	// Now is injectable for tests.
	Now func() time.Time
}

// DevSecret is the HS256 secret used when none is configured. It exists so
// `go run .` works out of the box; production must configure its own.
const DevSecret = "plaza-dev-secret-change-me"

// Verifier checks bearer tokens.
type Verifier struct {
	cfg    Config
	parser *jwt.Parser
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg Config) (*Verifier, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("auth: empty token secret")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithExpirationRequired(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return &Verifier{cfg: cfg, parser: jwt.NewParser(opts...)}, nil
}

// Verify returns the user ID a token was issued to.
func (v *Verifier) Verify(token string) (string, error) {
	var claims jwt.RegisteredClaims
	_, err := v.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) {
		return v.cfg.Secret, nil
	})
	if err != nil {
		return "", err
	}
	if claims.Subject == "" {
		return "", errors.New("token has no subject")
	}
	return claims.Subject, nil
}

// Issue signs a token for user valid for ttl (used by `plaza token` and tests).
func (v *Verifier) Issue(user string, ttl time.Duration) (string, error) {
	now := v.cfg.Now()
	claims := jwt.RegisteredClaims{
		Subject:   user,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		Issuer:    v.cfg.Issuer,
	}
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
		var p Principal
		if h := r.Header.Get("Authorization"); h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				p.Problem = "authorization header must be 'Bearer <token>'"
			} else if user, err := v.Verify(strings.TrimSpace(token)); err != nil {
				p.Problem = "invalid token: " + reason(err)
			} else {
				p.UserID = user
			}
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// reason turns a jwt error into a short message that is safe to show.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenUnverifiable), errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "unverifiable token"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	}
	return "rejected"
}
