package api_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// signedGet sends a GET signed with secret the way providers sign.
func signedGet(tb testing.TB, baseURL, path, query, secret string) (int, map[string]any) {
	tb.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := rand.Text()
	req, _ := http.NewRequest(http.MethodGet, baseURL+path+query, nil)
	if secret != "" {
		req.Header.Set(httpprovider.HeaderTimestamp, ts)
		req.Header.Set(httpprovider.HeaderNonce, nonce)
		req.Header.Set(httpprovider.HeaderSignature, httpprovider.SignV2(secret, ts, nonce, http.MethodGet, path, strings.TrimPrefix(query, "?"), nil))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("not JSON: %s", raw)
	}
	return resp.StatusCode, out
}

func TestProviderStats(t *testing.T) {
	secrets := map[string]string{"freshcart": "fresh-secret", "greenbasket": "green-secret"}
	var asked []string
	g := apitest.Start(t, apitest.Options{APIOptions: []api.Option{
		api.WithProviderSecrets(func(p string) (string, bool) { s, ok := secrets[p]; return s, ok }),
		api.WithProviderStats(func(_ context.Context, provider string, from, to time.Time) (any, error) {
			asked = append(asked, provider)
			return map[string]any{"calls": 42, "hours": to.Sub(from).Hours()}, nil
		}),
	}})
	const path = "/providers/freshcart/stats"
	tests := []struct {
		name   string
		query  string
		secret string
		status int
		code   string
	}{
		{"a provider reads its own numbers for the last day", "", "fresh-secret", http.StatusOK, ""},
		{"an explicit range is honoured", "?from=" + url.QueryEscape("2026-11-01T00:00:00Z") + "&to=" + url.QueryEscape("2026-11-02T00:00:00Z"), "fresh-secret", http.StatusOK, ""},
		{"an unsigned request is refused", "", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"another provider's secret is refused", "", "green-secret", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"a reversed range is BAD_USER_INPUT", "?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "fresh-secret", http.StatusBadRequest, "BAD_USER_INPUT"},
		{"a malformed time is BAD_USER_INPUT", "?from=yesterday", "fresh-secret", http.StatusBadRequest, "BAD_USER_INPUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked = nil
			status, body := signedGet(t, g.URL, path, tt.query, tt.secret)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, body)
			}
			if tt.code != "" {
				errs, _ := body["errors"].([]any)
				if len(errs) != 1 || errs[0].(map[string]any)["extensions"].(map[string]any)["code"] != tt.code {
					t.Fatalf("body %v, want code %s", body, tt.code)
				}
				if len(asked) != 0 {
					t.Fatalf("stats were read for a refused request: %v", asked)
				}
				return
			}
			if len(asked) != 1 || asked[0] != "freshcart" || body["provider"] != "freshcart" {
				t.Fatalf("asked %v, body %v: want freshcart's own stats", asked, body)
			}
			if stats := body["stats"].(map[string]any); stats["hours"] != 24.0 {
				t.Fatalf("range of %v hours, want 24", stats["hours"])
			}
		})
	}
}
