package api_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// signed returns an HS256 token for claims signed with secret.
func signed(tb testing.TB, secret string, claims jwt.Claims) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

func TestAuthentication(t *testing.T) {
	g := startDemo(t)
	now := time.Now()
	valid := func(exp time.Time) jwt.RegisteredClaims {
		return jwt.RegisteredClaims{Subject: "demo-1", IssuedAt: jwt.NewNumericDate(now.Add(-2 * time.Hour)), ExpiresAt: jwt.NewNumericDate(exp)}
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, valid(now.Add(time.Hour))).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, valid(now.Add(time.Hour))).SignedString([]byte("test-secret"))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		header http.Header
		msg    string
	}{
		{"no token", nil, "sign in required"},
		{"a garbage token", bearer("abc.def"), "invalid token: malformed token"},
		{"an expired token", bearer(signed(t, "test-secret", valid(now.Add(-time.Hour)))), "invalid token: token expired"},
		{"a token without expiry", bearer(signed(t, "test-secret", jwt.RegisteredClaims{Subject: "demo-1"})), "invalid token"},
		{"a token not valid yet", bearer(signed(t, "test-secret", jwt.RegisteredClaims{Subject: "demo-1",
			NotBefore: jwt.NewNumericDate(now.Add(time.Hour)), ExpiresAt: jwt.NewNumericDate(now.Add(2 * time.Hour))})), "invalid token: token not valid yet"},
		{"an alg none token", bearer(none), "invalid token"},
		{"a token signed with another algorithm", bearer(hs512), "invalid token"},
		{"a token signed with another secret", bearer(signed(t, "another-secret", valid(now.Add(time.Hour)))), "invalid token: bad signature"},
		{"a token without subject", bearer(signed(t, "test-secret", jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))})), "invalid token"},
		{"a non-bearer authorization header", http.Header{"Authorization": {"Basic ZGVtby0xOng="}}, "authorization header must be 'Bearer <token>'"},
		{"a token issued in the future", bearer(signed(t, "test-secret", jwt.RegisteredClaims{Subject: "demo-1",
			IssuedAt: jwt.NewNumericDate(now.Add(time.Hour)), ExpiresAt: jwt.NewNumericDate(now.Add(2 * time.Hour))})), "invalid token: token issued in the future"},
		{"a token whose exp is a string", bearer(signed(t, "test-secret", jwt.MapClaims{"sub": "demo-1",
			"exp": strconv.FormatInt(now.Add(time.Hour).Unix(), 10)})), "invalid token: exp must be a number"},
	}
	for _, tt := range tests {
		for _, field := range []string{"me { id }", "home { city }"} {
			t.Run(field+" with "+tt.name+" is UNAUTHENTICATED saying why", func(t *testing.T) {
				resp := mustFail(t, g, apitest.Request{Query: "{ " + field + " }", Header: tt.header}, "UNAUTHENTICATED", tt.msg)
				if resp.Status != http.StatusOK {
					t.Fatalf("status %d", resp.Status)
				}
			})
		}
		t.Run("search still works with "+tt.name, func(t *testing.T) {
			d, _ := mustData[searchData](t, g, apitest.Request{Query: searchQuery, Variables: map[string]any{"text": "milk", "first": 3}, Header: tt.header})
			if len(d.Search.Edges) != 3 {
				t.Fatalf("%d edges", len(d.Search.Edges))
			}
		})
	}

	t.Run("mutations without a token are UNAUTHENTICATED and change nothing", func(t *testing.T) {
		s := groceryStores(t, g, "Shanghai")[0]
		p := s.Products.Edges[0].Node
		mustFail(t, g, apitest.Request{Query: placeOrderMutation, Variables: orderInput(s.ID, s.DeliverySlots[0].ID, p.ID, 1, "")}, "UNAUTHENTICATED", "sign in required")
		if got := productStock(t, g, p.ID); got != p.Stock {
			t.Fatalf("stock %d, was %d", got, p.Stock)
		}
	})

	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		t.Run("the scheme "+scheme+" signs the user in (RFC 6750: case-insensitive)", func(t *testing.T) {
			d, _ := mustData[struct {
				Me struct {
					ID string `json:"id"`
				} `json:"me"`
			}](t, g, apitest.Request{Query: `{ me { id } }`, Header: http.Header{"Authorization": {scheme + " " + g.Token("demo-7")}}})
			if _, _, local := decodeID(t, d.Me.ID); local != "demo-7" {
				t.Fatalf("signed in as %s", local)
			}
		})
	}

	t.Run("a valid token from the verifier signs the user in", func(t *testing.T) {
		d, _ := mustData[struct {
			Me struct {
				ID string `json:"id"`
			} `json:"me"`
		}](t, g, apitest.Request{Query: `{ me { id } }`, Header: bearer(g.Token("demo-7"))})
		if _, _, local := decodeID(t, d.Me.ID); local != "demo-7" {
			t.Fatalf("signed in as %s", local)
		}
	})
}
