package gateway

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Call is one connector call made while serving a request, as reported in
// `extensions.plaza.calls` when the client sends `Plaza-Debug: calls`.
type Call struct {
	Provider   string  `json:"provider"`
	Operation  string  `json:"operation"`
	Keys       int     `json:"keys"`
	DurationMs float64 `json:"durationMs"`
	Error      string  `json:"error,omitempty"`
}

// CacheCount is the per-request cache outcome for one GraphQL type.
type CacheCount struct {
	Type   string `json:"type"`
	Hits   int    `json:"hits"`
	Misses int    `json:"misses"`
	Stale  int    `json:"stale"`
}

// Degraded names a provider left out of a fan-out and why.
type Degraded struct {
	Provider string `json:"provider"`
	Reason   string `json:"reason"`
}

// Stats collects what one request cost. It is created per request by the HTTP
// layer and filled by the gateway; all methods are safe for concurrent use
// and a nil *Stats ignores everything, so code paths never check for it.
type Stats struct {
	mu       sync.Mutex
	calls    []Call
	cache    map[string]*CacheCount
	degraded map[string]string
	stale    []string
}

type statsKey struct{}

// WithStats returns ctx carrying a fresh *Stats.
func WithStats(ctx context.Context) (context.Context, *Stats) {
	s := &Stats{}
	return context.WithValue(ctx, statsKey{}, s), s
}

// StatsFrom returns the request's *Stats, or nil.
func StatsFrom(ctx context.Context) *Stats {
	s, _ := ctx.Value(statsKey{}).(*Stats)
	return s
}

func (s *Stats) addCall(c Call) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

func (s *Stats) addCache(typ string, hits, misses, stale int) {
	if s == nil || hits+misses+stale == 0 {
		return
	}
	s.mu.Lock()
	if s.cache == nil {
		s.cache = map[string]*CacheCount{}
	}
	c := s.cache[typ]
	if c == nil {
		c = &CacheCount{Type: typ}
		s.cache[typ] = c
	}
	c.Hits += hits
	c.Misses += misses
	c.Stale += stale
	s.mu.Unlock()
}

// AddDegraded records that provider was left out of a fan-out.
func (s *Stats) AddDegraded(provider, reason string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.degraded == nil {
		s.degraded = map[string]string{}
	}
	if _, ok := s.degraded[provider]; !ok {
		s.degraded[provider] = reason
	}
	s.mu.Unlock()
}

// AddStale records a response path served from a stale cache entry.
func (s *Stats) AddStale(path string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.stale = append(s.stale, path)
	s.mu.Unlock()
}

// Calls returns the connector calls in the order they finished.
func (s *Stats) Calls() []Call {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Cache returns per-type cache counts ordered by type name.
func (s *Stats) Cache() []CacheCount {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CacheCount, 0, len(s.cache))
	for _, c := range s.cache {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// Degraded returns the providers left out, ordered by provider.
func (s *Stats) Degraded() []Degraded {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Degraded, 0, len(s.degraded))
	for p, r := range s.degraded {
		out = append(out, Degraded{Provider: p, Reason: r})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out
}

// Stale returns the paths served stale, sorted.
func (s *Stats) Stale() []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.stale...)
	sort.Strings(out)
	return out
}

func msSince(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}
