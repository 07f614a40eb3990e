package httpprovider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// countingServer answers /v1/health and counts the connections it accepted
// and closed.
type countingServer struct {
	*httptest.Server
	mu             sync.Mutex
	opened, closed int
}

func newCountingServer(tb testing.TB) *countingServer {
	tb.Helper()
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch st {
		case http.StateNew:
			s.opened++
		case http.StateClosed:
			s.closed++
		}
	}
	s.Start()
	tb.Cleanup(s.Close)
	return s
}

func (s *countingServer) counts() (opened, closed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened, s.closed
}

func pooledClient(tb testing.TB, id, url string, pool *Pool) *Client {
	tb.Helper()
	c, err := New(Config{ID: id, Vertical: connectors.VerticalGrocery, BaseURL: url, Secret: testSecret}, WithPool(pool))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestPool(t *testing.T) {
	t.Run("providers on one host share one pool and its connections", func(t *testing.T) {
		srv := newCountingServer(t)
		pool := NewPool(PoolConfig{})
		defer pool.CloseIdleConnections()
		for i := range 20 {
			c := pooledClient(t, fmt.Sprint("provider-", i), srv.URL, pool)
			if err := c.Health(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		if opened, _ := srv.counts(); pool.Hosts() != 1 || opened != 1 {
			t.Fatalf("20 providers on one host: %d pools, %d connections; want 1 and 1 (reused)", pool.Hosts(), opened)
		}
	})

	t.Run("drops the least recently used host past MaxHosts and closes its idle connections", func(t *testing.T) {
		a, b := newCountingServer(t), newCountingServer(t)
		pool := NewPool(PoolConfig{MaxHosts: 1})
		defer pool.CloseIdleConnections()
		if err := pooledClient(t, "at-a", a.URL, pool).Health(ctxTimeout(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := pooledClient(t, "at-b", b.URL, pool).Health(ctxTimeout(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		if pool.Hosts() != 1 {
			t.Fatalf("holds %d hosts, want 1", pool.Hosts())
		}
		deadline := time.Now().Add(5 * time.Second)
		for _, closed := a.counts(); closed != 1; _, closed = a.counts() {
			if time.Now().After(deadline) {
				t.Fatal("the dropped host's idle connection was never closed")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})

	t.Run("drops a host idle for IdleAfter", func(t *testing.T) {
		a, b := newCountingServer(t), newCountingServer(t)
		now := time.Unix(1_700_000_000, 0)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		pool := NewPool(PoolConfig{IdleAfter: time.Minute, Now: clock})
		defer pool.CloseIdleConnections()
		ca, cb := pooledClient(t, "at-a", a.URL, pool), pooledClient(t, "at-b", b.URL, pool)
		for _, c := range []*Client{ca, cb} {
			if err := c.Health(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		now = now.Add(2 * time.Minute)
		mu.Unlock()
		if err := cb.Health(ctxTimeout(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		if pool.Hosts() != 1 {
			t.Fatalf("holds %d hosts after a's idle period, want b's only", pool.Hosts())
		}
	})

	t.Run("holds at most MaxHosts after calls to 10^4 hosts", func(t *testing.T) {
		refused := errors.New("refused")
		pool := NewPool(PoolConfig{MaxHosts: 100, DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, refused }})
		hc := &http.Client{Transport: pool}
		for i := range 10_000 {
			resp, err := hc.Get(fmt.Sprintf("http://host-%d.invalid/v1/health", i))
			if err == nil {
				resp.Body.Close()
				t.Fatal("a call got through a dialer that refuses everything")
			}
		}
		if pool.Hosts() > 100 {
			t.Fatalf("holds %d hosts, want at most 100", pool.Hosts())
		}
	})
}
