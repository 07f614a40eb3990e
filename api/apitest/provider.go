package apitest

import (
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// Provider is a connector served over the HTTP provider contract on a
// loopback port, the way a provider's own process serves it. Its faults can
// be switched while it runs, it counts the requests that reach it, and it can
// be stopped (as a crash would: connections are cut) and started again on the
// same port with the same state, because the connector outlives the server.
type Provider struct {
	// Conn is the implementation behind the contract (usually a demo
	// provider); tests read its state directly, e.g. its UserOrders.
	Conn   connectors.Connector
	Secret string
	// Stats counts every request that reached the server, failed or not,
	// keyed "METHOD /path" (see httpprovider.Stats).
	Stats *httpprovider.Stats

	tb      testing.TB
	addr    string
	inner   http.Handler                 // the contract, without faults
	current atomic.Pointer[http.Handler] // inner behind the middleware in use
	handler http.Handler                 // current, counted

	mu  sync.Mutex
	srv *http.Server
}

// ServeProvider serves conn over the contract, signed with secret, on a free
// loopback port until the test ends.
func ServeProvider(tb testing.TB, conn connectors.Connector, secret string) *Provider {
	tb.Helper()
	p := &Provider{Conn: conn, Secret: secret, Stats: httpprovider.NewStats(), tb: tb}
	p.inner = httpprovider.NewHandler(conn, secret)
	p.Use(nil)
	p.handler = p.Stats.Count(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*p.current.Load()).ServeHTTP(w, r)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("provider %s: listen: %v", conn.Describe().ID, err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	tb.Cleanup(p.Stop)
	return p
}

// URL is the provider's base URL.
func (p *Provider) URL() string { return "http://" + p.addr }

// Addr is the provider's host:port; it stays the same across restarts.
func (p *Provider) Addr() string { return p.addr }

// Use puts middleware in front of the provider's handler for the requests
// that arrive from now on (inside the request counting); nil removes it.
func (p *Provider) Use(mw func(http.Handler) http.Handler) {
	h := p.inner
	if mw != nil {
		h = mw(h)
	}
	p.current.Store(&h)
}

// SetFaults injects f (httpprovider.Inject) into the requests that arrive
// from now on; Heal removes it.
func (p *Provider) SetFaults(f httpprovider.Faults) {
	p.Use(func(h http.Handler) http.Handler { return httpprovider.Inject(h, f) })
}

// Heal removes injected faults and middleware.
func (p *Provider) Heal() { p.Use(nil) }

// Calls returns how many requests reached the provider for path (any
// method), e.g. httpprovider.PathGroceryPlaceOrder.
func (p *Provider) Calls(path string) int64 {
	var n int64
	for k, v := range p.Stats.Snapshot() {
		if _, after, ok := strings.Cut(k, " "); ok && after == path {
			n += v
		}
	}
	return n
}

// TotalCalls returns how many requests reached the provider.
func (p *Provider) TotalCalls() int64 {
	var n int64
	for _, v := range p.Stats.Snapshot() {
		n += v
	}
	return n
}

// Stop closes the listener and cuts every connection, as a crashed process
// would. Calls to a stopped provider fail to connect.
func (p *Provider) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		_ = p.srv.Close()
		p.srv = nil
	}
}

// Stopped reports whether the provider is stopped.
func (p *Provider) Stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.srv == nil
}

// Start serves again on the same address, with the same connector state.
// It retries the bind for a moment in case the port is not free yet.
func (p *Provider) Start() {
	p.tb.Helper()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", p.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.tb.Errorf("provider %s: listen again on %s: %v", p.Conn.Describe().ID, p.addr, err)
		return
	}
	p.serve(ln)
}

func (p *Provider) serve(ln net.Listener) {
	// ErrorLog is discarded: connections cut by Stop would log noise.
	srv := &http.Server{Handler: p.handler, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.tb.Errorf("provider %s: serve: %v", p.Conn.Describe().ID, err)
		}
	}()
}

// Client returns the gateway's connector for this provider: an
// httpprovider.Client carrying the connector's descriptor, with timeout as
// its own per-call bound (0: the client's default).
func (p *Provider) Client(timeout time.Duration) *httpprovider.Client {
	p.tb.Helper()
	d := p.Conn.Describe()
	c, err := httpprovider.New(httpprovider.Config{
		ID: d.ID, Vertical: d.Vertical, BaseURL: p.URL(), Secret: p.Secret, Timeout: timeout,
		MaxBatch: d.MaxBatch, Name: d.Name, Description: d.Description, Rating: d.Rating, Cities: d.Cities,
	})
	if err != nil {
		p.tb.Fatalf("provider %s: client: %v", d.ID, err)
	}
	p.tb.Cleanup(c.CloseIdleConnections)
	return c
}
