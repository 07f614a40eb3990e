package api

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// The v1 stragglers are named in the log, once per provider per hour, and
// nowhere in the metrics (see TestWebhookSignatureSchemes for the metric).
func TestProvidersStillOnV1AreLoggedOncePerProvider(t *testing.T) {
	var logs bytes.Buffer
	until := time.Now().Add(time.Hour)
	p := newProviderAuth(options{
		secrets: func(string) []string { return []string{"s3cret"} },
		webhook: webhookOptions{v1Until: &until},
	}, slog.New(slog.NewTextHandler(&logs, nil)))
	send := func(provider string, scheme httpprovider.Scheme) int {
		path := "/providers/" + provider + "/stats"
		r := httptest.NewRequest(http.MethodGet, path, nil)
		ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), rand.Text()
		sig := httpprovider.SignV2("s3cret", ts, nonce, http.MethodGet, path, "", nil)
		if scheme == httpprovider.SchemeV1 {
			sig = httpprovider.Sign("s3cret", ts, nonce, http.MethodGet, path, nil)
		}
		r.Header.Set(httpprovider.HeaderTimestamp, ts)
		r.Header.Set(httpprovider.HeaderNonce, nonce)
		r.Header.Set(httpprovider.HeaderSignature, sig)
		w := httptest.NewRecorder()
		p.authenticate(w, r, provider, nil)
		return w.Code
	}
	for _, c := range []struct {
		provider string
		scheme   httpprovider.Scheme
	}{{"freshcart", "v1"}, {"freshcart", "v1"}, {"freshcart", "v1"}, {"greenbasket", "v1"}, {"medilink", "v2"}} {
		if code := send(c.provider, c.scheme); code != http.StatusOK {
			t.Fatalf("%s %s: status %d, want accepted", c.provider, c.scheme, code)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "provider=freshcart") || !strings.Contains(lines[1], "provider=greenbasket") {
		t.Fatalf("log lines:\n%s\nwant one for freshcart and one for greenbasket", logs.String())
	}
	t.Run("a provider still on v1 an hour later is named again", func(t *testing.T) {
		logs.Reset()
		p.now = func() time.Time { return time.Now().Add(v1LogEvery) }
		send("freshcart", httpprovider.SchemeV1)
		send("freshcart", httpprovider.SchemeV1)
		if n := strings.Count(logs.String(), "provider=freshcart"); n != 1 {
			t.Fatalf("%d lines, want 1:\n%s", n, logs.String())
		}
	})
}
