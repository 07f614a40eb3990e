package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/web"
)

// postJSON posts body to url and returns the status and the decoded answer.
func postSignIn(tb testing.TB, url, body string) (int, map[string]any) {
	tb.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func TestDevSignIn(t *testing.T) {
	dev := startDemo(t)
	prod := apitest.Start(t, apitest.Options{API: production()})

	t.Run("mints a demo user's token that signs requests in", func(t *testing.T) {
		status, out := postSignIn(t, dev.URL+"/dev/token", `{"user":"demo-7"}`)
		tok, _ := out["token"].(string)
		if status != http.StatusOK || tok == "" {
			t.Fatalf("status %d: %v", status, out)
		}
		r := dev.MustPost(apitest.Request{Query: `{ me { id settings { personalization } } }`, Header: http.Header{"Authorization": {"Bearer " + tok}}})
		if !strings.Contains(string(r.Data), `"personalization":true`) {
			t.Fatalf("%s", r.Raw)
		}
	})
	for _, tc := range []struct{ name, body string }{
		{"refuses a user who is not a demo user", `{"user":"ops-1"}`},
		{"refuses an empty user", `{"user":""}`},
		{"refuses a body that is not JSON", `user=demo-1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, out := postSignIn(t, dev.URL+"/dev/token", tc.body); status != http.StatusBadRequest || out["token"] != nil {
				t.Fatalf("status %d: %v", status, out)
			}
		})
	}
	t.Run("does not exist in production", func(t *testing.T) {
		if status, out := postSignIn(t, prod.URL+"/dev/token", `{"user":"demo-1"}`); status != http.StatusNotFound || out["token"] != nil {
			t.Fatalf("status %d: %v", status, out)
		}
	})
}

// appDocument returns the hash and text of the app's persisted operation
// called name.
func appDocument(tb testing.TB, name string) (string, string) {
	tb.Helper()
	b, err := web.Embedded()
	if err != nil {
		tb.Fatal(err)
	}
	for h, doc := range b.PersistedDocuments() {
		if regexp.MustCompile(`^(query|mutation) ` + name + `\b`).MatchString(doc) {
			return h, doc
		}
	}
	tb.Fatalf("no persisted document %s", name)
	return "", ""
}

func byHash(h string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": h}}
}

func TestPersistedDocuments(t *testing.T) {
	search, doc := appDocument(t, "Search")
	vars := map[string]any{"text": "mlik", "first": 3}
	only := api.DefaultConfig()
	only.PersistedOnly = true
	dev := startDemo(t)
	locked := apitest.Start(t, apitest.Options{API: &only, APIOptions: []api.Option{api.WithAPIKeys(mustKeys(t))}})

	t.Run("the app's operations run by hash alone, without being registered first", func(t *testing.T) {
		for _, g := range []*apitest.Gateway{dev, locked} {
			r := g.MustPost(apitest.Request{Extensions: byHash(search), Variables: vars})
			if !strings.Contains(string(r.Data), "Milk") {
				t.Fatalf("%s", r.Raw)
			}
		}
	})
	t.Run("a known hash sent with another document is refused", func(t *testing.T) {
		r := dev.Post(apitest.Request{Query: `{ __typename }`, Extensions: byHash(search)})
		if r.Status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].Code() != "PERSISTED_QUERY_HASH_MISMATCH" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("with PersistedOnly the app's document sent in full with its hash runs", func(t *testing.T) {
		locked.MustPost(apitest.Request{Query: doc, Extensions: byHash(search), Variables: vars})
	})
	for _, tc := range []struct {
		name string
		req  apitest.Request
	}{
		{"with PersistedOnly a document without a hash is refused", apitest.Request{Query: `{ __typename }`}},
		{"with PersistedOnly an unknown hash is refused, even with its document", apitest.Request{Query: `{ __typename }`,
			Extensions: byHash("ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := locked.Post(tc.req)
			if r.Status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].Code() != "PERSISTED_QUERY_NOT_ALLOWED" || r.Data != nil && string(r.Data) != "null" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	t.Run("with PersistedOnly an analyst may still send any document", func(t *testing.T) {
		locked.MustPost(apitest.Request{Query: `{ __typename }`, Header: analyst()})
	})
	t.Run("without PersistedOnly any document still runs", func(t *testing.T) {
		dev.MustPost(apitest.Request{Query: `{ __typename }`})
	})
}

// getGzip sends a GET accepting gzip and returns the response with its
// body decoded.
func getGzip(tb testing.TB, url string) (*http.Response, []byte, int) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent decoding
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	body := raw
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			tb.Fatal(err)
		}
		body, _ = io.ReadAll(zr)
	}
	return resp, body, len(raw)
}

func TestAppServed(t *testing.T) {
	dev := startDemo(t)
	prod := apitest.Start(t, apitest.Options{API: production()})

	for _, g := range []*apitest.Gateway{dev, prod} {
		t.Run("a deep link answers the app's page with a policy allowing this origin only", func(t *testing.T) {
			resp, body, _ := getGzip(t, g.URL+"/app/doctor/ZG9jdG9y?x=1")
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `<div id="app">`) {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); csp != web.CSP {
				t.Fatalf("csp %q", csp)
			}
		})
	}
	t.Run("/app redirects to /app/", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, dev.URL+"/app", nil)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/app/" {
			t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("the page's script is served compressed and cached for good", func(t *testing.T) {
		_, page, _ := getGzip(t, dev.URL+"/app/")
		src := regexp.MustCompile(`src="(/app/assets/[^"]+\.js)"`).FindSubmatch(page)
		if src == nil {
			t.Fatalf("no script in %s", page)
		}
		resp, body, wire := getGzip(t, dev.URL+string(src[1]))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" || wire >= len(body) ||
			!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
			t.Fatalf("%d %v, %d bytes on the wire for %d", resp.StatusCode, resp.Header, wire, len(body))
		}
	})
	t.Run("a missing asset is 404, not the app's page", func(t *testing.T) {
		if resp, _, _ := getGzip(t, dev.URL+"/app/assets/nope.js"); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("the playground's examples list the analysts' operations", func(t *testing.T) {
		g := apitest.Start(t, apitest.Options{APIOptions: []api.Option{api.WithExamples(api.Example{Name: "one", Query: "{ __typename }",
			Variables: func() map[string]any { return map[string]any{"from": "now"} }, Headers: map[string]string{"Plaza-Api-Key": "k"}})}})
		_, body, _ := getGzip(t, g.URL+"/examples.json")
		var tabs []struct {
			Name, Query string
			Variables   map[string]any
			Headers     map[string]string
		}
		if err := json.Unmarshal(body, &tabs); err != nil || len(tabs) != 1 || tabs[0].Query != "{ __typename }" ||
			tabs[0].Variables["from"] != "now" || tabs[0].Headers["Plaza-Api-Key"] != "k" {
			t.Fatalf("%v %s", err, body)
		}
	})
}
