package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/limits"
	"github.com/plaza-gateway/plaza/ratelimit"
)

// TestSlowBodyIsCutOff sends request bodies over a real TCP connection, one
// byte at a time, the way a slowloris client does.
func TestSlowBodyIsCutOff(t *testing.T) {
	const bound = 500 * time.Millisecond
	cfg := api.DefaultConfig()
	cfg.Limits = limits.Config{BodyReadTimeout: bound}
	g := apitest.Start(t, apitest.Options{API: &cfg})
	addr := strings.TrimPrefix(g.URL, "http://")
	body := `{"query": "{ providers(first: 1) { totalCount } }"}`
	head := "POST /query HTTP/1.1\r\nHost: plaza\r\nContent-Type: application/json\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n"

	dial := func(t *testing.T) (net.Conn, *bufio.Reader) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		// Generous: the assertion on the bound is elapsed time below.
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		return c, bufio.NewReader(c)
	}

	t.Run("a body sent one byte every 100 ms gets 408 REQUEST_TIMEOUT and a closed connection within the bound", func(t *testing.T) {
		c, br := dial(t)
		start := time.Now()
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		go func() { // the trickle; it stops at the first refused write
			for i := range len(body) {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if _, err := c.Write([]byte{body[i]}); err != nil {
					return
				}
			}
		}()
		defer close(stop)
		resp, err := http.ReadResponse(br, nil)
		elapsed := time.Since(start)
		if err != nil {
			// A closed connection is the other acceptable answer.
			if elapsed > bound+3*time.Second {
				t.Fatalf("connection closed after %v (%v), past the bound %v", elapsed, err, bound)
			}
			t.Logf("connection closed after %v: %v", elapsed, err)
			return
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Logf("answer after %v: %d %s", elapsed, resp.StatusCode, raw)
		if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(raw), limits.CodeRequestTimeout) {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		if elapsed < bound || elapsed > bound+3*time.Second {
			t.Fatalf("answered after %v; the bound is %v", elapsed, bound)
		}
		if _, err := br.ReadByte(); err == nil {
			t.Fatal("the connection stayed open after the 408")
		}
	})

	t.Run("a body sent in time is served, and the connection's next request is not cut by the deadline", func(t *testing.T) {
		c, br := dial(t)
		for i := range 2 {
			if _, err := io.WriteString(c, head+body); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(raw) != `{"data":{"providers":{"totalCount":8}}}` {
				t.Fatalf("request %d: %d %s", i, resp.StatusCode, raw)
			}
			time.Sleep(2 * bound) // idle past the body deadline between requests
		}
	})
}

// TestProductionDoesNotHelpAttackers: no schema suggestions, no debug
// extensions for app users, no provider ids or URLs in error messages.
func TestProductionDoesNotHelpAttackers(t *testing.T) {
	opts := func(cfg *api.Config) apitest.Options {
		return apitest.Options{API: cfg, APIOptions: []api.Option{api.WithAPIKeys(mustKeys(t))}}
	}
	prod := apitest.Start(t, opts(production()))
	dev := apitest.Start(t, opts(nil))

	// Each of gqlparser's five suggesting rules; gqlgen's own switch
	// (SetDisableSuggestion) silences only the first two.
	suggesting := []struct{ rule, query string }{
		{"FieldsOnCorrectType", `{ stors { totalCount } }`},
		{"ScalarLeafs", `{ providers { totalCount { x } } }`},
		{"KnownArgumentNames", `{ providers(frist: 1) { totalCount } }`},
		{"KnownTypeNames", `{ ...F } fragment F on Quer { __typename }`},
		// Bucket, not Vertical: an unknown vertical is BAD_USER_INPUT with the
		// list of verticals (TestUnknownVerticalIsBadInput).
		{"ValuesOfCorrectType", `{ analytics { searchVolume(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", bucket: HOURR) { count } } }`},
	}
	for _, s := range suggesting {
		t.Run("no \"Did you mean\" in production: "+s.rule, func(t *testing.T) {
			r := prod.Post(apitest.Request{Query: s.query})
			if len(r.Errors) == 0 || r.Errors[0].Code() != "GRAPHQL_VALIDATION_FAILED" || strings.Contains(strings.ToLower(string(r.Raw)), "did you mean") {
				t.Fatalf("%s", r.Raw)
			}
			t.Logf("production: %s", r.Errors[0].Message)
		})
	}
	t.Run("development keeps the suggestions of the rules that make them", func(t *testing.T) {
		for _, s := range suggesting {
			if s.rule == "ScalarLeafs" {
				continue // suggests only in a message about selections, which this query does not need
			}
			if r := dev.Post(apitest.Request{Query: s.query}); !strings.Contains(string(r.Raw), "Did you mean") {
				t.Fatalf("%s: %s", s.rule, r.Raw)
			}
		}
	})

	debugQuery := `{ stores(first: 1) { totalCount } }`
	debugCases := []struct {
		name  string
		g     *apitest.Gateway
		req   apitest.Request
		calls bool
	}{
		{"Plaza-Debug is ignored for an anonymous caller in production", prod, apitest.Request{Query: debugQuery, Debug: true}, false},
		{"Plaza-Debug is ignored for a signed-in user in production", prod, apitest.Request{Query: debugQuery, Debug: true, User: "demo-1"}, false},
		{"Plaza-Debug works for an analyst in production", prod, apitest.Request{Query: debugQuery, Debug: true, Header: analyst()}, true},
		{"Plaza-Debug works for anyone in development", dev, apitest.Request{Query: debugQuery, Debug: true}, true},
	}
	for _, tc := range debugCases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.g.MustPost(tc.req)
			if got := strings.Contains(string(r.Raw), `"calls"`); got != tc.calls {
				t.Fatalf("calls shown: %v, want %v: %s", got, tc.calls, r.Raw)
			}
		})
	}

	t.Run("an app user never sees a provider's ids or URLs in an error message", func(t *testing.T) {
		conns := demoWithGrocery(t, func(gr *demo.Grocery) connectors.Connector { return chattyGrocery{gr} })
		for name, cfg := range map[string]*api.Config{"production": production(), "development": nil} {
			g := apitest.Start(t, apitest.Options{Connectors: conns, API: cfg})
			s := groceryStores(t, g, "")[0]
			in := orderInput(s.ID, s.DeliverySlots[0].ID, s.Products.Edges[0].Node.ID, 1, "")
			r := mustFail(t, g, apitest.Request{User: "demo-1", Query: placeOrderMutation, Variables: in}, "CONFLICT", "delivery slot is full")
			for _, leak := range []string{"s-internal-0042", "ops.freshcart.internal", "https://", "bk_77f3a"} {
				if strings.Contains(string(r.Raw), leak) {
					t.Fatalf("%s: the response shows %q: %s", name, leak, r.Raw)
				}
			}
			t.Logf("%s: %s", name, r.Errors[0].Message)
		}
	})
}

// chattyGrocery is a demo grocery provider whose refusals name its own ids
// and an internal URL, in a message the contract says is client-safe.
type chattyGrocery struct{ *demo.Grocery }

func (chattyGrocery) PlaceOrder(context.Context, connectors.PlaceOrderInput) (connectors.GroceryOrder, error) {
	return connectors.GroceryOrder{}, connectors.Errorf(connectors.KindConflict,
		`delivery slot "s-internal-0042" is full (booking bk_77f3a, see https://ops.freshcart.internal/slots/42)`)
}

// batchResponse is one element of a batch's answer.
type batchResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     []apitest.Error `json:"errors"`
	Extensions struct {
		Plaza struct {
			Calls []json.RawMessage `json:"calls"`
		} `json:"plaza"`
	} `json:"extensions"`
	hasData bool
}

// postBatch posts ops as one JSON array and decodes the answer: an array of
// responses, or (status not 200) one response refusing the batch.
func postBatch(tb testing.TB, g *apitest.Gateway, header http.Header, ops ...any) (int, []batchResponse, apitest.Response) {
	tb.Helper()
	body, _ := json.Marshal(ops)
	req, _ := http.NewRequest(http.MethodPost, g.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.DebugHeader, "calls")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var whole apitest.Response
	whole.Status, whole.Raw = resp.StatusCode, raw
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(raw, &whole); err != nil {
			tb.Fatalf("status %d, not a JSON object: %s", resp.StatusCode, raw)
		}
		return resp.StatusCode, nil, whole
	}
	var out []batchResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("a batch's answer is not a JSON array: %v\n%s", err, raw)
	}
	var members []map[string]json.RawMessage
	_ = json.Unmarshal(raw, &members)
	for i := range out {
		_, out[i].hasData = members[i]["data"]
	}
	return resp.StatusCode, out, whole
}

type op = map[string]any

// TestBatching posts JSON arrays of operations, as Apollo's BatchHttpLink
// and urql's batch exchange do.
func TestBatching(t *testing.T) {
	rl := ratelimit.DefaultConfig()
	cfg := api.DefaultConfig()
	cfg.Limits = limits.Config{MaxBatch: 4, MaxComplexity: 3000, MaxBatchComplexity: 4000}
	g := apitest.Start(t, apitest.Options{API: &cfg,
		APIOptions: []api.Option{api.WithRateLimit(ratelimit.New(rl, ratelimit.NewMemory(0, nil), nil))}})
	user := http.Header{"Authorization": {"Bearer " + g.Token("demo-1")}}

	t.Run("an array of operations is answered with an array, in order, each with its own extensions", func(t *testing.T) {
		status, out, _ := postBatch(t, g, user,
			op{"query": `{ providers(first: 1) { totalCount } }`},
			op{"query": `query Stores($n: Int) { stores(first: $n) { edges { node { id deliverySlots { id } } } } }`, "variables": op{"n": 2}, "operationName": "Stores"},
			op{"query": `{ me { id } }`},
		)
		if status != http.StatusOK || len(out) != 3 {
			t.Fatalf("status %d, %d responses", status, len(out))
		}
		if string(out[0].Data) != `{"providers":{"totalCount":8}}` || !strings.HasPrefix(string(out[1].Data), `{"stores":{"edges":[{"node":{"id":`) ||
			!strings.HasPrefix(string(out[2].Data), `{"me":{"id":`) {
			t.Fatalf("out of order or wrong: %s | %s | %s", out[0].Data, out[1].Data, out[2].Data)
		}
		if len(out[0].Extensions.Plaza.Calls) != 0 || len(out[1].Extensions.Plaza.Calls) == 0 {
			t.Fatalf("provider calls are not reported per operation: %+v / %+v", out[0].Extensions, out[1].Extensions)
		}
	})
	t.Run("each operation gets its own checks and errors; the others still run", func(t *testing.T) {
		_, out, _ := postBatch(t, g, nil,
			op{"query": `{ nope }`},
			op{"query": `{ me { id } }`},
			op{"query": `{ stores(first: 100) { edges { node { products(first: 100) { edges { node { name } } } } } } }`},
			op{"query": `{ providers(first: 1) { totalCount } }`},
		)
		want := []string{"GRAPHQL_VALIDATION_FAILED", "UNAUTHENTICATED", limits.CodeQueryTooComplex, ""}
		for i, code := range want {
			got := ""
			if len(out[i].Errors) > 0 {
				got = out[i].Errors[0].Code()
			}
			if got != code {
				t.Fatalf("operation %d: code %q, want %q: %+v", i, got, code, out[i])
			}
		}
		if out[0].hasData || out[2].hasData || !out[1].hasData || string(out[3].Data) != `{"providers":{"totalCount":8}}` {
			t.Fatalf("refused operations must have no data member, executed ones must: %+v", out)
		}
	})
	t.Run("an operation that is not an object is refused alone", func(t *testing.T) {
		_, out, _ := postBatch(t, g, nil, "{ __typename }", op{"query": `{ __typename }`})
		if len(out[0].Errors) != 1 || out[0].Errors[0].Code() != limits.CodeBadRequest || string(out[1].Data) != `{"__typename":"Query"}` {
			t.Fatalf("%+v", out)
		}
	})

	refusals := []struct {
		name   string
		ops    []any
		status int
		code   string
		msg    string
	}{
		{"a batch of more than MaxBatch operations is 400 BATCH_TOO_LARGE", []any{op{"query": "{ __typename }"}, op{"query": "{ __typename }"},
			op{"query": "{ __typename }"}, op{"query": "{ __typename }"}, op{"query": "{ __typename }"}}, 400, limits.CodeBatchTooLarge, "5 operations; the limit is 4"},
		{"a batch whose total complexity passes MaxBatchComplexity is 400 BATCH_TOO_COMPLEX, though each operation is within MaxComplexity", []any{
			op{"query": `{ stores(first: 20) { edges { node { products(first: 40) { edges { node { name } } } } } } }`},
			op{"query": `{ stores(first: 20) { edges { node { products(first: 40) { edges { node { name } } } } } } }`},
		}, 400, limits.CodeBatchTooComplex, "total complexity of 4922, which exceeds the limit of 4000"},
		{"an empty batch is 400", []any{}, 400, limits.CodeBadRequest, "no operations"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			status, _, whole := postBatch(t, g, user, tc.ops...)
			if status != tc.status || len(whole.Errors) != 1 || whole.Errors[0].Code() != tc.code || !strings.Contains(whole.Errors[0].Message, tc.msg) {
				t.Fatalf("status %d: %s", status, whole.Raw)
			}
			if strings.Contains(string(whole.Raw), `"data"`) || strings.Contains(string(whole.Raw), `"calls":[{`) {
				t.Fatalf("a refused batch ran something: %s", whole.Raw)
			}
		})
	}

	t.Run("each operation counts against the caller's rate limit", func(t *testing.T) {
		// A fresh gateway whose users have a burst of 4 requests: a batch of
		// three fits; of the next, the request fits and its operations not.
		rl := ratelimit.DefaultConfig()
		rl.User = ratelimit.Limit{Rate: 1, Period: time.Minute, Burst: 4}
		g := apitest.Start(t, apitest.Options{APIOptions: []api.Option{api.WithRateLimit(ratelimit.New(rl, ratelimit.NewMemory(0, nil), nil))}})
		h := http.Header{"Authorization": {"Bearer " + g.Token("demo-2")}}
		ops := []any{op{"query": "{ __typename }"}, op{"query": "{ __typename }"}, op{"query": "{ __typename }"}}
		if status, out, whole := postBatch(t, g, h, ops...); status != http.StatusOK || len(out) != 3 {
			t.Fatalf("three operations within a burst of 3: %d %s", status, whole.Raw)
		}
		status, _, whole := postBatch(t, g, h, ops...)
		if status != http.StatusTooManyRequests || len(whole.Errors) != 1 || whole.Errors[0].Code() != ratelimit.CodeRateLimited ||
			!strings.Contains(whole.Errors[0].Message, "3 operations of this batch") {
			t.Fatalf("three more: %d %s", status, whole.Raw)
		}
	})
}

// TestBatchingOverGetIsRefused: GET carries one operation; a JSON array in
// its query parameter is not a batch.
func TestBatchingOverGetIsRefused(t *testing.T) {
	g := startDemo(t)
	r := send(t, g, rawRequest{method: http.MethodGet, query: url.Values{"query": {`[{"query": "{ __typename }"}]`}}})
	if r.status != 200 || len(r.errors) != 1 || r.errors[0].Code() != "GRAPHQL_PARSE_FAILED" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}
