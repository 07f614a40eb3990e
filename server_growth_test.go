package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/auth"
)

// TestServeGrowth signs in to the gateway `go run .` starts as a provider,
// with the development token `plaza token --provider` prints, creates an
// API key and signs in with that: merchant growth is wired in the embedded
// default.
func TestServeGrowth(t *testing.T) {
	p := startPlaza(t, map[string]string{"PLAZA_ADMIN_ADDR": "off", "PLAZA_RATE_IP": "off", "PLAZA_RATE_USER": "off"}, nil)
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(auth.DevSecret)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.IssueProvider("dev-freshcart", "freshcart", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	post := func(bearer, query string) map[string]any {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, p.base+"/query", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	const who = `{ viewerProvider { key lifecycle serviceLevel { state } rewards { payable { amount currency } } } }`
	got := post(tok, who)
	raw, _ := json.Marshal(got)
	if string(raw) != `{"data":{"viewerProvider":{"key":"freshcart","lifecycle":"ACTIVE","rewards":{"payable":{"amount":0,"currency":"CNY"}},"serviceLevel":{"state":"OK"}}}}` {
		t.Fatalf("with the provider token: %s", raw)
	}
	created := post(tok, `mutation { createProviderApiKey(label: "portal") { key } }`)
	key, _ := created["data"].(map[string]any)["createProviderApiKey"].(map[string]any)["key"].(string)
	if !strings.HasPrefix(key, auth.ProviderKeyPrefix) {
		t.Fatalf("created %v", created)
	}
	if raw2, _ := json.Marshal(post(key, who)); string(raw2) != string(raw) {
		t.Fatalf("with the API key: %s", raw2)
	}
	anon, _ := json.Marshal(post("", who))
	if !strings.Contains(string(anon), `"code":"UNAUTHENTICATED"`) {
		t.Fatalf("anonymous: %s", anon)
	}
}
