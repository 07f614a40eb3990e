package auth_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plaza-gateway/plaza/auth"
)

// keyTable is a ProviderKeyLookup over a map, counting lookups.
type keyTable struct {
	keys  map[[sha256.Size]byte][2]string
	calls atomic.Int64
	fail  error
}

func (k *keyTable) LookupKey(_ context.Context, d [sha256.Size]byte) (string, string, bool, error) {
	k.calls.Add(1)
	if k.fail != nil {
		return "", "", false, k.fail
	}
	v, ok := k.keys[d]
	return v[0], v[1], ok, nil
}

// principalOf runs a request with the Authorization header h through the
// token and provider-key middlewares and returns the caller they made.
func principalOf(t *testing.T, v *auth.Verifier, pk *auth.ProviderKeys, h string) auth.Principal {
	t.Helper()
	var got auth.Principal
	h2 := v.Middleware(pk.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got, _ = auth.From(r.Context()) })))
	req := httptest.NewRequest(http.MethodPost, "/query", nil)
	if h != "" {
		req.Header.Set("Authorization", h)
	}
	h2.ServeHTTP(httptest.NewRecorder(), req)
	return got
}

func TestProviderCredentials(t *testing.T) {
	v := mustVerifier(t, auth.Config{Secret: []byte(auth.DevSecret)})
	key, id, digest, err := auth.NewProviderKey()
	if err != nil || !strings.HasPrefix(key, auth.ProviderKeyPrefix) || len(key) < 40 {
		t.Fatalf("NewProviderKey: %q %v", key, err)
	}
	table := &keyTable{keys: map[[sha256.Size]byte][2]string{digest: {"freshcart", id}}}
	pk := auth.NewProviderKeys(table, time.Minute, nil)

	t.Run("a provider token makes a PROVIDER for its provider and no app user", func(t *testing.T) {
		tok, err := v.IssueProvider("dev-1", "freshcart", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		p := principalOf(t, v, pk, "Bearer "+tok)
		if p.Provider != "freshcart" || p.Actor != "dev-1" || p.UserID != "" || !p.HasRole(auth.RoleProvider) || p.Problem != "" {
			t.Fatalf("principal %+v", p)
		}
		if _, err := v.Verify(context.Background(), tok); err == nil {
			t.Fatal("a provider token verified as a user's")
		}
	})
	t.Run("a roles claim cannot grant PROVIDER", func(t *testing.T) {
		claims := jwt.MapClaims{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "roles": []string{"PROVIDER"}}
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(auth.DevSecret))
		if p := principalOf(t, v, pk, "Bearer "+tok); p.HasRole(auth.RoleProvider) || p.Provider != "" || p.UserID != "u1" {
			t.Fatalf("principal %+v", p)
		}
	})
	t.Run("a provider key makes a PROVIDER, looked up once while cached", func(t *testing.T) {
		before := table.calls.Load()
		for range 3 {
			p := principalOf(t, v, pk, "Bearer "+key)
			if p.Provider != "freshcart" || p.Actor != id || p.UserID != "" || p.Problem != "" {
				t.Fatalf("principal %+v", p)
			}
		}
		if n := table.calls.Load() - before; n != 1 {
			t.Fatalf("%d lookups for three requests, want 1", n)
		}
	})
	t.Run("an unknown key is refused with a reason", func(t *testing.T) {
		other, _, _, _ := auth.NewProviderKey()
		if p := principalOf(t, v, pk, "Bearer "+other); p.Provider != "" || p.Problem != "invalid or revoked provider key" {
			t.Fatalf("principal %+v", p)
		}
	})
	t.Run("a revoked key stops verifying once forgotten", func(t *testing.T) {
		delete(table.keys, digest)
		pk.Forget()
		if p := principalOf(t, v, pk, "Bearer "+key); p.Provider != "" || p.Problem == "" {
			t.Fatalf("principal %+v", p)
		}
	})
	t.Run("a failing lookup trusts nothing", func(t *testing.T) {
		failing := auth.NewProviderKeys(&keyTable{fail: errors.New("db down")}, time.Minute, nil)
		if p := principalOf(t, v, failing, "Bearer "+key); p.Provider != "" || !strings.Contains(p.Problem, "retry") {
			t.Fatalf("principal %+v", p)
		}
	})
	t.Run("without a key store every provider key is refused", func(t *testing.T) {
		if p := principalOf(t, v, auth.NewProviderKeys(nil, 0, nil), "Bearer "+key); p.Provider != "" || p.Problem == "" {
			t.Fatalf("principal %+v", p)
		}
	})
}
