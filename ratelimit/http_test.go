package ratelimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/ratelimit"
)

// handler is a Limiter's middleware over a handler that answers 200, with
// the principal p already in the context (as the auth middlewares leave it).
func handler(l *ratelimit.Limiter, p auth.Principal) http.Handler {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	inner := l.Middleware(ok)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func request(remote string, header http.Header) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":"{ __typename }"}`))
	r.RemoteAddr = remote
	for k, v := range header {
		r.Header[k] = v
	}
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddleware(t *testing.T) {
	one := ratelimit.Limit{Rate: 1, Period: time.Minute, Burst: 1}
	cfg := ratelimit.Config{User: one, Key: one, IP: one}
	analyst := auth.Principal{Roles: []string{auth.RoleAnalyst}, Scopes: []string{auth.ScopeAnalytics}}

	t.Run("the second request of a caller is 429 with Retry-After and a RATE_LIMITED error", func(t *testing.T) {
		h := handler(ratelimit.New(cfg, ratelimit.NewMemory(0, newClock().Now), nil), auth.Principal{UserID: "demo-1"})
		if w := serve(h, request("192.0.2.1:1000", nil)); w.Code != http.StatusOK {
			t.Fatalf("first: %d", w.Code)
		}
		w := serve(h, request("192.0.2.1:1000", nil))
		assertLimited(t, w, 60)
	})
	t.Run("users, keys and addresses have separate buckets", func(t *testing.T) {
		l := ratelimit.New(cfg, ratelimit.NewMemory(0, newClock().Now), nil)
		key := http.Header{auth.APIKeyHeader: {"analyst-key-0001"}}
		otherKey := http.Header{auth.APIKeyHeader: {"analyst-key-0002"}}
		for _, tc := range []struct {
			name string
			p    auth.Principal
			r    *http.Request
		}{
			{"user demo-1", auth.Principal{UserID: "demo-1"}, request("192.0.2.1:1", nil)},
			{"user demo-2 from the same address", auth.Principal{UserID: "demo-2"}, request("192.0.2.1:1", nil)},
			{"an anonymous caller from the same address", auth.Principal{}, request("192.0.2.1:1", nil)},
			{"an anonymous caller from another address", auth.Principal{}, request("192.0.2.2:1", nil)},
			{"an analyst key", analyst, request("192.0.2.1:1", key)},
			{"another analyst key", analyst, request("192.0.2.1:1", otherKey)},
		} {
			if w := serve(handler(l, tc.p), tc.r); w.Code != http.StatusOK {
				t.Fatalf("%s: %d (limited by another bucket)", tc.name, w.Code)
			}
		}
	})
	t.Run("a refused token counts against its address", func(t *testing.T) {
		l := ratelimit.New(cfg, ratelimit.NewMemory(0, newClock().Now), nil)
		serve(handler(l, auth.Principal{}), request("192.0.2.9:1", nil))
		w := serve(handler(l, auth.Principal{Problem: "invalid token: bad signature"}), request("192.0.2.9:2", nil))
		assertLimited(t, w, 60)
	})
	t.Run("a disabled limit lets everything through", func(t *testing.T) {
		h := handler(ratelimit.New(ratelimit.Config{}, ratelimit.NewMemory(0, nil), nil), auth.Principal{})
		for range 50 {
			if w := serve(h, request("192.0.2.1:1", nil)); w.Code != http.StatusOK {
				t.Fatalf("%d", w.Code)
			}
		}
	})
}

// assertLimited checks a 429 the way a client reads it.
func assertLimited(tb testing.TB, w *httptest.ResponseRecorder, retryAfter int) {
	tb.Helper()
	if w.Code != http.StatusTooManyRequests {
		tb.Fatalf("status %d, want 429", w.Code)
	}
	if got := w.Header().Get("Retry-After"); got != itoa(retryAfter) {
		tb.Fatalf("Retry-After %q, want %d", got, retryAfter)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		tb.Fatalf("Content-Type %q", ct)
	}
	var body struct {
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
		tb.Fatalf("body %s: %v", w.Body, err)
	}
	if body.Errors[0].Extensions["code"] != ratelimit.CodeRateLimited || !strings.Contains(body.Errors[0].Message, "retry in") {
		tb.Fatalf("error %+v", body.Errors[0])
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	tests := []struct {
		name    string
		proxies []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{"the peer without trusted proxies", nil, "203.0.113.7:5000", nil, "203.0.113.7"},
		{"the peer, ignoring a forwarded header from an untrusted peer", nil, "203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7"},
		{"the forwarded client behind a trusted proxy", trusted, "10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"the right-most untrusted hop, not a forged left-most one", trusted, "10.1.2.3:5000", []string{"1.1.1.1, 198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"hops across several headers", trusted, "10.1.2.3:5000", []string{"1.1.1.1", "198.51.100.1"}, "198.51.100.1"},
		{"the last good hop when a hop is garbage", trusted, "10.1.2.3:5000", []string{"198.51.100.1, garbage"}, "10.1.2.3"},
		{"the proxy itself without a forwarded header", trusted, "10.1.2.3:5000", nil, "10.1.2.3"},
		{"an IPv6 peer", nil, "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"an IPv4-mapped peer as IPv4", nil, "[::ffff:192.0.2.1]:443", nil, "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ratelimit.New(ratelimit.Config{TrustedProxies: tt.proxies}, ratelimit.NewMemory(0, nil), nil)
			h := http.Header{}
			for _, v := range tt.xff {
				h.Add("X-Forwarded-For", v)
			}
			if got := l.ClientIP(request(tt.remote, h)).String(); got != tt.want {
				t.Fatalf("%s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	t.Run("reads addresses and prefixes", func(t *testing.T) {
		got, err := ratelimit.ParseTrustedProxies("10.0.0.0/8, 192.0.2.1,")
		if err != nil || len(got) != 2 || got[0].String() != "10.0.0.0/8" || got[1].String() != "192.0.2.1/32" {
			t.Fatalf("%v, %v", got, err)
		}
	})
	t.Run("refuses what is neither, naming it", func(t *testing.T) {
		if _, err := ratelimit.ParseTrustedProxies("10.0.0.0/99"); err == nil || !strings.Contains(err.Error(), "10.0.0.0/99") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("the defaults read back as documented", func(t *testing.T) {
		def := ratelimit.DefaultConfig()
		if def.User.String() != "20/s:40" || def.IP.String() != "50/s:100" || def.Key.String() != "10/s:20" || def.Register.String() != "100/h:50" {
			t.Fatalf("defaults %v %v %v %v", def.User, def.IP, def.Key, def.Register)
		}
	})
}

func TestChargeAndRegistration(t *testing.T) {
	burst3 := ratelimit.Limit{Rate: 1, Period: time.Minute, Burst: 3}
	l := ratelimit.New(ratelimit.Config{User: burst3, IP: burst3, Key: burst3,
		Register: ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 1}}, ratelimit.NewMemory(0, nil), nil)

	t.Run("without Middleware there is no caller to charge", func(t *testing.T) {
		if _, err := l.Charge(context.Background(), 1); !errors.Is(err, ratelimit.ErrNoIdentity) {
			t.Fatalf("Charge: %v", err)
		}
		if _, err := l.AllowRegistration(context.Background()); !errors.Is(err, ratelimit.ErrNoIdentity) {
			t.Fatalf("AllowRegistration: %v", err)
		}
	})
	t.Run("Charge and registrations count against the caller Middleware identified", func(t *testing.T) {
		type outcome struct{ charged, registered bool }
		var got []outcome
		h := l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err1 := l.Charge(r.Context(), 1)
			reg, err2 := l.AllowRegistration(r.Context())
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			got = append(got, outcome{c.Allowed, reg.Allowed})
		}))
		for range 2 {
			r := httptest.NewRequest(http.MethodPost, "/query", nil)
			r.RemoteAddr = "192.0.2.7:1234"
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
		// Request 1 and its charge take 2 of the burst of 3; request 2 takes
		// the third, so its charge is refused. One registration an hour.
		if len(got) != 2 || got[0] != (outcome{true, true}) || got[1] != (outcome{false, false}) {
			t.Fatalf("%+v", got)
		}
	})
}
