package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

// TestServeOnboardsAProvider registers a provider with the gateway `go run
// .` starts, as an operator with a development token, and follows it to
// ACTIVE in `providers` next to the seeded demo providers.
func TestServeOnboardsAProvider(t *testing.T) {
	p := startPlaza(t, map[string]string{"PLAZA_ADMIN_ADDR": "off", "PLAZA_RATE_IP": "off", "PLAZA_RATE_USER": "off"}, nil)
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(auth.DevSecret)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.Issue("ops-1", time.Hour, auth.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "serve-onboarding-secret-0123456789"
	serve := func() string {
		g, err := demo.NewGrocery(demo.DefaultDescriptors()[0])
		if err != nil {
			t.Fatal(err)
		}
		return apitest.ServeProvider(t, g, secret).URL()
	}
	post := func(query string) map[string]any {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, p.base+"/query", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		if out["errors"] != nil {
			t.Fatalf("%s: %v", query, out["errors"])
		}
		return out["data"].(map[string]any)
	}
	post(`mutation { registerProvider(input: {id: "servemart", vertical: GROCERY, name: "Serve Mart", cities: ["Hangzhou"],
		endpoint: "` + serve() + `", sandboxEndpoint: "` + serve() + `", contactEmail: "ops@servemart.example",
		signingSecret: "` + secret + `"}) { provider { lifecycle } } }`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		d := post(`{ registeredProvider(key: "servemart") { lifecycle } }`)
		if d["registeredProvider"].(map[string]any)["lifecycle"] == "ACTIVE" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("servemart is not ACTIVE after 60s: %v", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
	d := post(`{ providers(vertical: GROCERY, city: "Hangzhou") { edges { node { key lifecycle } } } }`)
	raw, _ := json.Marshal(d)
	for _, key := range []string{"freshcart", "greenbasket", "servemart"} {
		if !strings.Contains(string(raw), `"key":"`+key+`","lifecycle":"ACTIVE"`) {
			t.Fatalf("providers in Hangzhou: %s, want %s ACTIVE among them", raw, key)
		}
	}
}
