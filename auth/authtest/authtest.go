// Package authtest mints RS256 tokens and JSON Web Key Sets for tests, with
// keys generated on the fly.
package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plaza-gateway/plaza/auth"
)

// Key is an RSA signing key with its key ID.
type Key struct {
	KID     string
	Private *rsa.PrivateKey
}

// NewKey generates a 2048-bit RSA key named kid.
func NewKey(tb testing.TB, kid string) *Key {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("authtest: generate key: %v", err)
	}
	return &Key{KID: kid, Private: k}
}

// Sign returns an RS256 token for claims with this key's kid in the header.
func (k *Key) Sign(tb testing.TB, claims jwt.Claims) string {
	tb.Helper()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = k.KID
	s, err := t.SignedString(k.Private)
	if err != nil {
		tb.Fatalf("authtest: sign: %v", err)
	}
	return s
}

// Token returns an RS256 token for user from issuer to audience, issued now
// and valid for ttl (empty issuer or audience leaves the claim out).
func (k *Key) Token(tb testing.TB, user, issuer, audience string, now time.Time, ttl time.Duration) string {
	tb.Helper()
	c := jwt.RegisteredClaims{Subject: user, Issuer: issuer, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl))}
	if audience != "" {
		c.Audience = jwt.ClaimStrings{audience}
	}
	return k.Sign(tb, c)
}

// JWKS returns the JSON Web Key Set publishing the public halves of keys.
func JWKS(keys ...*Key) []byte {
	set := struct {
		Keys []map[string]string `json:"keys"`
	}{Keys: []map[string]string{}}
	for _, k := range keys {
		set.Keys = append(set.Keys, auth.JWK(k.KID, &k.Private.PublicKey))
	}
	b, _ := json.Marshal(set)
	return b
}

// JWKSServer serves a key set over HTTP on loopback, counts fetches, and can
// rotate to other keys.
type JWKSServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []*Key
	fetches int
}

// ServeJWKS starts a JWKS endpoint publishing keys until the test ends.
func ServeJWKS(tb testing.TB, keys ...*Key) *JWKSServer {
	tb.Helper()
	s := &JWKSServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		s.fetches++
		body := JWKS(s.keys...)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	tb.Cleanup(s.Close)
	return s
}

// Publish replaces the published keys (a rotation at the identity provider).
func (s *JWKSServer) Publish(keys ...*Key) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
}

// Fetches returns how often the key set was fetched.
func (s *JWKSServer) Fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}
