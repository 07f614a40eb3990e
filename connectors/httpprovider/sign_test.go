package httpprovider

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/connectors"
)

// signedWith builds a POST to url+path+"?"+query signed with sign, which
// receives the query the signer believes it sent.
func signedWith(tb testing.TB, url, path, query, body string, ts time.Time, nonce string, sign func(ts, nonce string) string) *http.Request {
	tb.Helper()
	target := url + path
	if query != "" {
		target += "?" + query
	}
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	t := strconv.FormatInt(ts.Unix(), 10)
	req.Header.Set(HeaderTimestamp, t)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, sign(t, nonce))
	return req
}

func TestSignatureSchemes(t *testing.T) {
	v1End := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	inside, after := v1End.Add(-time.Hour), v1End.Add(time.Second)
	f := newFake("schemes", connectors.VerticalGrocery)
	const body = `{"ids":["s1"]}`
	path := PathGroceryStores
	v2 := func(query string) func(ts, nonce string) string {
		return func(ts, nonce string) string {
			return SignV2(testSecret, ts, nonce, http.MethodPost, path, query, []byte(body))
		}
	}
	v1 := func(ts, nonce string) string { return Sign(testSecret, ts, nonce, http.MethodPost, path, []byte(body)) }
	v3 := func(provider string) func(ts, nonce string) string {
		return func(ts, nonce string) string {
			return SignV3(testSecret, provider, ts, nonce, http.MethodPost, path, "", []byte(body))
		}
	}
	tests := []struct {
		name     string
		now      time.Time
		query    string // sent
		sign     func(ts, nonce string) string
		provider string // the Plaza-Provider header sent, if any
		status   int
		message  string // part of the refusal's message
		nextHour bool
	}{
		{name: "a v2 request is accepted", now: inside, sign: v2(""), status: 200},
		{name: "a v2 request with the query string it signed is accepted", now: inside, query: "a=1&b=2", sign: v2("a=1&b=2"), status: 200},
		{name: "a v2 request whose query string was changed in flight is refused", now: inside, query: "a=1&b=3", sign: v2("a=1&b=2"), status: 401, message: "bad signature"},
		{name: "a v2 request with a query string added in flight is refused", now: inside, query: "debug=1", sign: v2(""), status: 401, message: "bad signature"},
		{name: "a v2 request after the v1 window is accepted", now: after, sign: v2(""), status: 200},
		{name: "a v1 request inside the transition window is accepted", now: inside, sign: v1, status: 200},
		{name: "a v1 request after the transition window is refused saying to use v2", now: after, sign: v1, status: 401,
			message: "signature scheme v1 is no longer accepted (its transition window ended 2027-03-01T00:00:00Z): sign with v2"},
		{name: "a v2 MAC sent as v1 is refused", now: inside, sign: func(ts, n string) string { return strings.TrimPrefix(v2("")(ts, n), "v2=") }, status: 401, message: "bad signature"},
		{name: "a v1 MAC sent as v2 is refused", now: inside, sign: func(ts, n string) string { return "v2=" + v1(ts, n) }, status: 401, message: "bad signature"},
		{name: "an unknown scheme is refused", now: inside, sign: func(ts, n string) string { return "v4=" + v1(ts, n) }, status: 401, message: `unsupported signature scheme "v4": sign with v3`},
		{name: "a v3 request for this provider is accepted", now: inside, sign: v3("schemes"), provider: "schemes", status: 200},
		{name: "a v3 request whose Plaza-Provider was changed in flight is refused", now: inside, sign: v3("schemes"), provider: "other", status: 401, message: "bad signature"},
		{name: "a v3 request without Plaza-Provider is refused", now: inside, sign: v3("schemes"), status: 401, message: "missing Plaza-Provider header"},
		{name: "a v3 request is answered by the endpoint's one provider whatever it names", now: inside, sign: v3("registered-as"), provider: "registered-as", status: 200},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			url := mustServe(t, NewHandler(f, testSecret, WithServerClock(func() time.Time { return now }), WithV1Until(v1End))).URL
			req := signedWith(t, url, path, tt.query, body, now, "n"+strconv.Itoa(i), tt.sign)
			if tt.provider != "" {
				req.Header.Set(HeaderProvider, tt.provider)
			}
			status, we, _ := mustDo(t, req)
			if status != tt.status {
				t.Fatalf("status %d (%+v), want %d", status, we, tt.status)
			}
			if status == 401 && (we.Code != connectors.KindUnauthenticated || !strings.Contains(we.Message, tt.message)) {
				t.Fatalf("got %s %q, want UNAUTHENTICATED with %q", we.Code, we.Message, tt.message)
			}
		})
	}
	t.Run("the client signs v3 and names its provider: a provider that refuses v1 accepts its requests", func(t *testing.T) {
		url := mustServe(t, NewHandler(f, testSecret, WithV1Until(time.Time{}))).URL
		c := mustClient(t, f.desc, url)
		if _, err := c.Stores(ctxTimeout(t, 5*time.Second), []string{"s1"}); err != nil {
			t.Fatal(err)
		}
	})
}

// closedRedis returns a client for a loopback port nothing listens on.
func closedRedis(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond})
	tb.Cleanup(func() { c.Close() })
	return c
}

func TestSharedReplayCache(t *testing.T) {
	f := newFake("replay", connectors.VerticalGrocery)
	const body = `{"ids":["s1"]}`
	sign := func(ts, nonce string) string {
		return SignV2(testSecret, ts, nonce, http.MethodPost, PathGroceryStores, "", []byte(body))
	}
	t.Run("a request accepted by one instance is refused as a replay by another", func(t *testing.T) {
		client, prefix := cachetest.Redis(t), cachetest.Prefix(t)
		a := mustServe(t, NewHandler(f, testSecret, WithReplayCache(NewRedisReplayCache(client, prefix, 0)))).URL
		b := mustServe(t, NewHandler(f, testSecret, WithReplayCache(NewRedisReplayCache(client, prefix, 0)))).URL
		now := time.Now()
		if status, we, _ := mustDo(t, signedWith(t, a, PathGroceryStores, "", body, now, "shared-1", sign)); status != 200 {
			t.Fatalf("instance A: status %d %+v", status, we)
		}
		status, we, _ := mustDo(t, signedWith(t, b, PathGroceryStores, "", body, now, "shared-1", sign))
		if status != 401 || we.Message != "replayed request" {
			t.Fatalf("instance B: status %d %+v, want 401 replayed request", status, we)
		}
		ttl, err := client.TTL(ctxTimeout(t, 5*time.Second), prefix+hexPrefix(t, sign(strconv.FormatInt(now.Unix(), 10), "shared-1"))).Result()
		if err != nil || ttl <= DefaultReplayWindow || ttl > 2*DefaultReplayWindow {
			t.Fatalf("key TTL %v (%v), want within two replay windows", ttl, err)
		}
	})
	t.Run("a replay check that cannot reach Redis is refused with 503 and Retry-After", func(t *testing.T) {
		url := mustServe(t, NewHandler(f, testSecret, WithReplayCache(NewRedisReplayCache(closedRedis(t), "plaza:test:closed:", 0)))).URL
		status, we, h := mustDo(t, signedWith(t, url, PathGroceryStores, "", body, time.Now(), "down-1", sign))
		if status != http.StatusServiceUnavailable || we.Code != connectors.KindUnavailable || !we.Retryable || h.Get("Retry-After") != "2" {
			t.Fatalf("status %d %+v Retry-After %q, want 503 PROVIDER_UNAVAILABLE retryable with Retry-After 2", status, we, h.Get("Retry-After"))
		}
	})
	t.Run("a bad signature is refused before Redis is asked", func(t *testing.T) {
		url := mustServe(t, NewHandler(f, testSecret, WithReplayCache(NewRedisReplayCache(closedRedis(t), "plaza:test:closed:", 0)))).URL
		req := signedWith(t, url, PathGroceryStores, "", body, time.Now(), "down-2", func(ts, n string) string { return SignV2("wrong", ts, n, "POST", PathGroceryStores, "", []byte(body)) })
		if status, we, _ := mustDo(t, req); status != 401 {
			t.Fatalf("status %d %+v, want 401", status, we)
		}
	})
}

// hexPrefix returns the 32 hex digits a v2 signature value is stored under.
func hexPrefix(tb testing.TB, sig string) string {
	tb.Helper()
	h := strings.TrimPrefix(sig, "v2=")
	if len(h) < 32 {
		tb.Fatalf("short signature %q", sig)
	}
	return h[:32]
}
