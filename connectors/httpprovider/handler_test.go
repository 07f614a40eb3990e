package httpprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// signedRequest builds a request signed the way Client signs.
func signedRequest(tb testing.TB, url, method, path, body, secret string, ts time.Time, nonce string) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(method, url+path, bytes.NewReader([]byte(body)))
	if err != nil {
		tb.Fatal(err)
	}
	t := strconv.FormatInt(ts.Unix(), 10)
	req.Header.Set(HeaderTimestamp, t)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, SignV2(secret, t, nonce, method, path, "", []byte(body)))
	return req
}

// mustDo sends req and returns the status and the decoded error model (zero
// on success).
func mustDo(tb testing.TB, req *http.Request) (int, wireError, http.Header) {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var we wireError
	if resp.StatusCode >= 300 {
		if err := decodeStrict(data, &we); err != nil {
			tb.Fatalf("status %d with a body outside the error model: %q", resp.StatusCode, data)
		}
	}
	return resp.StatusCode, we, resp.Header
}

func TestHandlerAuthentication(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	f := newFake("auth", connectors.VerticalGrocery)
	url := mustServe(t, NewHandler(f, testSecret, WithServerClock(func() time.Time { return now }))).URL
	body := `{"ids":["s1"]}`
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"accepts a correctly signed request", func() *http.Request {
			return signedRequest(t, url, "POST", PathGroceryStores, body, testSecret, now, "n1")
		}, 200},
		{"refuses a replay of that request", func() *http.Request {
			return signedRequest(t, url, "POST", PathGroceryStores, body, testSecret, now, "n1")
		}, 401},
		{"accepts the same body with a new nonce", func() *http.Request {
			return signedRequest(t, url, "POST", PathGroceryStores, body, testSecret, now, "n2")
		}, 200},
		{"refuses a wrong secret", func() *http.Request {
			return signedRequest(t, url, "POST", PathGroceryStores, body, "other", now, "n3")
		}, 401},
		{"refuses a body changed after signing", func() *http.Request {
			r := signedRequest(t, url, "POST", PathGroceryStores, body, testSecret, now, "n4")
			r.Body = io.NopCloser(bytes.NewReader([]byte(`{"ids":["s2"]}`)))
			return r
		}, 401},
		{"refuses a signature for another path", func() *http.Request {
			r := signedRequest(t, url, "POST", PathGroceryOrders, body, testSecret, now, "n5")
			r.URL.Path = PathGroceryStores
			return r
		}, 401},
		{"refuses a request older than the window", func() *http.Request {
			return signedRequest(t, url, "POST", PathGroceryStores, body, testSecret, now.Add(-6*time.Minute), "n6")
		}, 401},
		{"refuses a request from too far in the future", func() *http.Request {
			return signedRequest(t, url, "POST", PathGroceryStores, body, testSecret, now.Add(6*time.Minute), "n7")
		}, 401},
		{"refuses a request without signature headers", func() *http.Request {
			r, _ := http.NewRequest("POST", url+PathGroceryStores, bytes.NewReader([]byte(body)))
			return r
		}, 401},
		{"refuses a malformed signature", func() *http.Request {
			r := signedRequest(t, url, "POST", PathGroceryStores, body, testSecret, now, "n8")
			r.Header.Set(HeaderSignature, "zz")
			return r
		}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, we, _ := mustDo(t, tt.req())
			if status != tt.status {
				t.Fatalf("status %d (%+v), want %d", status, we, tt.status)
			}
			if status == 401 && we.Code != connectors.KindUnauthenticated {
				t.Fatalf("code %s", we.Code)
			}
		})
	}
	t.Run("a client replaying its own nonce is refused", func(t *testing.T) {
		c := mustClient(t, f.desc, url, func(*Config) {})
		WithClock(func() time.Time { return now })(c)
		WithNonceSource(bytes.NewReader(make([]byte, 64)))(c) // two identical zero nonces
		if _, err := c.Stores(context.Background(), []string{"s1"}); err != nil {
			t.Fatal(err)
		}
		_, err := c.Stores(context.Background(), []string{"s1"})
		mustKind(t, err, connectors.KindProvider, "auth")
	})
}

func TestHandlerWithoutSecret(t *testing.T) {
	f := newFake("open", connectors.VerticalLegal)
	plain := func(url string) *http.Request {
		r, _ := http.NewRequest("POST", url+PathLegalLawyers, bytes.NewReader([]byte(`{"ids":["l1"]}`)))
		return r
	}
	t.Run("fails closed by default", func(t *testing.T) {
		url := mustServe(t, NewHandler(f, "")).URL
		if status, _, _ := mustDo(t, plain(url)); status != 401 {
			t.Fatalf("status %d", status)
		}
	})
	t.Run("serves unsigned requests when allowed", func(t *testing.T) {
		url := mustServe(t, NewHandler(f, "", AllowUnsigned())).URL
		if status, we, _ := mustDo(t, plain(url)); status != 200 {
			t.Fatalf("status %d %+v", status, we)
		}
	})
}

func TestHandlerRequests(t *testing.T) {
	f := newFake("req", connectors.VerticalGrocery)
	f.desc.MaxBatch = 2
	url := mustServe(t, NewHandler(f, testSecret, WithMaxBodyBytes(256))).URL
	n := 0
	send := func(method, path, body string, hdr ...string) (int, wireError, http.Header) {
		n++
		r := signedRequest(t, url, method, path, body, testSecret, time.Now(), "n"+strconv.Itoa(n))
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return mustDo(t, r)
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		hdr    []string
		status int
		code   connectors.Kind
	}{
		{"an unknown field is a bad request", "POST", PathGroceryStores, `{"ids":["s1"],"idz":[]}`, nil, 400, connectors.KindInvalid},
		{"trailing data is a bad request", "POST", PathGroceryStores, `{"ids":["s1"]}{}`, nil, 400, connectors.KindInvalid},
		{"a batch over the provider's MaxBatch is a bad request", "POST", PathGroceryStores, `{"ids":["a","b","c"]}`, nil, 400, connectors.KindInvalid},
		{"a body over the cap is refused", "POST", PathGroceryStores, `{"ids":["` + string(bytes.Repeat([]byte("a"), 300)) + `"]}`, nil, 413, connectors.KindInvalid},
		{"an unknown path is not found", "POST", "/v1/grocery/nothing", `{}`, nil, 404, connectors.KindNotFound},
		{"another vertical's path is not found", "POST", PathMedicalDoctors, `{"ids":["d1"]}`, nil, 404, connectors.KindNotFound},
		{"a wrong method is refused", "GET", PathGroceryStores, ``, nil, 405, connectors.KindInvalid},
		{"a list without a user is a bad request", "POST", PathGroceryUserOrders, `{"userId":""}`, nil, 400, connectors.KindInvalid},
		{"a malformed deadline is a bad request", "POST", PathGroceryStores, `{"ids":["s1"]}`, []string{HeaderDeadline, "soon"}, 400, connectors.KindInvalid},
		{"a zero deadline has already passed", "POST", PathGroceryStores, `{"ids":["s1"]}`, []string{HeaderDeadline, "0"}, 504, connectors.KindTimeout},
		{"a domain conflict is 409 with the connector's message", "POST", PathGroceryPlaceOrder, `{"userId":"u1","storeId":"s1","slotId":"x","items":[{"productId":"p1","quantity":9}]}`, nil, 409, connectors.KindConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, we, _ := send(tt.method, tt.path, tt.body, tt.hdr...)
			if status != tt.status || we.Code != tt.code {
				t.Fatalf("got %d %+v, want %d %s", status, we, tt.status, tt.code)
			}
		})
	}
	t.Run("the deadline header becomes the connector's deadline", func(t *testing.T) {
		if status, we, _ := send("POST", PathGroceryStores, `{"ids":["s1"]}`, HeaderDeadline, "150"); status != 200 {
			t.Fatalf("status %d %+v", status, we)
		}
		if f.deadline <= 0 || f.deadline > 150*time.Millisecond {
			t.Fatalf("connector saw deadline %v", f.deadline)
		}
	})
	t.Run("a connector outliving the deadline header gets 504", func(t *testing.T) {
		slow := mustServe(t, NewHandler(blocker{f}, testSecret)).URL
		r := signedRequest(t, slow, "POST", PathGroceryStores, `{"ids":["s1"]}`, testSecret, time.Now(), "slow")
		r.Header.Set(HeaderDeadline, "100")
		start := time.Now()
		status, we, _ := mustDo(t, r)
		if status != 504 || we.Code != connectors.KindTimeout || !we.Retryable {
			t.Fatalf("got %d %+v", status, we)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("took %v", d)
		}
	})
}

// blocker is a grocery provider whose Stores waits for its context to end.
type blocker struct{ *fake }

func (b blocker) Stores(ctx context.Context, _ []string) ([]connectors.Result[connectors.Store], error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestHandlerErrorMapping(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		code       connectors.Kind
		message    string
		retryAfter string
	}{
		{"not found is 404", connectors.Errorf(connectors.KindNotFound, "store gone"), 404, connectors.KindNotFound, "store gone", ""},
		{"invalid is 400", connectors.Errorf(connectors.KindInvalid, "bad city"), 400, connectors.KindInvalid, "bad city", ""},
		{"conflict is 409", connectors.Errorf(connectors.KindConflict, "slot taken"), 409, connectors.KindConflict, "slot taken", ""},
		{"rate limited is 429 with Retry-After rounded up", &connectors.Error{Kind: connectors.KindRateLimited, Message: "slow", RetryAfterMs: 2500}, 429, connectors.KindRateLimited, "slow", "3"},
		{"rate limited without a hint says 1 second", connectors.Errorf(connectors.KindRateLimited, "slow"), 429, connectors.KindRateLimited, "slow", "1"},
		{"unavailable is 503", connectors.Errorf(connectors.KindUnavailable, "maintenance"), 503, connectors.KindUnavailable, "maintenance", ""},
		{"internal is 500 and its message stays inside", connectors.Errorf(connectors.KindInternal, "db password is hunter2"), 500, connectors.KindInternal, "internal error", ""},
		{"an untyped error is 500 and its text stays inside", errors.New("patient 7 record corrupt"), 500, connectors.KindInternal, "internal error", ""},
		{"a provider error is 500 with a generic message", &connectors.Error{Kind: connectors.KindProvider, Message: "upstream said: user 7 ..."}, 500, connectors.KindProvider, "provider error", ""},
		{"a context deadline is 504", context.DeadlineExceeded, 504, connectors.KindTimeout, "provider timed out", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("errs", connectors.VerticalPublicService)
			f.fail = tt.err
			url := mustServe(t, NewHandler(f, testSecret)).URL
			status, we, hdr := mustDo(t, signedRequest(t, url, "POST", PathPublicServices, `{"ids":["g1"]}`, testSecret, time.Now(), "n"))
			if status != tt.status || we.Code != tt.code || we.Message != tt.message {
				t.Fatalf("got %d %+v, want %d %s %q", status, we, tt.status, tt.code, tt.message)
			}
			if got := hdr.Get("Retry-After"); got != tt.retryAfter {
				t.Fatalf("Retry-After %q, want %q", got, tt.retryAfter)
			}
		})
	}
}

func TestHandlerRecoversPanics(t *testing.T) {
	url := mustServe(t, NewHandler(panicker{newFake("boom", connectors.VerticalLegal)}, testSecret)).URL
	status, we, _ := mustDo(t, signedRequest(t, url, "POST", PathLegalLawyers, `{"ids":["l1"]}`, testSecret, time.Now(), "n"))
	if status != 500 || we.Code != connectors.KindInternal || we.Message != "internal error" {
		t.Fatalf("got %d %+v", status, we)
	}
}

type panicker struct{ *fake }

func (panicker) Lawyers(context.Context, []string) ([]connectors.Result[connectors.Lawyer], error) {
	panic("secret internals")
}

func TestStats(t *testing.T) {
	f := newFake("count", connectors.VerticalGrocery)
	stats := NewStats()
	mux := http.NewServeMux()
	mux.Handle(PathStats, stats)
	mux.Handle("/", stats.Count(NewHandler(f, testSecret)))
	srv := mustServe(t, mux)
	c := mustClient(t, f.desc, srv.URL)
	for range 3 {
		if _, err := c.Products(context.Background(), []string{"p1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + PathStats + "?x=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep StatsReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if rep.Calls["POST "+PathGroceryProducts] != 3 || rep.Calls["GET "+PathHealth] != 1 || rep.Total != 4 {
		t.Fatalf("got %+v", rep)
	}
}
