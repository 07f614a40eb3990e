package httpprovider_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// TestBatchReplyDecoding pins what the client accepts in a batch reply and
// what it calls malformed, now that replies are decoded in one pass: a
// present-but-null value is a valid empty answer (a store with no slots), a
// missing one is not, and unknown fields or trailing bytes fail the call.
func TestBatchReplyDecoding(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		wantErr    string // substring of the call's error; "" for success
		check      func(t *testing.T, res []connectors.Result[[]connectors.DeliverySlot])
	}{
		{name: "null value is no slots", body: `{"results":[{"value":null},{"value":[{"id":"t1","storeId":"s2","start":"2026-11-30T09:00:00Z","end":"2026-11-30T11:00:00Z","capacity":5,"remaining":2}]}]}`,
			check: func(t *testing.T, res []connectors.Result[[]connectors.DeliverySlot]) {
				if res[0].Err != nil || len(res[0].Value) != 0 {
					t.Fatalf("store 1: %+v", res[0])
				}
				if res[1].Err != nil || len(res[1].Value) != 1 || res[1].Value[0].ID != "t1" {
					t.Fatalf("store 2: %+v", res[1])
				}
			}},
		{name: "item error", body: `{"results":[{"error":{"code":"NOT_FOUND","message":"no such store"}},{"value":[]}]}`,
			check: func(t *testing.T, res []connectors.Result[[]connectors.DeliverySlot]) {
				if connectors.KindOf(res[0].Err) != connectors.KindNotFound || res[1].Err != nil {
					t.Fatalf("got %+v", res)
				}
			}},
		{name: "a value, then an item error", body: `{"results":[{"value":[{"id":"t1","storeId":"s1","start":"2026-11-30T09:00:00Z","end":"2026-11-30T11:00:00Z","capacity":5,"remaining":2}]},{"error":{"code":"NOT_FOUND","message":"no such store"}}]}`,
			check: func(t *testing.T, res []connectors.Result[[]connectors.DeliverySlot]) {
				if res[0].Err != nil || len(res[0].Value) != 1 || res[0].Value[0].ID != "t1" || res[0].Value[0].Remaining != 2 {
					t.Fatalf("store 1: %+v", res[0])
				}
				if connectors.KindOf(res[1].Err) != connectors.KindNotFound || res[1].Value != nil {
					t.Fatalf("store 2: %+v", res[1])
				}
			}},
		{name: "neither value nor error", body: `{"results":[{},{"value":[]}]}`, wantErr: "neither or both"},
		{name: "both value and error", body: `{"results":[{"value":[],"error":{"code":"NOT_FOUND"}},{"value":[]}]}`, wantErr: "neither or both"},
		{name: "unknown field in a value", body: `{"results":[{"value":[{"id":"t1","bogus":1}]},{"value":[]}]}`, wantErr: "bogus"},
		{name: "unknown envelope field", body: `{"results":[{"value":[]},{"value":[]}],"extra":true}`, wantErr: "extra"},
		{name: "trailing data", body: `{"results":[{"value":[]},{"value":[]}]} {}`, wantErr: "trailing data"},
		{name: "wrong count", body: `{"results":[{"value":[]}]}`, wantErr: "1 results for 2 ids"},
		{name: "not JSON", body: `<html>oops</html>`, wantErr: "malformed"},
		{name: "wrong type", body: `{"results":[{"value":{"id":"t1"}},{"value":[]}]}`, wantErr: "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := replyingGrocer(t, tc.body)
			res, err := c.DeliverySlots(context.Background(), []string{"s1", "s2"})
			if tc.wantErr != "" {
				wantProviderError(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, res)
		})
	}
}

// BenchmarkProductsReply is the client's cost of one 50-product batch reply
// (signing, the in-memory round trip, decoding and checks), the gateway's
// per-call hot path; run with GOMAXPROCS=1 -benchmem.
func BenchmarkProductsReply(b *testing.B) {
	var body strings.Builder
	ids := make([]string, 50)
	body.WriteString(`{"results":[`)
	for i := range ids {
		ids[i] = "p" + strconv.Itoa(i)
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"value":{"id":%q,"storeId":"s1","name":"Organic whole milk %d","description":"Fresh whole milk from grass-fed cows, pasteurised and bottled the same day.","category":"dairy","tags":["milk","organic","fresh"],"price":{"amount":1250,"currency":"CNY"},"unit":"1 l","stock":42,"origin":"Inner Mongolia","rating":4.6,"city":"Hangzhou"}}`, ids[i], i)
	}
	body.WriteString(`]}`)
	c, err := httpprovider.New(httpprovider.Config{ID: "bench-grocery", Vertical: connectors.VerticalGrocery,
		BaseURL: "http://provider.invalid", Secret: "s"},
		httpprovider.WithHTTPClient(&http.Client{Transport: replyTransport{status: 200, body: []byte(body.String())}}))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.Products(context.Background(), ids)
		if err != nil || len(res) != 50 || res[49].Err != nil {
			b.Fatalf("%v %+v", err, res)
		}
	}
}

// TestProductReplyDecodedInPlace: product replies are first decoded straight
// into the results (values with IDs, no item errors); every other reply
// must get what the one-pass decoding gives it, however far the first pass
// got before it gave up.
func TestProductReplyDecodedInPlace(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		wantErr    string // substring of the call's error; "" for success
		want       []string
	}{
		{name: "values", body: `{"results":[{"value":{"id":"p1","name":"milk","tags":["a"]}},{"value":{"id":"p2","name":"eggs"}}]}`,
			want: []string{"p1 milk [a]", "p2 eggs []"}},
		{name: "a value, then an item error", body: `{"results":[{"value":{"id":"p1","name":"milk"}},{"error":{"code":"NOT_FOUND","message":"gone"}}]}`,
			want: []string{"p1 milk []", "error NOT_FOUND"}},
		{name: "a value, then none", body: `{"results":[{"value":{"id":"p1"}},{}]}`, wantErr: "neither or both"},
		{name: "a value, then a null", body: `{"results":[{"value":{"id":"p1"}},{"value":null}]}`, wantErr: `result 1 is for id ""`},
		{name: "a value and an error", body: `{"results":[{"value":{"id":"p1"}},{"value":{"id":"p2"},"error":{"code":"NOT_FOUND"}}]}`, wantErr: "neither or both"},
		{name: "a value without an ID", body: `{"results":[{"value":{"id":"p1"}},{"value":{"name":"eggs"}}]}`, wantErr: `result 1 is for id ""`},
		{name: "another key's value", body: `{"results":[{"value":{"id":"p2"}},{"value":{"id":"p1"}}]}`, wantErr: `result 0 is for id "p2"`},
		{name: "unknown field after a value", body: `{"results":[{"value":{"id":"p1"}},{"value":{"id":"p2","bogus":1}}]}`, wantErr: "bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := replyingGrocer(t, tc.body)
			res, err := c.Products(context.Background(), []string{"p1", "p2"})
			if tc.wantErr != "" {
				wantProviderError(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res {
				if r.Err != nil {
					got = append(got, "error "+string(connectors.KindOf(r.Err)))
					continue
				}
				got = append(got, fmt.Sprintf("%s %s %v", r.Value.ID, r.Value.Name, r.Value.Tags))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// replyingGrocer is a grocery provider whose every call is answered 200
// with body.
func replyingGrocer(t *testing.T, body string) *httpprovider.Client {
	t.Helper()
	c, err := httpprovider.New(httpprovider.Config{ID: "decode-grocery", Vertical: connectors.VerticalGrocery,
		BaseURL: "http://provider.invalid", Secret: "s"},
		httpprovider.WithHTTPClient(&http.Client{Transport: replyTransport{status: 200, body: []byte(body)}}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantProviderError fails unless err is a PROVIDER_ERROR containing want.
func wantProviderError(t *testing.T, err error, want string) {
	t.Helper()
	var e *connectors.Error
	if !errors.As(err, &e) || e.Kind != connectors.KindProvider || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want a PROVIDER_ERROR containing %q", err, want)
	}
}
