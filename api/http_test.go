package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
)

// rawRequest is one hand-built HTTP request to /query, for the cases a
// well-behaved client (apitest.Post) cannot send.
type rawRequest struct {
	method      string
	query       url.Values // GET parameters
	contentType string
	accept      string
	body        io.Reader
	length      int64 // Content-Length; -1 sends the body chunked
}

// rawResponse is what came back, decoded as far as a client would.
type rawResponse struct {
	status      int
	contentType string
	allow       string
	// length is the declared Content-Length (-1 without one); chunked
	// reports a chunked body.
	length  int64
	chunked bool
	errors  []apitest.Error
	data    json.RawMessage
	hasData bool            // the body has a `data` member, even null
	calls   json.RawMessage // extensions.plaza.calls, when present
	raw     string
}

// send posts r with `Plaza-Debug: calls`, so responses that went through
// gqlgen list every provider call made.
func send(tb testing.TB, g *apitest.Gateway, r rawRequest) rawResponse {
	tb.Helper()
	u := g.URL + "/query"
	if r.query != nil {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequest(r.method, u, r.body)
	if err != nil {
		tb.Fatal(err)
	}
	if r.length != 0 {
		req.ContentLength = r.length
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	req.Header.Set(api.DebugHeader, "calls")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := rawResponse{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), allow: resp.Header.Get("Allow"), raw: string(raw),
		length: resp.ContentLength, chunked: slices.Contains(resp.TransferEncoding, "chunked")}
	var body struct {
		Errors     []apitest.Error `json:"errors"`
		Data       json.RawMessage `json:"data"`
		Extensions struct {
			Plaza struct {
				Calls json.RawMessage `json:"calls"`
			} `json:"plaza"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		tb.Fatalf("status %d: body is not JSON: %v\n%s", resp.StatusCode, err, raw)
	}
	out.errors, out.data, out.calls = body.Errors, body.Data, body.Extensions.Plaza.Calls
	var members map[string]json.RawMessage
	_ = json.Unmarshal(raw, &members)
	_, out.hasData = members["data"]
	return out
}

// mustDeclareLength requires a Content-Length that is the body's, and no
// chunked encoding.
func (r rawResponse) mustDeclareLength(tb testing.TB) {
	tb.Helper()
	if r.chunked || r.length != int64(len(r.raw)) {
		tb.Fatalf("Content-Length %d (chunked %v) for a body of %d bytes", r.length, r.chunked, len(r.raw))
	}
}

// mustReject requires exactly one error with code and a message containing
// msg, no data, and no provider call (an empty `calls` list when the
// request reached gqlgen; requests refused before it cannot call one).
func (r rawResponse) mustReject(tb testing.TB, status int, code, msg string) {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status %d, want %d\n%s", r.status, status, r.raw)
	}
	if len(r.errors) != 1 || r.errors[0].Code() != code || !strings.Contains(r.errors[0].Message, msg) {
		tb.Fatalf("want one %s error containing %q, got %s", code, msg, r.raw)
	}
	if r.hasData {
		tb.Fatalf("a rejected request has a data member (GraphQL over HTTP: a request error has none): %s", r.raw)
	}
	if len(r.calls) > 0 && string(r.calls) != "[]" {
		tb.Fatalf("a rejected request called providers: %s", r.calls)
	}
}

func postJSON(body string) rawRequest {
	return rawRequest{method: http.MethodPost, contentType: "application/json", body: strings.NewReader(body)}
}

func (r rawRequest) accepting(media string) rawRequest { r.accept = media; return r }

// TestGraphQLOverHTTP pins what each malformed or unsupported request gets
// back (GraphQL over HTTP, draft): see limits.statusFor for the policy.
func TestGraphQLOverHTTP(t *testing.T) {
	g := startDemo(t)
	const graphqlResponse = "application/graphql-response+json"
	badVariable := `{"query": "query($n: Int) { providers(first: $n) { totalCount } }", "variables": {"n": "many"}}`
	cases := []struct {
		name   string
		req    rawRequest
		status int
		code   string
		msg    string
	}{
		{"a malformed JSON body is 400 naming the byte, without echoing the body", postJSON(`{"query": "{ __typename }"`),
			400, "BAD_REQUEST", "could not be decoded as JSON"},
		{"a body that is JSON but neither an object nor an array (a batch) is 400", postJSON(`"{ __typename }"`),
			400, "BAD_REQUEST", "could not be decoded"},
		{"a query that is not a string is 400", postJSON(`{"query": 42}`),
			400, "BAD_REQUEST", "field query must not be a JSON number"},
		{"a body without a query is 400", postJSON(`{"variables": {}}`),
			400, "BAD_REQUEST", "no query"},
		{"variables that are not an object are 400", postJSON(`{"query": "{ __typename }", "variables": [1]}`),
			400, "BAD_REQUEST", "variables must be a JSON object"},
		{"a text/plain POST is 415", rawRequest{method: http.MethodPost, contentType: "text/plain", body: strings.NewReader(`{"query": "{ __typename }"}`)},
			415, "UNSUPPORTED_MEDIA_TYPE", "must be application/json"},
		{"a POST without a Content-Type is 415", rawRequest{method: http.MethodPost, body: strings.NewReader(`{"query": "{ __typename }"}`)},
			415, "UNSUPPORTED_MEDIA_TYPE", "must be application/json"},
		{"a PUT is 405", rawRequest{method: http.MethodPut, contentType: "application/json", body: strings.NewReader(`{"query": "{ __typename }"}`)},
			405, "METHOD_NOT_ALLOWED", "method PUT is not allowed"},
		{"a mutation over GET is 405", rawRequest{method: http.MethodGet, query: url.Values{"query": {`mutation { cancelGroceryOrder(id: "x") { id } }`}}},
			405, "METHOD_NOT_ALLOWED", "GET only runs queries"},
		{"malformed variables over GET are 400", rawRequest{method: http.MethodGet, query: url.Values{"query": {`{ __typename }`}, "variables": {`{"n":`}}},
			400, "BAD_REQUEST", "variables must be a JSON object"},
		{"an unknown operationName is 400", postJSON(`{"query": "query A { __typename }", "operationName": "B"}`),
			400, "OPERATION_NOT_FOUND", `operation "B" is not in the document`},
		{"two operations without an operationName are 400", postJSON(`{"query": "query A { __typename } query B { __typename }"}`),
			400, "OPERATION_NOT_FOUND", "set operationName"},
		{"a variable of the wrong type is 200 with errors for application/json", postJSON(badVariable),
			200, "GRAPHQL_VALIDATION_FAILED", "cannot use string as Int"},
		{"a variable of the wrong type is 400 for application/graphql-response+json", postJSON(badVariable).accepting(graphqlResponse),
			400, "GRAPHQL_VALIDATION_FAILED", "cannot use string as Int"},
		{"a validation error is 200 with errors for application/json (Apollo Client reads them)", postJSON(`{"query": "{ nope }"}`),
			200, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "nope"`},
		{"a parse error is 200 with errors for application/json", postJSON(`{"query": "{ providers { "}`).accepting("application/json"),
			200, "GRAPHQL_PARSE_FAILED", "Expected Name"},
		{"a validation error is 400 for application/graphql-response+json", postJSON(`{"query": "{ nope }"}`).accepting(graphqlResponse),
			400, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "nope"`},
		{"a parse error is 400 for application/graphql-response+json", postJSON(`{"query": "{ providers { "}`).accepting(graphqlResponse),
			400, "GRAPHQL_PARSE_FAILED", "Expected Name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, g, tc.req)
			r.mustReject(t, tc.status, tc.code, tc.msg)
			if tc.status == 405 && r.allow == "" {
				t.Fatalf("405 without an Allow header")
			}
			want := "application/json"
			if tc.req.accept != "" {
				want = tc.req.accept
			}
			if r.contentType != want {
				t.Fatalf("Content-Type %q, want %q", r.contentType, want)
			}
			r.mustDeclareLength(t)
		})
	}

	t.Run("the malformed body is not echoed back", func(t *testing.T) {
		r := send(t, g, postJSON(`{"query": "secret-ish text`))
		if strings.Contains(r.raw, "secret-ish") {
			t.Fatalf("body echoed: %s", r.raw)
		}
	})
	t.Run("a good query asking for graphql-response+json gets 200 in that media type, and calls providers", func(t *testing.T) {
		// Delivery slots are live: the index alone cannot answer them.
		r := send(t, g, postJSON(`{"query": "{ stores(first: 1) { edges { cursor node { deliverySlots { id } } } } }"}`).accepting(graphqlResponse))
		if r.status != 200 || r.contentType != graphqlResponse || len(r.errors) != 0 || !strings.HasPrefix(string(r.data), `{"stores":{"edges":[{"cursor":`) {
			t.Fatalf("%d %s %s", r.status, r.contentType, r.raw)
		}
		if string(r.calls) == "[]" || len(r.calls) == 0 {
			t.Fatalf("no provider calls reported, so the no-call assertions above prove nothing: %s", r.raw)
		}
	})
	t.Run("an answer past net/http's 2 KiB buffer is sent whole with its Content-Length, not chunked", func(t *testing.T) {
		r := send(t, g, postJSON(`{"query": "{ products(first: 50) { edges { node { id name description } } } }"}`))
		if r.status != 200 || len(r.errors) != 0 || len(r.raw) < 4096 {
			t.Fatalf("%d, %d bytes: %.300s", r.status, len(r.raw), r.raw)
		}
		r.mustDeclareLength(t)
	})
	t.Run("a query over GET still runs", func(t *testing.T) {
		r := send(t, g, rawRequest{method: http.MethodGet, query: url.Values{"query": {`{ providers(first: 1) { totalCount } }`}}})
		if r.status != 200 || string(r.data) != `{"providers":{"totalCount":8}}` {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("OPTIONS lists the allowed methods", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, g.URL+"/query", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Allow"), "POST") {
			t.Fatalf("%d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
}
