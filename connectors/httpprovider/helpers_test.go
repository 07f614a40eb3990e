package httpprovider

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

const testSecret = "test-secret"

// mustServe serves h on a real loopback listener for the test's lifetime.
func mustServe(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// mustClient builds a Client for conn's descriptor pointed at url; mods
// adjust the Config.
func mustClient(tb testing.TB, desc connectors.Descriptor, url string, mods ...func(*Config)) *Client {
	tb.Helper()
	cfg := Config{ID: desc.ID, Vertical: desc.Vertical, BaseURL: url, Secret: testSecret, Name: desc.Name, Cities: desc.Cities}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(c.CloseIdleConnections)
	return c
}

// mustKind fails unless err is a *connectors.Error of kind want from
// provider.
func mustKind(tb testing.TB, err error, want connectors.Kind, provider string) *connectors.Error {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %s", want)
	}
	var e *connectors.Error
	if !errors.As(err, &e) {
		tb.Fatalf("got %T %v, want *connectors.Error", err, err)
	}
	if e.Kind != want {
		tb.Fatalf("got kind %s (%v), want %s", e.Kind, err, want)
	}
	if e.Provider != provider {
		tb.Fatalf("got provider %q, want %q", e.Provider, provider)
	}
	return e
}

func ctxTimeout(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}
