package httpprovider

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// TestMisbehavingProvider points a Client at providers that break the
// contract in one way each; every failure must come back as a
// *connectors.Error of a precise kind, quickly, without a panic.
func TestMisbehavingProvider(t *testing.T) {
	reply := func(status int, body string, hdr ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i+1 < len(hdr); i += 2 {
				w.Header().Set(hdr[i], hdr[i+1])
			}
			w.WriteHeader(status)
			w.Write([]byte(body))
		}
	}
	okA := `{"value":{"id":"a","storeId":"","name":"","description":"","category":"","tags":null,"price":{"amount":1,"currency":"CNY"},"unit":"","stock":0,"origin":"","rating":0,"city":""}}`
	okB := strings.Replace(okA, `"id":"a"`, `"id":"b"`, 1)
	tests := []struct {
		name      string
		h         http.Handler
		want      connectors.Kind
		retryable bool
		check     func(t *testing.T, e *connectors.Error)
	}{
		{name: "fewer results than ids is refused", h: reply(200, `{"results":[`+okA+`]}`), want: connectors.KindProvider},
		{name: "more results than ids is refused", h: reply(200, `{"results":[`+okA+`,`+okB+`,`+okB+`]}`), want: connectors.KindProvider},
		{name: "results out of order are refused", h: reply(200, `{"results":[`+okB+`,`+okA+`]}`), want: connectors.KindProvider},
		{name: "garbage JSON is refused", h: reply(200, `{"results": [{"value": <<<`), want: connectors.KindProvider},
		{name: "an unknown field is refused", h: reply(200, `{"results":[`+okA+`,`+okB+`],"extra":1}`), want: connectors.KindProvider},
		{name: "trailing data is refused", h: reply(200, `{"results":[`+okA+`,`+okB+`]} {}`), want: connectors.KindProvider},
		{name: "an item with neither value nor error is refused", h: reply(200, `{"results":[`+okA+`,{}]}`), want: connectors.KindProvider},
		{name: "an unknown field inside a value is refused", h: reply(200, `{"results":[`+okA+`,{"value":{"id":"b","secretSauce":1}}]}`), want: connectors.KindProvider},
		{name: "a 500 with a plain body is a retryable provider error", h: reply(500, "panic: nil map\ngoroutine 1"), want: connectors.KindProvider, retryable: true,
			check: func(t *testing.T, e *connectors.Error) {
				if strings.Contains(e.Message, "nil map") {
					t.Fatalf("message leaks the body: %q", e.Message)
				}
			}},
		{name: "an unknown error code keeps a generic message", h: reply(418, `{"code":"TEAPOT","message":"patient 7 has HIV","retryable":false}`), want: connectors.KindProvider,
			check: func(t *testing.T, e *connectors.Error) {
				if e.Message != "provider error" {
					t.Fatalf("message %q", e.Message)
				}
			}},
		{name: "a known error code keeps the provider's kind and message", h: reply(409, `{"code":"CONFLICT","message":"slot taken","retryable":false}`), want: connectors.KindConflict,
			check: func(t *testing.T, e *connectors.Error) {
				if e.Message != "slot taken" {
					t.Fatalf("message %q", e.Message)
				}
			}},
		{name: "a 429 carries Retry-After", h: reply(429, `{"code":"RATE_LIMITED","message":"slow down","retryable":true}`, "Retry-After", "3"), want: connectors.KindRateLimited, retryable: true,
			check: func(t *testing.T, e *connectors.Error) {
				if e.RetryAfterMs != 3000 {
					t.Fatalf("RetryAfterMs %d", e.RetryAfterMs)
				}
			}},
		{name: "a 503 without a body is unavailable", h: reply(503, ""), want: connectors.KindUnavailable, retryable: true},
		{name: "a 401 is the gateway's problem, not the user's", h: reply(401, `{"code":"UNAUTHENTICATED","message":"bad signature","retryable":false}`), want: connectors.KindProvider},
		{name: "a stall longer than the timeout is a timeout", h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stall(r) }), want: connectors.KindTimeout, retryable: true},
		{name: "a stall in the middle of the body is a timeout", h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			w.Write([]byte(`{"results":[`))
			w.(http.Flusher).Flush()
			stall(r)
		}), want: connectors.KindTimeout, retryable: true},
		{name: "injected garbage is refused", h: Inject(http.NotFoundHandler(), Faults{FailRate: 1, Mode: FaultGarbage}), want: connectors.KindProvider},
		{name: "an injected failure is unavailable", h: Inject(http.NotFoundHandler(), Faults{FailRate: 1}), want: connectors.KindUnavailable, retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustClient(t, connectors.Descriptor{ID: "bad", Vertical: connectors.VerticalGrocery}, mustServe(t, tt.h).URL,
				func(cfg *Config) { cfg.Timeout = 200 * time.Millisecond })
			start := time.Now()
			res, err := c.Products(ctxTimeout(t, 5*time.Second), []string{"a", "b"})
			if res != nil {
				t.Fatalf("got results %v with the error", res)
			}
			e := mustKind(t, err, tt.want, "bad")
			if e.Retryable != tt.retryable {
				t.Fatalf("retryable %v, want %v", e.Retryable, tt.retryable)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("took %v", d)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

// stall holds a request until the client hangs up, or 3s so a broken client
// cannot hang the test run.
func stall(r *http.Request) {
	io.Copy(io.Discard, r.Body) // net/http notices a hang-up only once the body is read
	select {
	case <-r.Context().Done():
	case <-time.After(3 * time.Second):
	}
}

func TestOversizedReply(t *testing.T) {
	var written atomic.Int64
	srv := mustServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.Write([]byte(`{"results":[{"value":{"id":"`))
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for written.Load() < 100<<20 { // 100 MB, unless the client hangs up first
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	c := mustClient(t, connectors.Descriptor{ID: "huge", Vertical: connectors.VerticalGrocery}, srv.URL, func(cfg *Config) { cfg.MaxResponseBytes = 1 << 20 })
	start := time.Now()
	_, err := c.Products(ctxTimeout(t, 10*time.Second), []string{"a"})
	mustKind(t, err, connectors.KindProvider, "huge")
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v to refuse the reply", d)
	}
	srv.Close() // waits for the handler: it must have stopped long before 100 MB
	if n := written.Load(); n >= 100<<20 {
		t.Fatalf("client read the whole %d bytes", n)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := mustClient(t, connectors.Descriptor{ID: "gone", Vertical: connectors.VerticalMedical}, "http://"+addr)
	_, err = c.Doctors(ctxTimeout(t, 2*time.Second), []string{"d1"})
	e := mustKind(t, err, connectors.KindUnavailable, "gone")
	if !e.Retryable {
		t.Fatal("not retryable")
	}
}

func TestCallerDeadline(t *testing.T) {
	f := newFake("slow", connectors.VerticalGrocery)
	slow := Inject(NewHandler(f, testSecret), Faults{Latency: time.Second})
	c := mustClient(t, f.desc, mustServe(t, slow).URL)
	start := time.Now()
	_, err := c.Stores(ctxTimeout(t, 150*time.Millisecond), []string{"s1"})
	mustKind(t, err, connectors.KindTimeout, "slow")
	if d := time.Since(start); d > 600*time.Millisecond {
		t.Fatalf("took %v past a 150ms deadline", d)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	good := Config{ID: "p1", Vertical: connectors.VerticalLegal, BaseURL: "http://127.0.0.1:1", Secret: "s"}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"an invalid provider id", func(c *Config) { c.ID = "Bad ID" }},
		{"an unknown vertical", func(c *Config) { c.Vertical = "FOOD" }},
		{"a relative base URL", func(c *Config) { c.BaseURL = "/v1" }},
		{"a non-http base URL", func(c *Config) { c.BaseURL = "ftp://x" }},
		{"an empty secret", func(c *Config) { c.Secret = "" }},
		{"a negative MaxBatch", func(c *Config) { c.MaxBatch = -1 }},
	}
	if c, err := New(good); err != nil || c.timeout != DefaultTimeout || c.maxResp != DefaultMaxResponseBytes {
		t.Fatalf("good config: %v %+v", err, c)
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			cfg := good
			tt.mod(&cfg)
			if _, err := New(cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestRegistryAcceptsClient(t *testing.T) {
	c := mustClient(t, connectors.Descriptor{ID: "reg", Vertical: connectors.VerticalPublicService}, "http://127.0.0.1:1")
	r, err := connectors.NewRegistry(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.PublicService("reg"); err != nil {
		t.Fatal(err)
	}
}
