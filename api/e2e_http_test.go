package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type httpResult struct {
	status      int
	contentType string
	body        string
}

func do(tb testing.TB, method, url, contentType, body string) httpResult {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return httpResult{resp.StatusCode, resp.Header.Get("Content-Type"), string(raw)}
}

// gqlErrors decodes the errors array of a GraphQL response body.
func gqlErrors(tb testing.TB, body string) []struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
} {
	tb.Helper()
	var r struct {
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		tb.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	return r.Errors
}

func TestHTTPSurface(t *testing.T) {
	g := startDemo(t)

	t.Run("GET /healthz is 200 ok", func(t *testing.T) {
		r := do(t, http.MethodGet, g.URL+"/healthz", "", "")
		if r.status != 200 || !strings.Contains(r.body, `"ok"`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("GET /readyz is 200 and counts the providers", func(t *testing.T) {
		r := do(t, http.MethodGet, g.URL+"/readyz", "", "")
		if r.status != 200 || !strings.Contains(r.body, `"providers":8`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("GET / serves the playground", func(t *testing.T) {
		r := do(t, http.MethodGet, g.URL+"/", "", "")
		if r.status != 200 || !strings.HasPrefix(r.contentType, "text/html") || !strings.Contains(r.body, `id="graphiql"`) {
			t.Fatalf("%d %s", r.status, r.contentType)
		}
	})
	t.Run("an unknown path is 404", func(t *testing.T) {
		if r := do(t, http.MethodGet, g.URL+"/nope", "", ""); r.status != 404 {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("GET /query runs a query from the URL", func(t *testing.T) {
		r := do(t, http.MethodGet, g.URL+"/query?query="+url.QueryEscape("{ __typename providers(first: 1) { totalCount } }"), "", "")
		if r.status != 200 || r.body != `{"data":{"__typename":"Query","providers":{"totalCount":8}}}` {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("GET /query refuses a mutation", func(t *testing.T) {
		q := `mutation { cancelGroceryOrder(id: "x") { id } }`
		r := do(t, http.MethodGet, g.URL+"/query?query="+url.QueryEscape(q), "", "")
		errs := gqlErrors(t, r.body)
		if r.status == 200 || len(errs) != 1 || !strings.Contains(strings.ToLower(errs[0].Message), "get") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a malformed JSON body is 400 with an error saying so", func(t *testing.T) {
		r := do(t, http.MethodPost, g.URL+"/query", "application/json", `{"query": "{ __typename }"`)
		errs := gqlErrors(t, r.body)
		if r.status != 400 || len(errs) != 1 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if code := errs[0].Extensions["code"]; code == "INTERNAL" || !strings.Contains(errs[0].Message, "could not be decoded") {
			t.Fatalf("a client mistake reads as %v %q", code, errs[0].Message)
		}
	})
	t.Run("an unknown field is 200 GRAPHQL_VALIDATION_FAILED naming the field", func(t *testing.T) {
		r := do(t, http.MethodPost, g.URL+"/query", "application/json", `{"query": "{ nope }"}`)
		errs := gqlErrors(t, r.body)
		if r.status != 200 || len(errs) != 1 || errs[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" ||
			!strings.Contains(errs[0].Message, `Cannot query field "nope" on type "Query"`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a syntax error is 200 GRAPHQL_PARSE_FAILED", func(t *testing.T) {
		r := do(t, http.MethodPost, g.URL+"/query", "application/json", `{"query": "{ providers { "}`)
		errs := gqlErrors(t, r.body)
		if r.status != 200 || len(errs) != 1 || errs[0].Extensions["code"] != "GRAPHQL_PARSE_FAILED" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a missing required variable is a validation error, not a resolver call", func(t *testing.T) {
		r := do(t, http.MethodPost, g.URL+"/query", "application/json", `{"query": "query($id: ID!) { node(id: $id) { id } }"}`)
		errs := gqlErrors(t, r.body)
		if r.status != 200 || len(errs) != 1 || errs[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(errs[0].Message, "must be defined") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}
