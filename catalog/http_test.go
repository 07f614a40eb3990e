package catalog_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/supply"
)

const (
	testProvider = "freshcart"
	testSecret   = "catalog-test-secret"
)

// gateway is the push endpoint over an embedded index, as the gateway
// mounts it, with the limits given per provider.
type gateway struct {
	srv   *httptest.Server
	index *supply.Memory
}

func newGateway(t *testing.T, limits map[string]directory.Limits) *gateway {
	t.Helper()
	ix, err := supply.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	in := catalog.New(ix, func(p string) (directory.Limits, bool) { l, ok := limits[p]; return l, ok })
	secrets := func(p string) []string {
		if p == testProvider || p == "greenbasket" {
			return []string{testSecret + "-" + p}
		}
		return nil
	}
	verifier := httpprovider.NewRequestVerifier(httpprovider.NewMemoryReplayCache(httpprovider.DefaultReplayWindow, nil))
	mux := http.NewServeMux()
	mux.Handle(catalog.Pattern, catalog.NewHandler(in, secrets, verifier, nil))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &gateway{srv: srv, index: ix}
}

// push sends body to provider's push endpoint signed with secret (v2) and
// returns the status, the Retry-After header and the body.
func (g *gateway) push(t *testing.T, provider, secret string, body []byte) (int, string, string) {
	t.Helper()
	path := "/providers/" + provider + "/catalog"
	req, err := http.NewRequest(http.MethodPost, g.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var n [16]byte
	rand.Read(n[:])
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), hex.EncodeToString(n[:])
	req.Header.Set(httpprovider.HeaderTimestamp, ts)
	req.Header.Set(httpprovider.HeaderNonce, nonce)
	req.Header.Set(httpprovider.HeaderSignature, httpprovider.SignV2(secret, ts, nonce, http.MethodPost, path, "", body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), strings.TrimSpace(string(data))
}

func item(id string, version int64) connectors.CatalogItem {
	return connectors.CatalogItem{Kind: connectors.CatalogProduct, ID: id, Name: "Whole Milk 1L " + id, Category: "Dairy",
		Tags: []string{"milk"}, Cities: []string{"Hangzhou"}, Price: &connectors.Money{Amount: 1290, Currency: "CNY"},
		Available: true, Rating: 4.5, Version: version}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// indexed lists the keys the index holds, for "nothing else changed".
func indexed(t *testing.T, ix supply.Index) []string {
	t.Helper()
	p, err := ix.Search(context.Background(), supply.Query{First: supply.MaxFirst})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range p.Hits {
		out = append(out, h.Item.Ref().Key())
	}
	return out
}

// TestMalformedPushes shows the provider's answer to each malformed push
// and checks that only the well-formed changes were indexed.
func TestMalformedPushes(t *testing.T) {
	good := item("p-1", 1)
	secret := testSecret + "-" + testProvider
	oversized := connectors.CatalogBatch{}
	for i := range connectors.MaxCatalogBatch + 1 {
		oversized.Upserts = append(oversized.Upserts, item(fmt.Sprintf("p-%d", i), 1))
	}
	cases := []struct {
		name       string
		provider   string
		secret     string
		body       []byte
		wantStatus int
		// wantBody: substrings of the answer, in order.
		wantBody []string
		// wantIndexed: the keys in the index afterwards.
		wantIndexed []string
	}{
		{
			name: "a bad signature is refused with 401 and indexes nothing", provider: testProvider, secret: "not-the-secret",
			body: mustJSON(t, connectors.CatalogBatch{Upserts: []connectors.CatalogItem{good}}), wantStatus: 401,
			wantBody: []string{`"code":"UNAUTHENTICATED"`, `"message":"bad signature"`},
		},
		{
			name: "an unknown provider is refused with 401", provider: "nobody", secret: secret,
			body: mustJSON(t, connectors.CatalogBatch{Upserts: []connectors.CatalogItem{good}}), wantStatus: 401,
			wantBody: []string{`"code":"UNAUTHENTICATED"`, `unknown provider \"nobody\"`},
		},
		{
			name: "an unknown kind is refused on its own; the rest is indexed", provider: testProvider, secret: secret,
			body: mustJSON(t, connectors.CatalogBatch{Upserts: []connectors.CatalogItem{
				good, {Kind: "car", ID: "c-1", Name: "Sedan", Cities: []string{"Hangzhou"}, Version: 1}}}),
			wantStatus: 200,
			wantBody: []string{`{"op":"upsert","kind":"product","id":"p-1","version":1,"outcome":"indexed"}`,
				`{"op":"upsert","kind":"car","id":"c-1","version":1,"outcome":"rejected","error":{"code":"BAD_USER_INPUT","message":"unknown kind \"car\": one of product, store, doctor, lawyer, govService, office"}}`,
				`"indexed":1,"superseded":0,"rejected":1`},
			wantIndexed: []string{"freshcart/product/p-1"},
		},
		{
			name: "a missing id is refused on its own; the rest is indexed", provider: testProvider, secret: secret,
			body:       mustJSON(t, connectors.CatalogBatch{Upserts: []connectors.CatalogItem{item("", 1), good}}),
			wantStatus: 200,
			wantBody: []string{`"outcome":"rejected","error":{"code":"BAD_USER_INPUT","message":"missing id"}`,
				`"id":"p-1","version":1,"outcome":"indexed"`, `"indexed":1,"superseded":0,"rejected":1`},
			wantIndexed: []string{"freshcart/product/p-1"},
		},
		{
			name: "an item of another provider is refused on its own; the rest is indexed", provider: testProvider, secret: secret,
			body: mustJSON(t, connectors.CatalogBatch{Upserts: []connectors.CatalogItem{
				func() connectors.CatalogItem { it := item("p-9", 1); it.Provider = "greenbasket"; return it }(), good}}),
			wantStatus: 200,
			wantBody: []string{`"id":"p-9","version":1,"outcome":"rejected","error":{"code":"FORBIDDEN","message":"item of provider \"greenbasket\": a push signed by \"freshcart\" may publish only its own items"}`,
				`"id":"p-1","version":1,"outcome":"indexed"`},
			wantIndexed: []string{"freshcart/product/p-1"},
		},
		{
			name: "an oversized batch is refused whole with 400 and indexes nothing", provider: testProvider, secret: secret,
			body: mustJSON(t, oversized), wantStatus: 400,
			wantBody: []string{`"code":"BAD_USER_INPUT"`, `"message":"batch of 1001 changes: at most 1000 per push; split it into several pushes"`},
		},
		{
			name: "an item without name or version is refused on its own by the index's checks", provider: testProvider, secret: secret,
			body: mustJSON(t, connectors.CatalogBatch{Upserts: []connectors.CatalogItem{
				{Kind: "product", ID: "p-2", Name: "Bread", Cities: []string{"Hangzhou"}}, good}}),
			wantStatus: 200,
			wantBody: []string{`"id":"p-2","outcome":"rejected","error":{"code":"BAD_USER_INPUT","message":"missing version (a positive version or updatedAt)"}`,
				`"id":"p-1","version":1,"outcome":"indexed"`},
			wantIndexed: []string{"freshcart/product/p-1"},
		},
		{
			name: "a body that is not a push is refused with 400", provider: testProvider, secret: secret,
			body: []byte(`{"items":[]}`), wantStatus: 400,
			wantBody: []string{`"code":"BAD_USER_INPUT"`, `json: unknown field \"items\"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, nil)
			status, _, body := g.push(t, tc.provider, tc.secret, tc.body)
			t.Logf("%d %s", status, trimLog(body))
			if status != tc.wantStatus {
				t.Errorf("status %d, want %d", status, tc.wantStatus)
			}
			rest := body
			for _, w := range tc.wantBody {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("answer lacks %s (in order)", w)
					continue
				}
				rest = rest[i+len(w):]
			}
			if got := indexed(t, g.index); fmt.Sprint(got) != fmt.Sprint(tc.wantIndexed) && !(len(got) == 0 && len(tc.wantIndexed) == 0) {
				t.Errorf("index holds %v, want %v", got, tc.wantIndexed)
			}
		})
	}
}

func trimLog(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

func TestPushIsIdempotentAndOrderedByVersion(t *testing.T) {
	g := newGateway(t, nil)
	secret := testSecret + "-" + testProvider
	v2 := item("p-1", 2)
	v2.Price = &connectors.Money{Amount: 990, Currency: "CNY"}
	push := func(items ...connectors.CatalogItem) string {
		_, _, body := g.push(t, testProvider, secret, mustJSON(t, connectors.CatalogBatch{Upserts: items}))
		return body
	}
	steps := []struct {
		name  string
		items []connectors.CatalogItem
		want  string
	}{
		{"the first push is indexed", []connectors.CatalogItem{v2}, `"indexed":1,"superseded":0,"rejected":0`},
		{"the same push again changes nothing", []connectors.CatalogItem{v2}, `"indexed":0,"superseded":1,"rejected":0`},
		{"an older version never overwrites a newer one", []connectors.CatalogItem{item("p-1", 1)}, `"indexed":0,"superseded":1,"rejected":0`},
	}
	for _, s := range steps {
		if got := push(s.items...); !strings.Contains(got, s.want) {
			t.Errorf("%s: answer %s, want %s", s.name, got, s.want)
		}
	}
	p, err := g.index.Search(context.Background(), supply.Query{Text: "milk"})
	if err != nil || len(p.Hits) != 1 || p.Hits[0].Item.Price != 990 {
		t.Fatalf("index after the pushes: %+v %v, want one item at 990", p.Hits, err)
	}
}

func TestPushQuotas(t *testing.T) {
	secret := testSecret + "-" + testProvider
	t.Run("over the item cap the push is refused whole with 403; updates at the cap still pass", func(t *testing.T) {
		g := newGateway(t, map[string]directory.Limits{testProvider: {MaxItems: 2}})
		first := mustJSON(t, connectors.CatalogBatch{Upserts: []connectors.CatalogItem{item("p-1", 1), item("p-2", 1)}})
		if status, _, body := g.push(t, testProvider, secret, first); status != 200 {
			t.Fatalf("push within the cap: %d %s", status, body)
		}
		over := mustJSON(t, connectors.CatalogBatch{Upserts: []connectors.CatalogItem{item("p-1", 2), item("p-3", 1)}})
		status, _, body := g.push(t, testProvider, secret, over)
		t.Logf("%d %s", status, body)
		want := `{"code":"FORBIDDEN","message":"catalogue quota: this push would leave 3 items published, the cap is 2; nothing of it was indexed (delete items, or ask the operator for a higher cap)","retryable":false}`
		if status != 403 || body != want {
			t.Errorf("got %d %s\nwant 403 %s", status, body, want)
		}
		if got := indexed(t, g.index); len(got) != 2 {
			t.Errorf("index holds %v after the refused push, want the first two", got)
		}
		swap := mustJSON(t, connectors.CatalogBatch{Upserts: []connectors.CatalogItem{item("p-1", 3), item("p-3", 1)},
			Deletes: []connectors.CatalogDelete{{Kind: "product", ID: "p-2", Version: 2}}})
		if status, _, body := g.push(t, testProvider, secret, swap); status != 200 || !strings.Contains(body, `"indexed":3`) {
			t.Errorf("an update, a new item and a delete at the cap: %d %s", status, body)
		}
	})
	t.Run("over the pushes per minute the push is refused with 429 and Retry-After", func(t *testing.T) {
		g := newGateway(t, map[string]directory.Limits{testProvider: {PushesPerMinute: 2}})
		var status int
		var retry, body string
		for i := range 3 {
			status, retry, body = g.push(t, testProvider, secret, mustJSON(t, connectors.CatalogBatch{Upserts: []connectors.CatalogItem{item(fmt.Sprintf("p-%d", i), 1)}}))
		}
		t.Logf("%d Retry-After %s %s", status, retry, body)
		if status != 429 || retry == "" || !strings.Contains(body, `"code":"RATE_LIMITED","message":"catalogue quota: at most 2 pushes per minute; nothing of this push was indexed`) {
			t.Errorf("third push: %d Retry-After %q %s", status, retry, body)
		}
		if got := indexed(t, g.index); len(got) != 2 {
			t.Errorf("index holds %v, want the first two pushes' items", got)
		}
	})
}

func TestPushBodyTooLarge(t *testing.T) {
	g := newGateway(t, nil)
	body := append([]byte(`{"upserts":[{"kind":"product","id":"x","name":"`), bytes.Repeat([]byte("a"), catalog.MaxBodyBytes)...)
	status, _, got := g.push(t, testProvider, testSecret+"-"+testProvider, body)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(got, "push body over 8 MiB") {
		t.Errorf("got %d %s, want 413", status, got)
	}
}

// TestPublisherOverHTTP pushes through the provider-side client: it signs,
// and a refusal comes back as the gateway's kind and message.
func TestPublisherOverHTTP(t *testing.T) {
	g := newGateway(t, nil)
	pub := func(secret string) *httpprovider.Publisher {
		p, err := httpprovider.NewPublisher(httpprovider.Config{ID: testProvider, Vertical: connectors.VerticalGrocery, BaseURL: g.srv.URL, Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx := context.Background()
	ack, err := pub(testSecret+"-"+testProvider).Publish(ctx, testProvider, connectors.CatalogBatch{Upserts: []connectors.CatalogItem{item("p-1", 1)}})
	if err != nil || ack.Indexed != 1 {
		t.Fatalf("signed push: %+v %v", ack, err)
	}
	_, err = pub("wrong").Publish(ctx, testProvider, connectors.CatalogBatch{Upserts: []connectors.CatalogItem{item("p-2", 1)}})
	if e, ok := connectors.AsError(err); !ok || e.Kind != connectors.KindUnauthenticated || e.Message != "bad signature" {
		t.Errorf("wrongly signed push: %v, want UNAUTHENTICATED bad signature", err)
	}
}
