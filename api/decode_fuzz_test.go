package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// contentTypes and accepts are what the fuzzer picks headers from.
var (
	contentTypes = []string{"application/json", "application/json; charset=utf-8", "application/graphql-response+json",
		"text/plain", "application/x-www-form-urlencoded", "", "application/json; charset=latin1; x=\"", "multipart/form-data; boundary=x"}
	accepts = []string{"", "application/json", "application/graphql-response+json", "text/html", "*/*", "application/graphql-response+json;q=0.1, application/json"}
)

// FuzzQueryRequest sends arbitrary POST bodies and GET query strings to
// /query through the real handler (in memory, no listener): whatever comes
// in, the answer is a JSON object with `data` or `errors` (an array of them
// for a batch), and never a 5xx.
func FuzzQueryRequest(f *testing.F) {
	for _, s := range []string{
		`{"query":"{ __typename }"}`,
		`{"query":"query($t: String) { search(text: $t, first: 2) { totalCount } }","variables":{"t":"milk"}}`,
		`{"query":"query A { __typename } query B { __typename }","operationName":"C"}`,
		`{"query":"mutation { cancelGroceryOrder(id: \"x\") { id } }"}`,
		`{"query":"{ node(id: \"djE6VXNlcjpwbGF6YTpkZW1vLTE\") { id } }"}`,
		`{"query":"{ a: __typename b: __typename }","variables":[]}`,
		`{"query":"{ __typename }","variables":"{}"}`,
		`{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"}}}`,
		`{"query":"{ search(first: 99999999999999999999) { totalCount } }"}`,
		`{"query":"{ __schema { types { name } } }"}`,
		`{"query": 1}`, `[]`, `[{"query":"{ __typename }"},{"query":"{"},1]`, `null`, `{`, ``, `{"query":"{"}`, "\xff\xfe", `{"query":"{ __typename }"} {}`,
		`query=%7B__typename%7D`, `query=%7B&variables=%7B`, `%zz`,
	} {
		f.Add(uint8(0), uint8(0), uint8(0), []byte(s))
	}
	f.Add(uint8(1), uint8(0), uint8(2), []byte(`query=%7B__typename%7D&extensions=%5B%5D`))
	f.Add(uint8(1), uint8(0), uint8(0), []byte(`query=mutation%7B__typename%7D`))
	f.Add(uint8(0), uint8(3), uint8(3), []byte(`{"query":"{ __typename }"}`))

	g := apitest.Start(f, apitest.Options{})
	h := g.Server.Config.Handler
	f.Fuzz(func(t *testing.T, method, ct, accept uint8, body []byte) {
		var r *http.Request
		if method%2 == 0 {
			r = httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
			r.Header.Set("Content-Type", contentTypes[int(ct)%len(contentTypes)])
		} else {
			r = httptest.NewRequest(http.MethodGet, "/query", nil)
			r.URL.RawQuery = string(body)
		}
		if a := accepts[int(accept)%len(accepts)]; a != "" {
			r.Header.Set("Accept", a)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %s %q: %s", w.Code, r.Method, body, w.Body)
		}
		// A batch (a JSON array of operations) is answered with an array of
		// responses, each held to the same rule.
		var resps []map[string]json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &resps); err != nil || w.Code != http.StatusOK {
			var resp map[string]json.RawMessage
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatalf("status %d, not a JSON object (%v) for %s %q: %q", w.Code, err, r.Method, body, w.Body)
			}
			resps = []map[string]json.RawMessage{resp}
		}
		for _, resp := range resps {
			_, hasData := resp["data"]
			_, hasErrors := resp["errors"]
			if !hasData && !hasErrors {
				t.Fatalf("neither data nor errors for %s %q: %s", r.Method, body, w.Body)
			}
			if w.Code != http.StatusOK && !hasErrors {
				t.Fatalf("status %d without errors for %s %q", w.Code, r.Method, body)
			}
		}
	})
}
