package api

import (
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// maxInvalidateIDs bounds one invalidation call.
const maxInvalidateIDs = 1000

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
// changed. They are dropped from every cache tier of every instance before
// the call answers 204.
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
		writeError(w, http.StatusInternalServerError, connectors.KindInternal, "invalidation failed")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
