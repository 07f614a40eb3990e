package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/gid"
)

// webhookCall is one request a provider sends to the gateway.
type webhookCall struct {
	method, path string
	signedQuery  string // the query string the provider signed
	sentQuery    string // the query string that arrives (differs when tampered with)
	body         []byte
	secret       string // unsigned when empty
	scheme       httpprovider.Scheme
	nonce        string // random when empty
	// ts is the signed timestamp, now when empty. A replay resends the same
	// one: signing again a second later would make a new signature, not a
	// replay.
	ts string
}

type webhookReply struct {
	status     int
	retryAfter string
	code       string
	message    string
}

// send signs c the way a provider does and returns what the provider reads.
func (c webhookCall) send(tb testing.TB, baseURL string) webhookReply {
	tb.Helper()
	target := baseURL + c.path
	if c.sentQuery != "" {
		target += "?" + c.sentQuery
	}
	req, err := http.NewRequest(c.method, target, bytes.NewReader(c.body))
	if err != nil {
		tb.Fatal(err)
	}
	ts := c.ts
	if ts == "" {
		ts = strconv.FormatInt(time.Now().Unix(), 10)
	}
	nonce := c.nonce
	if nonce == "" {
		nonce = rand.Text()
	}
	sig := httpprovider.SignV2(c.secret, ts, nonce, c.method, c.path, c.signedQuery, c.body)
	if c.scheme == httpprovider.SchemeV1 {
		sig = httpprovider.Sign(c.secret, ts, nonce, c.method, c.path, c.body)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.secret != "" {
		req.Header.Set(httpprovider.HeaderTimestamp, ts)
		req.Header.Set(httpprovider.HeaderNonce, nonce)
		req.Header.Set(httpprovider.HeaderSignature, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := webhookReply{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	var body struct {
		Errors []struct {
			Message    string            `json:"message"`
			Extensions map[string]string `json:"extensions"`
		} `json:"errors"`
	}
	if len(raw) > 0 && json.Unmarshal(raw, &body) == nil && len(body.Errors) == 1 {
		out.code, out.message = body.Errors[0].Extensions["code"], body.Errors[0].Message
	}
	return out
}

func invalidateCall(scheme httpprovider.Scheme) webhookCall {
	return webhookCall{method: http.MethodPost, path: "/providers/freshcart/invalidate", body: []byte(`{"ids":["` + productGID + `"]}`),
		secret: "fresh-secret", scheme: scheme}
}

// productGID is a global id of freshcart's (a demo provider), so the
// invalidation is in its scope.
var productGID = gid.Encode(gid.Product, "freshcart", "p-000002")

func statsCall(scheme httpprovider.Scheme, signed, sent string) webhookCall {
	return webhookCall{method: http.MethodGet, path: "/providers/freshcart/stats", signedQuery: signed, sentQuery: sent,
		secret: "fresh-secret", scheme: scheme}
}

func webhookGateway(tb testing.TB, extra ...api.Option) (*apitest.Gateway, *prometheus.Registry) {
	tb.Helper()
	reg := prometheus.NewRegistry()
	opts := append([]api.Option{
		api.WithMetrics(reg),
		api.WithProviderSecrets(func(p string) (string, bool) { return "fresh-secret", p == "freshcart" }),
		api.WithProviderStats(func(_ context.Context, _ string, from, to time.Time) (any, error) {
			return map[string]any{"hours": to.Sub(from).Hours()}, nil
		}),
	}, extra...)
	return apitest.Start(tb, apitest.Options{APIOptions: opts}), reg
}

func TestWebhookSignatureSchemes(t *testing.T) {
	open, openReg := webhookGateway(t, api.WithSignatureV1Until(time.Now().Add(time.Hour)))
	closed, _ := webhookGateway(t, api.WithSignatureV1Until(time.Now().Add(-time.Second)))
	day := "from=" + url.QueryEscape("2026-11-01T00:00:00Z") + "&to=" + url.QueryEscape("2026-11-02T00:00:00Z")
	month := "from=" + url.QueryEscape("2026-10-03T00:00:00Z") + "&to=" + url.QueryEscape("2026-11-02T00:00:00Z")
	tests := []struct {
		name    string
		gw      *apitest.Gateway
		call    webhookCall
		status  int
		message string
	}{
		{"a v2 stats request with the query it signed is answered", open, statsCall(httpprovider.SchemeV2, day, day), 200, ""},
		{"a v2 stats request whose query string was changed in flight is refused", open, statsCall(httpprovider.SchemeV2, day, month), 401, "bad signature"},
		{"a v2 stats request with a query string added in flight is refused", open, statsCall(httpprovider.SchemeV2, "", day), 401, "bad signature"},
		{"a v2 invalidation is accepted", open, invalidateCall(httpprovider.SchemeV2), 204, ""},
		{"a v1 invalidation inside the transition window is accepted", open, invalidateCall(httpprovider.SchemeV1), 204, ""},
		{"a v1 stats request inside the window is answered (v1 does not cover the query)", open, statsCall(httpprovider.SchemeV1, "", day), 200, ""},
		{"a v1 invalidation after the transition window is refused saying to sign with v2", closed, invalidateCall(httpprovider.SchemeV1), 401,
			"signature scheme v1 is no longer accepted (its transition window ended "},
		{"a v2 invalidation after the transition window is accepted", closed, invalidateCall(httpprovider.SchemeV2), 204, ""},
		{"another provider's path is refused", open, webhookCall{method: http.MethodPost, path: "/providers/greenbasket/invalidate",
			body: []byte(`{"ids":["x"]}`), secret: "fresh-secret", scheme: httpprovider.SchemeV2}, 401, "unknown provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.call.send(t, tt.gw.URL)
			if got.status != tt.status {
				t.Fatalf("status %d (%s %q), want %d", got.status, got.code, got.message, tt.status)
			}
			if tt.status == 401 && (got.code != "UNAUTHENTICATED" || !strings.Contains(got.message, tt.message)) {
				t.Fatalf("got %s %q, want UNAUTHENTICATED with %q", got.code, got.message, tt.message)
			}
		})
	}
	t.Run("the metric counts requests by scheme and result, never by provider", func(t *testing.T) {
		want := map[string]float64{"v1/accepted": 2, "v2/accepted": 2, "v2/refused": 2, "none/refused": 1}
		got := map[string]float64{}
		families, err := openReg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() != "plaza_provider_webhook_signatures_total" {
				continue
			}
			for _, m := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if len(labels) != 2 || labels["scheme"] == "" || labels["result"] == "" {
					t.Fatalf("labels %v, want exactly scheme and result", labels)
				}
				got[labels["scheme"]+"/"+labels["result"]] = m.GetCounter().GetValue()
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
			}
		}
	})
}

func TestWebhookReplayAcrossInstances(t *testing.T) {
	client, prefix := cachetest.Redis(t), cachetest.Prefix(t)
	shared := func() api.Option {
		return api.WithWebhookReplayCache(httpprovider.NewRedisReplayCache(client, prefix, httpprovider.DefaultReplayWindow))
	}
	a, _ := webhookGateway(t, shared())
	b, _ := webhookGateway(t, shared())
	for _, scheme := range []httpprovider.Scheme{httpprovider.SchemeV2, httpprovider.SchemeV1} {
		t.Run("an invalidation signed with "+string(scheme)+" accepted by instance A is refused as a replay by instance B", func(t *testing.T) {
			call := invalidateCall(scheme)
			call.nonce, call.ts = rand.Text(), strconv.FormatInt(time.Now().Unix(), 10)
			if got := call.send(t, a.URL); got.status != http.StatusNoContent {
				t.Fatalf("instance A: %+v, want 204", got)
			}
			got := call.send(t, b.URL)
			if got.status != http.StatusUnauthorized || got.code != "UNAUTHENTICATED" || got.message != "replayed request" {
				t.Fatalf("instance B: %+v, want 401 UNAUTHENTICATED replayed request", got)
			}
			if got := call.send(t, a.URL); got.status != http.StatusUnauthorized {
				t.Fatalf("instance A again: %+v, want 401", got)
			}
		})
	}
	t.Run("without Redis each instance remembers only what it saw (one-instance gateways)", func(t *testing.T) {
		solo, _ := webhookGateway(t)
		call := invalidateCall(httpprovider.SchemeV2)
		call.nonce, call.ts = rand.Text(), strconv.FormatInt(time.Now().Unix(), 10)
		if got := call.send(t, solo.URL); got.status != http.StatusNoContent {
			t.Fatalf("first: %+v", got)
		}
		if got := call.send(t, solo.URL); got.status != http.StatusUnauthorized || got.message != "replayed request" {
			t.Fatalf("replay on the same instance: %+v, want 401 replayed request", got)
		}
	})
}

func TestWebhookRedisDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now: Redis is down
	down := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { down.Close() })
	g, reg := webhookGateway(t, api.WithWebhookReplayCache(httpprovider.NewRedisReplayCache(down, "plaza:test:down:", 0)))
	for _, call := range []webhookCall{invalidateCall(httpprovider.SchemeV2), statsCall(httpprovider.SchemeV2, "", "")} {
		t.Run(call.method+" "+call.path+" fails closed with 503 and Retry-After so the provider retries", func(t *testing.T) {
			got := call.send(t, g.URL)
			if got.status != http.StatusServiceUnavailable || got.retryAfter != "5" || got.code != "PROVIDER_UNAVAILABLE" {
				t.Fatalf("got %+v, want 503 PROVIDER_UNAVAILABLE with Retry-After 5", got)
			}
		})
	}
	t.Run("a request with a bad signature is still 401 (Redis is not asked)", func(t *testing.T) {
		call := invalidateCall(httpprovider.SchemeV2)
		call.secret = "wrong"
		if got := call.send(t, g.URL); got.status != http.StatusUnauthorized {
			t.Fatalf("got %+v, want 401", got)
		}
	})
	families, _ := reg.Gather()
	var unavailable float64
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if f.GetName() == "plaza_provider_webhook_signatures_total" && strings.Contains(m.String(), `value:"unavailable"`) {
				unavailable += m.GetCounter().GetValue()
			}
		}
	}
	if unavailable != 2 {
		t.Fatalf("unavailable count %v, want 2", unavailable)
	}
}
