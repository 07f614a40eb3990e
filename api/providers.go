package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// maxInvalidateIDs bounds one invalidation call.
const maxInvalidateIDs = 1000

// invalidateRetryAfter is the Retry-After, in seconds, of an invalidation
// refused because Redis is down: the cache probes Redis every 500 ms.
const invalidateRetryAfter = "1"

// webhookRetryAfter is the Retry-After of a webhook refused because the
// replay cache (Redis) is down: long enough for a reconnect, short enough
// that an invalidation is not much later than the change it reports.
const webhookRetryAfter = 5 * time.Second

// v1LogEvery and v1LogProviders bound the log line that names providers
// still signing with scheme v1: at most once per provider per period, and
// at most that many providers remembered (an LRU), so neither the log nor
// memory grows with the number of providers.
const (
	v1LogEvery     = time.Hour
	v1LogProviders = 4096
)

// webhookOptions configure how providers' signed requests are checked.
type webhookOptions struct {
	replay  httpprovider.ReplayCache
	v1Until *time.Time
}

// WithWebhookReplayCache remembers the signatures of providers' requests
// in c. Give every instance the same Redis (httpprovider.RedisReplayCache)
// so a request accepted by one instance is a replay on the others; when c
// fails, requests are refused with 503 and Retry-After (fail closed).
// Without it each instance remembers what it saw itself, which is right
// only for a gateway of one instance (no Redis).
func WithWebhookReplayCache(c httpprovider.ReplayCache) Option {
	return func(o *options) { o.webhook.replay = c }
}

// WithSignatureV1Until accepts providers' requests signed with scheme v1
// (no query string) until t; from t on they are refused with 401 saying to
// sign with v2. Default httpprovider.DefaultV1Until; the zero time refuses
// v1 at once.
func WithSignatureV1Until(t time.Time) Option {
	return func(o *options) { o.webhook.v1Until = &t }
}

// providerAuth verifies requests providers send to the gateway, signed with
// their secret the same way the gateway signs its requests to them. It keeps
// nothing per provider except the bounded LRU behind the v1 log line.
type providerAuth struct {
	secret     func(provider string) []string
	verifier   *httpprovider.RequestVerifier
	log        *slog.Logger
	signatures *prometheus.CounterVec // by scheme and result; never by provider

	mu       sync.Mutex
	v1Logged *simplelru.LRU[string, time.Time] // provider -> when it was last named
	now      func() time.Time
}

func newProviderAuth(o options, log *slog.Logger) *providerAuth {
	replay := o.webhook.replay
	if replay == nil {
		replay = httpprovider.NewMemoryReplayCache(httpprovider.DefaultReplayWindow, nil)
	}
	vopts := []httpprovider.VerifierOption{}
	if o.webhook.v1Until != nil {
		vopts = append(vopts, httpprovider.WithVerifierV1Until(*o.webhook.v1Until))
	}
	p := &providerAuth{
		secret:   o.secrets,
		verifier: httpprovider.NewRequestVerifier(replay, vopts...),
		log:      log,
		signatures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_provider_webhook_signatures_total",
			Help: "Signed requests from providers to the gateway (invalidation, stats) by signature scheme (v1, v2, none) and result (accepted, refused, unavailable). Which providers still sign with v1 is logged, not labelled.",
		}, []string{"scheme", "result"}),
		now: time.Now,
	}
	// An LRU without a background goroutine: entries are compared with the
	// clock when read, and the least recently named provider is dropped
	// when v1LogProviders are held.
	p.v1Logged, _ = simplelru.NewLRU[string, time.Time](v1LogProviders, nil)
	if o.metrics != nil {
		if err := o.metrics.Register(p.signatures); err != nil {
			// A second server on the same registry (tests) shares the counter.
			var dup prometheus.AlreadyRegisteredError
			if errors.As(err, &dup) {
				p.signatures = dup.ExistingCollector.(*prometheus.CounterVec)
			}
		}
	}
	return p
}

// authenticate checks r's signature with provider's secret. When it is
// refused it answers the request (401, or 503 with Retry-After when the
// replay cache is down) and returns false.
func (p *providerAuth) authenticate(w http.ResponseWriter, r *http.Request, provider string, body []byte) bool {
	secrets := p.secret(provider)
	if len(secrets) == 0 {
		p.signatures.WithLabelValues("none", "refused").Inc()
		writeError(w, http.StatusUnauthorized, connectors.KindUnauthenticated, "unknown provider")
		return false
	}
	scheme, err := p.verifier.VerifyAny(r.Context(), r, body, secrets)
	label := string(scheme)
	if label == "" {
		label = "none"
	}
	var refused *httpprovider.SignatureError
	switch {
	case err == nil:
		p.signatures.WithLabelValues(label, "accepted").Inc()
		if scheme == httpprovider.SchemeV1 {
			p.logV1(r.Context(), provider)
		}
		return true
	case errors.As(err, &refused):
		p.signatures.WithLabelValues(label, "refused").Inc()
		writeError(w, http.StatusUnauthorized, connectors.KindUnauthenticated, refused.Reason)
		return false
	}
	p.signatures.WithLabelValues(label, "unavailable").Inc()
	p.log.ErrorContext(r.Context(), "provider webhook: replay check failed, refusing with 503", "provider", provider, "err", err)
	w.Header().Set("Retry-After", strconv.Itoa(int(webhookRetryAfter/time.Second)))
	writeError(w, http.StatusServiceUnavailable, connectors.KindUnavailable, "replay protection is unavailable; retry after the Retry-After delay")
	return false
}

// logV1 names a provider that still signs with scheme v1, at most once per
// v1LogEvery, so operators can chase the stragglers before the window ends.
func (p *providerAuth) logV1(ctx context.Context, provider string) {
	now := p.now()
	p.mu.Lock()
	last, seen := p.v1Logged.Get(provider)
	due := !seen || now.Sub(last) >= v1LogEvery
	if due {
		p.v1Logged.Add(provider, now)
	}
	p.mu.Unlock()
	if due {
		p.log.WarnContext(ctx, "provider webhook signed with scheme v1 (no query string); it is refused once the transition window ends",
			"provider", provider, "next_report_after", v1LogEvery.String())
	}
}

// invalidate serves POST /providers/{id}/invalidate: a JSON body
// {"ids": ["<global id>", ...]} naming entities of that provider that
// changed. A 204 means they are gone from Redis, and no instance serves them
// more than cache.DefaultL1TTL (100 ms) after the 204, broadcast or not (see
// cache.Tiered). When Redis cannot take the delete it answers 503 with
// Retry-After: the old values would come back with Redis, so the provider
// must retry rather than believe they are gone.
func (s *Server) invalidate(w http.ResponseWriter, r *http.Request) {
	provider, body, ok := s.signedBody(w, r, 256<<10)
	if !ok {
		return
	}
	var req struct {
		IDs []string `json:"ids"`
	}
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, connectors.KindInvalid, "body must be {\"ids\": [\"<global id>\", ...]}")
		return
	}
	if len(req.IDs) == 0 || len(req.IDs) > maxInvalidateIDs {
		writeError(w, http.StatusBadRequest, connectors.KindInvalid, "ids must hold 1 to 1000 global ids")
		return
	}
	if s.gw.Cache() == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := s.gw.InvalidateForProvider(r.Context(), provider, req.IDs); err != nil {
		var e *connectors.Error
		if errors.As(err, &e) && (e.Kind == connectors.KindInvalid || e.Kind == connectors.KindForbidden) {
			status := http.StatusBadRequest
			if e.Kind == connectors.KindForbidden {
				status = http.StatusForbidden
			}
			writeError(w, status, e.Kind, e.Message)
			return
		}
		s.log.ErrorContext(r.Context(), "provider invalidation failed", "provider", provider, "err", err)
		if errors.Is(err, cache.ErrUnavailable) {
			w.Header().Set("Retry-After", invalidateRetryAfter)
			writeError(w, http.StatusServiceUnavailable, connectors.KindUnavailable, "the cache is unavailable; the invalidation did not happen, retry")
			return
		}
		writeError(w, http.StatusInternalServerError, connectors.KindInternal, "invalidation failed")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// signedBody reads the body (at most limit bytes) of a provider's request
// to /providers/{id}/... and checks its signature. When it is refused it
// has answered the request (413, 401 or 503) and ok is false.
func (s *Server) signedBody(w http.ResponseWriter, r *http.Request, limit int64) (provider string, body []byte, ok bool) {
	provider = r.PathValue("id")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, connectors.KindInvalid, "body too large")
		return provider, nil, false
	}
	return provider, body, s.providers.authenticate(w, r, provider, body)
}

// ProviderStats returns what one provider may see about its own traffic
// through the gateway between from and to.
type ProviderStats func(ctx context.Context, provider string, from, to time.Time) (any, error)

// maxStatsRange bounds one stats request.
const maxStatsRange = 31 * 24 * time.Hour

// stats serves GET /providers/{id}/stats?from=RFC3339&to=RFC3339 (default:
// the last 24 hours): the provider's own calls, errors, latency and
// conversions, signed with its secret like the invalidation webhook. A
// provider sees only its own numbers.
func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	provider := r.PathValue("id")
	if !s.providers.authenticate(w, r, provider, nil) {
		return
	}
	if s.opts.stats == nil {
		writeError(w, http.StatusNotFound, connectors.KindNotFound, "provider statistics are not enabled")
		return
	}
	to, from := time.Now().UTC(), time.Time{}
	var err error
	if v := r.URL.Query().Get("to"); v != "" {
		if to, err = time.Parse(time.RFC3339, v); err != nil {
			writeError(w, http.StatusBadRequest, connectors.KindInvalid, "to must be an RFC 3339 time")
			return
		}
	}
	from = to.Add(-24 * time.Hour)
	if v := r.URL.Query().Get("from"); v != "" {
		if from, err = time.Parse(time.RFC3339, v); err != nil {
			writeError(w, http.StatusBadRequest, connectors.KindInvalid, "from must be an RFC 3339 time")
			return
		}
	}
	if !to.After(from) || to.Sub(from) > maxStatsRange {
		writeError(w, http.StatusBadRequest, connectors.KindInvalid, "from must be before to, at most 31 days apart")
		return
	}
	out, err := s.opts.stats(r.Context(), provider, from, to)
	if err != nil {
		s.log.ErrorContext(r.Context(), "provider stats failed", "provider", provider, "err", err)
		writeError(w, http.StatusInternalServerError, connectors.KindInternal, "internal error")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"provider": provider, "from": from, "to": to, "stats": out})
}
