package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// maxInvalidateIDs bounds one invalidation call.
const maxInvalidateIDs = 1000

// invalidateRetryAfter is the Retry-After, in seconds, of an invalidation
// refused because Redis is down: the cache probes Redis every 500 ms.
const invalidateRetryAfter = "1"

// providerAuth verifies requests providers send to the gateway, signed with
// their secret the same way the gateway signs its requests to them.
type providerAuth struct {
	secret    func(provider string) (string, bool)
	mu        sync.Mutex
	verifiers map[string]*httpprovider.RequestVerifier
}

func (p *providerAuth) verify(r *http.Request, provider string, body []byte) string {
	secret, ok := p.secret(provider)
	if !ok || secret == "" {
		return "unknown provider"
	}
	p.mu.Lock()
	v := p.verifiers[provider+"\x00"+secret]
	if v == nil {
		v = httpprovider.NewRequestVerifier(secret, 0, nil)
		p.verifiers[provider+"\x00"+secret] = v
	}
	p.mu.Unlock()
	return v.Verify(r, body)
}

// invalidate serves POST /providers/{id}/invalidate: a JSON body
// {"ids": ["<global id>", ...]} naming entities of that provider that
// changed. A 204 means they are gone from Redis, and no instance serves them
// more than cache.DefaultL1TTL (100 ms) after the 204, broadcast or not (see
// cache.Tiered). When Redis cannot take the delete it answers 503 with
// Retry-After: the old values would come back with Redis, so the provider
// must retry rather than believe they are gone.
func (s *Server) invalidate(w http.ResponseWriter, r *http.Request) {
	provider := r.PathValue("id")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 256<<10))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, connectors.KindInvalid, "body too large")
		return
	}
	if reason := s.providers.verify(r, provider, body); reason != "" {
		writeError(w, http.StatusUnauthorized, connectors.KindUnauthenticated, reason)
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
	if reason := s.providers.verify(r, provider, nil); reason != "" {
		writeError(w, http.StatusUnauthorized, connectors.KindUnauthenticated, reason)
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
