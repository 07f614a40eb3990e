package httpprovider

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/plaza-gateway/plaza/idlecache"
)

// PoolConfig sizes a Pool. Zero fields take the defaults named on each.
type PoolConfig struct {
	// MaxHosts bounds the hosts with a pool of their own (default 1,024):
	// past it, the least recently used host not in a call loses its pool
	// and its idle connections.
	MaxHosts int
	// IdleAfter drops the pool of a host not called for this long (default
	// 2 minutes, a little longer than a connection's own idle timeout).
	IdleAfter time.Duration
	// MaxIdleConnsPerHost and MaxConnsPerHost size each host's pool
	// (defaults DefaultMaxIdleConnsPerHost and DefaultMaxConnsPerHost). A
	// provider's own share is bounded by its bulkhead, not here.
	MaxIdleConnsPerHost int
	MaxConnsPerHost     int
	// DialContext opens connections (default a net.Dialer with a 2 s
	// timeout).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Pool is the keep-alive connections to providers, one pool per host
// (scheme and host:port): every provider served from one host shares its
// connections, so a thousand providers behind one endpoint hold one pool,
// not a thousand. A host's pool is created on its first call and dropped
// (its idle connections closed) when it has been idle for IdleAfter or when
// MaxHosts busier hosts push it out; a pool with a call in flight is never
// dropped, so a response being read keeps its connection. Pool is an
// http.RoundTripper; build it with NewPool and share it across registry
// reloads with WithPool.
type Pool struct {
	hosts *idlecache.Cache[string, *http.Transport]
}

// NewPool returns an empty pool.
func NewPool(cfg PoolConfig) *Pool {
	if cfg.MaxHosts <= 0 {
		cfg.MaxHosts = 1024
	}
	if cfg.IdleAfter <= 0 {
		cfg.IdleAfter = 2 * time.Minute
	}
	if cfg.MaxIdleConnsPerHost <= 0 {
		cfg.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	if cfg.MaxConnsPerHost <= 0 {
		cfg.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if cfg.DialContext == nil {
		cfg.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	return &Pool{hosts: idlecache.New(idlecache.Config[string, *http.Transport]{
		New: func(string) *http.Transport {
			return &http.Transport{
				Proxy:                 nil, // providers are called directly, never through an environment proxy
				DialContext:           cfg.DialContext,
				ForceAttemptHTTP2:     true,
				MaxIdleConns:          cfg.MaxIdleConnsPerHost, // one host per transport
				MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
				MaxConnsPerHost:       cfg.MaxConnsPerHost,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   2 * time.Second,
				ExpectContinueTimeout: time.Second,
			}
		},
		Drop:      func(_ string, t *http.Transport) { t.CloseIdleConnections() },
		Max:       cfg.MaxHosts,
		IdleAfter: cfg.IdleAfter,
		Now:       cfg.Now,
	})}
}

// RoundTrip sends req through its host's pool. The host counts as in use
// until the response body is closed.
func (p *Pool) RoundTrip(req *http.Request) (*http.Response, error) {
	e := p.hosts.Acquire(req.URL.Scheme + "://" + req.URL.Host)
	resp, err := e.Value.RoundTrip(req)
	if err != nil {
		e.Release()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: e.Release}
	return resp, nil
}

// Hosts is how many hosts have a pool.
func (p *Pool) Hosts() int { return p.hosts.Len() }

// CloseIdleConnections closes the idle connections of every host's pool
// (http.Client.CloseIdleConnections calls it).
func (p *Pool) CloseIdleConnections() {
	var ts []*http.Transport
	p.hosts.Each(func(_ string, t *http.Transport) { ts = append(ts, t) })
	for _, t := range ts {
		t.CloseIdleConnections()
	}
}

// releasingBody ends its host's use once, when the body is closed.
type releasingBody struct {
	io.ReadCloser
	released atomic.Bool
	release  func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	if b.released.CompareAndSwap(false, true) {
		b.release()
	}
	return err
}
