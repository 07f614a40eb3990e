package httpprovider_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// replyTransport answers every request with one canned reply, in memory: the
// fuzzer needs tens of thousands of replies a second, which a loopback
// listener cannot give; the HTTP path itself is covered by the other tests.
type replyTransport struct {
	status     int
	retryAfter string
	body       []byte
}

func (t replyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if t.retryAfter != "" {
		h.Set("Retry-After", t.retryAfter)
	}
	return &http.Response{StatusCode: t.status, Header: h, Body: io.NopCloser(bytes.NewReader(t.body)),
		ContentLength: int64(len(t.body)), Request: req}, nil
}

// statuses are the reply codes the fuzzer picks from.
var statuses = []int{200, 200, 200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504}

// FuzzProviderReply sends arbitrary replies to the grocery client's batch,
// search, list and mutation calls. It must never panic; every failure must
// be a *connectors.Error naming the provider with a known kind; a success
// must line up with the request (one result per ID, each for its own ID);
// and no non-2xx reply may pass as a success.
func FuzzProviderReply(f *testing.F) {
	for _, s := range []struct {
		op     uint8
		status uint8
		body   string
	}{
		{0, 0, `{"results":[{"value":{"id":"p1","storeId":"s1","name":"Milk","category":"dairy","price":{"amount":"1.00","currency":"CNY"},"stock":3}},{"error":{"code":"NOT_FOUND","message":"no such product"}}]}`},
		{0, 0, `{"results":[{"value":{"id":"p2"}},{"value":{"id":"p1"}}]}`},
		{0, 0, `{"results":[{"value":{"id":"p1"},"error":{"code":"NOT_FOUND"}},{}]}`},
		{0, 0, `{"results":[]}`},
		{1, 0, `{"items":[{"id":"p1","name":"Milk"}],"total":1,"nextCursor":"c2"}`},
		{1, 0, `{"items":null,"total":-1}`},
		{2, 0, `{"items":[{"id":"o1","userId":"demo-1","status":"PLACED"}]}`},
		{3, 1, `{"id":"o9","status":"PLACED"}`},
		{0, 11, `{"code":"RATE_LIMITED","message":"slow down","retryable":true}`},
		{1, 12, `{"code":"INTERNAL","message":"pq: SELECT * FROM users"}`},
		{1, 5, `{"code":"INVALID","message":""}`},
		{0, 0, `{"results":[1,2]}`},
		{0, 0, `not json`},
		{0, 0, `{"results":[{"value":{"id":"p1"}},{"value":{"id":"p2"}}]} trailing`},
		{2, 0, ``},
		{1, 0, `{"items":[{"id":"p1","price":{"amount":1e400}}]}`},
	} {
		f.Add(s.op, s.status, "", []byte(s.body))
	}
	f.Add(uint8(0), uint8(11), "120", []byte(`{}`))
	f.Add(uint8(0), uint8(11), "Wed, 21 Oct 2065 07:28:00 GMT", []byte(`{}`))

	f.Fuzz(func(t *testing.T, op, statusIdx uint8, retryAfter string, body []byte) {
		status := statuses[int(statusIdx)%len(statuses)]
		tr := replyTransport{status: status, retryAfter: retryAfter, body: body}
		c, err := httpprovider.New(httpprovider.Config{ID: "fuzz-grocery", Vertical: connectors.VerticalGrocery,
			BaseURL: "http://provider.invalid", Secret: "fuzz-secret"}, httpprovider.WithHTTPClient(&http.Client{Transport: tr}))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		ids := []string{"p1", "p2"}
		switch op % 4 {
		case 0:
			res, err := c.Products(ctx, ids)
			if checkErr(t, status, err) {
				return
			}
			if len(res) != len(ids) {
				t.Fatalf("%d results for %d ids", len(res), len(ids))
			}
			for i, r := range res {
				if r.Err != nil {
					checkKind(t, r.Err)
				} else if r.Value.ID != ids[i] {
					t.Fatalf("result %d is for %q, not %q", i, r.Value.ID, ids[i])
				}
			}
		case 1:
			_, err := c.SearchProducts(ctx, connectors.Query{Text: "milk", First: 5})
			checkErr(t, status, err)
		case 2:
			_, err := c.UserOrders(ctx, "demo-1")
			checkErr(t, status, err)
		case 3:
			_, err := c.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: "demo-1", StoreID: "s1", SlotID: "t1",
				Items: []connectors.OrderLineItem{{ProductID: "p1", Quantity: 1}}, IdempotencyKey: "k1"})
			checkErr(t, status, err)
		}
	})
}

// checkErr checks the outcome of a call that got a reply with status; it
// returns true when the call failed (as it must for a non-2xx status).
func checkErr(tb testing.TB, status int, err error) (failed bool) {
	tb.Helper()
	if err == nil {
		if status < 200 || status > 299 {
			tb.Fatalf("status %d passed as a success", status)
		}
		return false
	}
	checkKind(tb, err)
	return true
}

func checkKind(tb testing.TB, err error) {
	tb.Helper()
	var e *connectors.Error
	if !errors.As(err, &e) {
		tb.Fatalf("untyped error %T: %v", err, err)
	}
	if e.Provider != "fuzz-grocery" {
		tb.Fatalf("error names provider %q: %v", e.Provider, err)
	}
	switch e.Kind {
	case connectors.KindProvider, connectors.KindRateLimited, connectors.KindUnavailable, connectors.KindTimeout,
		connectors.KindNotFound, connectors.KindInvalid, connectors.KindConflict, connectors.KindForbidden:
	default:
		tb.Fatalf("unexpected kind %q: %v", e.Kind, err)
	}
	if e.RetryAfterMs < 0 {
		tb.Fatalf("negative Retry-After: %v", err)
	}
}
