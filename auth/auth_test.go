package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/auth/authtest"
)

const (
	issuer   = "https://id.plaza.example"
	audience = "plaza-gateway"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func mustVerifier(tb testing.TB, cfg auth.Config) *auth.Verifier {
	tb.Helper()
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// keys is shared by the tests of this file: RSA key generation is slow
// under the race detector.
var keys = sync.OnceValues(func() (a, b *authtest.Key) {
	gen := func(kid string) *authtest.Key {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return &authtest.Key{KID: kid, Private: k}
	}
	return gen("key-a"), gen("key-b")
})

func TestVerifyRS256(t *testing.T) {
	keyA, keyB := keys()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	set, err := auth.ParseJWKS(authtest.JWKS(keyA))
	if err != nil {
		t.Fatal(err)
	}
	v := mustVerifier(t, auth.Config{Keys: staticKeys(set), Issuer: issuer, Audience: audience,
		Leeway: 30 * time.Second, Now: func() time.Time { return now }})
	claims := func(mod func(*jwt.RegisteredClaims)) jwt.RegisteredClaims {
		c := jwt.RegisteredClaims{Subject: "demo-1", Issuer: issuer, Audience: jwt.ClaimStrings{audience},
			IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	// An HS256 token whose "secret" is the RSA public key in PEM: the classic
	// algorithm-confusion attack against verifiers that pick the key by alg.
	pub, _ := x509.MarshalPKIXPublicKey(&keyA.Private.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	confused, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil)).SignedString(pubPEM)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	forged := keyA.Sign(t, claims(nil))
	forged = forged[:strings.LastIndexByte(forged, '.')+1] + strings.Repeat("A", 342)
	wrongKid := keyB.Sign(t, claims(nil))
	// keyA's header (kid key-a) over a payload and signature made by keyB.
	signedA, signedB := keyA.Sign(t, claims(nil)), keyB.Sign(t, claims(nil))
	resigned := signedA[:strings.IndexByte(signedA, '.')] + signedB[strings.IndexByte(signedB, '.'):]

	tests := []struct {
		name  string
		token string
		want  string // error substring; empty: accepted
	}{
		{"a valid token is accepted", keyA.Sign(t, claims(nil)), ""},
		{"a token expired within the leeway is accepted", keyA.Sign(t, claims(func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-20 * time.Second)) })), ""},
		{"a token not yet valid within the leeway is accepted", keyA.Sign(t, claims(func(c *jwt.RegisteredClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(20 * time.Second)) })), ""},
		{"a token expired past the leeway is refused", keyA.Sign(t, claims(func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-31 * time.Second)) })), "expired"},
		{"a token without expiry is refused", keyA.Sign(t, claims(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil })), "exp claim is required"},
		{"a token for another audience is refused", keyA.Sign(t, claims(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"other-app"} })), "aud"},
		{"a token without audience is refused", keyA.Sign(t, claims(func(c *jwt.RegisteredClaims) { c.Audience = nil })), "aud"},
		{"a token from another issuer is refused", keyA.Sign(t, claims(func(c *jwt.RegisteredClaims) { c.Issuer = "https://evil.example" })), "iss"},
		{"a token without subject is refused", keyA.Sign(t, claims(func(c *jwt.RegisteredClaims) { c.Subject = "" })), "no subject"},
		{"a token issued in the future within the leeway is accepted", keyA.Sign(t, claims(func(c *jwt.RegisteredClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(20 * time.Second)) })), ""},
		{"a token issued in the future past the leeway is refused", keyA.Sign(t, claims(func(c *jwt.RegisteredClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(31 * time.Second)) })), "used before issued"},
		{"a fractional exp is a number and is accepted", keyA.Sign(t, mapClaims(claims(nil), "exp", float64(now.Add(time.Hour).Unix())+0.5)), ""},
		{"a string exp is refused", keyA.Sign(t, mapClaims(claims(nil), "exp", strconv.FormatInt(now.Add(time.Hour).Unix(), 10))), "exp must be a number"},
		{"a null exp is refused", keyA.Sign(t, mapClaims(claims(nil), "exp", nil)), "exp must be a number"},
		{"a string iat is refused", keyA.Sign(t, mapClaims(claims(nil), "iat", strconv.FormatInt(now.Unix(), 10))), "iat must be a number"},
		{"a string nbf is refused", keyA.Sign(t, mapClaims(claims(nil), "nbf", strconv.FormatInt(now.Unix(), 10))), "nbf must be a number"},
		{"a forged signature is refused", forged, "signature is invalid"},
		{"a token signed by another key under that key's kid is refused", wrongKid, "unknown signing key"},
		{"a token re-signed by another key under a known kid is refused", resigned, "signature is invalid"},
		{"alg none is refused", none, "signing method none is invalid"},
		{"HS256 signed with the RSA public key is refused", confused, "signing method HS256 is invalid"},
		{"garbage is refused", "not.a.token", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, err := v.Verify(context.Background(), tt.token)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == "" && user != "demo-1":
				t.Fatalf("user %q", user)
			case tt.want != "" && err == nil:
				t.Fatalf("accepted as %q", user)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// mapClaims returns c as a map with claim set to value, for claims that
// jwt.RegisteredClaims cannot express (a string exp).
func mapClaims(c jwt.RegisteredClaims, claim string, value any) jwt.MapClaims {
	raw, _ := json.Marshal(c)
	var m jwt.MapClaims
	_ = json.Unmarshal(raw, &m)
	m[claim] = value
	return m
}

// staticKeys is a KeySet over a fixed map.
type staticKeys map[string]*rsa.PublicKey

func (s staticKeys) Key(_ context.Context, kid string) (*rsa.PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, auth.ErrUnknownKey
}

func TestVerifyHS256(t *testing.T) {
	now := time.Now()
	dev := mustVerifier(t, auth.Config{Secret: []byte("dev-secret")})
	tok, err := dev.Issue("demo-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a token issued by the verifier is accepted", func(t *testing.T) {
		if u, err := dev.Verify(context.Background(), tok); err != nil || u != "demo-1" {
			t.Fatalf("%q, %v", u, err)
		}
	})
	t.Run("a verifier with only RS256 keys refuses HS256 tokens", func(t *testing.T) {
		keyA, _ := keys()
		set, _ := auth.ParseJWKS(authtest.JWKS(keyA))
		rs := mustVerifier(t, auth.Config{Keys: staticKeys(set)})
		if _, err := rs.Verify(context.Background(), tok); err == nil || !strings.Contains(err.Error(), "signing method HS256 is invalid") {
			t.Fatalf("err %v", err)
		}
		if _, err := rs.Issue("demo-1", time.Hour); err == nil {
			t.Fatal("issued a development token without a secret")
		}
	})
	t.Run("a verifier with only a secret refuses RS256 tokens", func(t *testing.T) {
		keyA, _ := keys()
		rs := keyA.Token(t, "demo-1", "", "", now, time.Hour)
		if _, err := dev.Verify(context.Background(), rs); err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("an operator token carries its role; other roles are neither issued nor honoured", func(t *testing.T) {
		op, err := dev.Issue("ops-1", time.Hour, auth.RoleOperator)
		if err != nil {
			t.Fatal(err)
		}
		if u, roles, err := dev.VerifyRoles(context.Background(), op); err != nil || u != "ops-1" || !slices.Equal(roles, []string{auth.RoleOperator}) {
			t.Fatalf("%q %v %v", u, roles, err)
		}
		if _, roles, _ := dev.VerifyRoles(context.Background(), tok); len(roles) != 0 {
			t.Fatalf("a user token grants %v", roles)
		}
		if _, err := dev.Issue("ops-1", time.Hour, auth.RoleAnalyst); err == nil {
			t.Fatal("issued a token with the ANALYST role, whose credential is an API key")
		}
		forged := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "exp": now.Add(time.Hour).Unix(),
			"iat": now.Unix(), "roles": []string{"ANALYST", "ADMIN", "OPERATOR"}})
		s, _ := forged.SignedString([]byte("dev-secret"))
		if _, roles, err := dev.VerifyRoles(context.Background(), s); err != nil || !slices.Equal(roles, []string{auth.RoleOperator}) {
			t.Fatalf("roles %v, %v; want only OPERATOR honoured", roles, err)
		}
		bad, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "exp": now.Add(time.Hour).Unix(),
			"iat": now.Unix(), "roles": "OPERATOR"}).SignedString([]byte("dev-secret"))
		if _, err := dev.Verify(context.Background(), bad); err == nil {
			t.Fatal("accepted a roles claim that is not a list")
		}
	})
	t.Run("a verifier needs some key", func(t *testing.T) {
		if _, err := auth.NewVerifier(auth.Config{}); err == nil {
			t.Fatal("built a verifier that accepts nothing")
		}
	})
}

func TestJWKSRotation(t *testing.T) {
	keyA, keyB := keys()
	srv := authtest.ServeJWKS(t, keyA)
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	set := auth.NewJWKSURL(srv.URL, srv.Client(), auth.WithMinRefresh(time.Minute), auth.WithMaxAge(time.Hour), auth.WithJWKSClock(clk.Now))
	v := mustVerifier(t, auth.Config{Keys: set, Now: clk.Now})
	ctx := context.Background()
	verify := func(k *authtest.Key) error {
		_, err := v.Verify(ctx, k.Token(t, "demo-1", "", "", clk.Now(), time.Hour))
		return err
	}

	t.Run("the first token fetches the key set once", func(t *testing.T) {
		for range 3 {
			if err := verify(keyA); err != nil {
				t.Fatal(err)
			}
		}
		if n := srv.Fetches(); n != 1 {
			t.Fatalf("%d fetches", n)
		}
	})
	t.Run("an unknown kid within the minimum interval does not refetch", func(t *testing.T) {
		srv.Publish(keyA, keyB)
		if err := verify(keyB); !errors.Is(err, auth.ErrUnknownKey) {
			t.Fatalf("err %v", err)
		}
		if n := srv.Fetches(); n != 1 {
			t.Fatalf("%d fetches", n)
		}
	})
	t.Run("after the interval an unknown kid refetches and the rotated key works", func(t *testing.T) {
		clk.Advance(time.Minute)
		if err := verify(keyB); err != nil {
			t.Fatal(err)
		}
		if err := verify(keyA); err != nil {
			t.Fatalf("the old key stopped working during the rotation: %v", err)
		}
		if n := srv.Fetches(); n != 2 {
			t.Fatalf("%d fetches", n)
		}
	})
	t.Run("a flood of unknown kids costs at most one fetch per interval", func(t *testing.T) {
		clk.Advance(time.Minute)
		forged := authtest.Key{KID: "forged", Private: keyA.Private}
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { _ = verify(&forged) })
		}
		wg.Wait()
		if n := srv.Fetches(); n != 3 {
			t.Fatalf("%d fetches", n)
		}
	})
	t.Run("a retired key stops working once the set is older than its max age", func(t *testing.T) {
		srv.Publish(keyB)
		clk.Advance(2 * time.Hour)
		if err := verify(keyA); !errors.Is(err, auth.ErrUnknownKey) {
			t.Fatalf("err %v", err)
		}
		if err := verify(keyB); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an unreachable key server keeps the keys already known", func(t *testing.T) {
		srv.Close()
		clk.Advance(2 * time.Hour)
		if err := verify(keyB); err != nil {
			t.Fatal(err)
		}
	})
}

func TestJWKSFetchTimeout(t *testing.T) {
	keyA, _ := keys()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	set := auth.NewJWKSURL(srv.URL, srv.Client(), auth.WithFetchTimeout(50*time.Millisecond))
	v := mustVerifier(t, auth.Config{Keys: set})
	start := time.Now()
	_, err := v.Verify(context.Background(), keyA.Token(t, "demo-1", "", "", time.Now(), time.Hour))
	if !errors.Is(err, auth.ErrUnknownKey) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("a hung key server held the request for %v", d)
	}
}

func TestJWKSFile(t *testing.T) {
	keyA, keyB := keys()
	path := filepath.Join(t.TempDir(), "jwks.json")
	mustWrite(t, path, authtest.JWKS(keyA))
	set := auth.NewJWKSFile(path, auth.WithMinRefresh(0))
	v := mustVerifier(t, auth.Config{Keys: set})
	if err := set.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), keyA.Token(t, "demo-1", "", "", time.Now(), time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, path, authtest.JWKS(keyB))
	if _, err := v.Verify(context.Background(), keyB.Token(t, "demo-1", "", "", time.Now(), time.Hour)); err != nil {
		t.Fatalf("a key added to the file is not picked up: %v", err)
	}
}

func TestParseJWKS(t *testing.T) {
	keyA, _ := keys()
	good := auth.JWK("a", &keyA.Private.PublicKey)
	tests := []struct {
		name string
		json string
		want string
	}{
		{"not JSON", `{`, "JWKS"},
		{"no keys", `{"keys":[]}`, "no RS256 signing key"},
		{"only an encryption key", `{"keys":[{"kty":"RSA","use":"enc","kid":"a","n":"` + good["n"] + `","e":"AQAB"}]}`, "no RS256 signing key"},
		{"a short modulus", `{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`, "at least 2048"},
		{"an even exponent", `{"keys":[{"kty":"RSA","kid":"a","n":"` + good["n"] + `","e":"Ag"}]}`, "invalid exponent"},
		{"a duplicate kid", `{"keys":[{"kty":"RSA","kid":"a","n":"` + good["n"] + `","e":"AQAB"},{"kty":"RSA","kid":"a","n":"` + good["n"] + `","e":"AQAB"}]}`, "duplicate kid"},
	}
	for _, tt := range tests {
		t.Run("a set with "+tt.name+" is refused", func(t *testing.T) {
			if _, err := auth.ParseJWKS([]byte(tt.json)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("EC keys are skipped, RSA keys kept", func(t *testing.T) {
		set, err := auth.ParseJWKS([]byte(`{"keys":[{"kty":"EC","kid":"ec","crv":"P-256"},{"kty":"RSA","kid":"a","n":"` + good["n"] + `","e":"AQAB"}]}`))
		if err != nil || len(set) != 1 || set["a"] == nil {
			t.Fatalf("%v, %v", set, err)
		}
	})
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name     string
		settings auth.Settings
		jwks     bool
	}{
		{"a secret alone gives HS256 only", auth.Settings{Secret: auth.DevSecret, Leeway: auth.DefaultLeeway}, false},
		{"a JWKS URL gives RS256 keys", auth.Settings{JWKSURL: "http://127.0.0.1:1/jwks", Leeway: auth.DefaultLeeway}, true},
		{"a JWKS file gives RS256 keys", auth.Settings{JWKSFile: "/x.json", Issuer: issuer, Audience: audience, Leeway: 5 * time.Second}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, jwks := auth.NewConfig(tt.settings, nil)
			if string(cfg.Secret) != tt.settings.Secret || (jwks != nil) != tt.jwks || (cfg.Keys != nil) != tt.jwks ||
				cfg.Leeway != tt.settings.Leeway || cfg.Issuer != tt.settings.Issuer || cfg.Audience != tt.settings.Audience {
				t.Fatalf("config %+v, jwks %v", cfg, jwks != nil)
			}
		})
	}
}

func TestMiddlewareSaysWhy(t *testing.T) {
	keyA, _ := keys()
	set, _ := auth.ParseJWKS(authtest.JWKS(keyA))
	v := mustVerifier(t, auth.Config{Keys: staticKeys(set), Audience: audience})
	tests := []struct {
		name, header, user, problem string
	}{
		{"no header is anonymous without a problem", "", "", ""},
		{"a valid token names the user", "Bearer " + keyA.Token(t, "demo-3", "", audience, time.Now(), time.Hour), "demo-3", ""},
		{"a wrong audience is anonymous with a reason", "Bearer " + keyA.Token(t, "demo-3", "", "other", time.Now(), time.Hour), "", "invalid token: wrong audience"},
		{"an expired token is anonymous with a reason", "Bearer " + keyA.Token(t, "demo-3", "", audience, time.Now().Add(-2*time.Hour), time.Hour), "", "invalid token: token expired"},
		{"a basic header is anonymous with a reason", "Basic eDp5", "", "authorization header must be 'Bearer <token>'"},
		{"the scheme in lower case names the user (RFC 6750)", "bearer " + keyA.Token(t, "demo-3", "", audience, time.Now(), time.Hour), "demo-3", ""},
		{"the scheme in upper case names the user (RFC 6750)", "BEARER " + keyA.Token(t, "demo-3", "", audience, time.Now(), time.Hour), "demo-3", ""},
		{"a scheme without a token is anonymous with a reason", "Bearer ", "", "authorization header must be 'Bearer <token>'"},
		{"a scheme glued to the token is anonymous with a reason", "Bearer" + keyA.Token(t, "demo-3", "", audience, time.Now(), time.Hour), "", "authorization header must be 'Bearer <token>'"},
		{"a token issued in the future is anonymous with a reason", "Bearer " + keyA.Token(t, "demo-3", "", audience, time.Now().Add(time.Hour), 2*time.Hour), "", "invalid token: token issued in the future"},
		{"a string exp is anonymous with a reason", "Bearer " + keyA.Sign(t, jwt.MapClaims{"sub": "demo-3", "aud": audience, "exp": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)}), "", "invalid token: exp must be a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got auth.Principal
			h := v.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				var ok bool
				if got, ok = auth.From(r.Context()); !ok {
					t.Fatal("no principal in the context")
				}
			}))
			r := httptest.NewRequest(http.MethodPost, "/query", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got.UserID != tt.user || got.Problem != tt.problem {
				t.Fatalf("principal %+v", got)
			}
		})
	}
}

func mustWrite(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
}
