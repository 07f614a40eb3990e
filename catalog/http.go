package catalog

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// MaxBodyBytes caps one push: a full batch of connectors.MaxCatalogBatch
// items with long descriptions fits well under it.
const MaxBodyBytes = 8 << 20

// Secrets returns the secrets that verify a provider's requests now: its
// secret and, during a rotation's overlap, the previous one; none for a
// provider the gateway does not know.
type Secrets func(provider string) []string

// Handler serves POST /providers/{id}/catalog: a provider's push, signed
// with its secret (scheme v2 of the contract, the same headers and replay
// window as every request). The provider is the {id} whose secret verifies
// the signature; an item naming another provider is refused.
//
// Answers: 200 with the ack (one outcome per change); 401 for a missing,
// bad or replayed signature or an unknown provider; 400 for a body that is
// not a push or holds more than connectors.MaxCatalogBatch changes; 413
// for a body over MaxBodyBytes; 403 over the item cap; 429 with
// Retry-After over the pushes per minute; 503 with Retry-After when the
// index or the replay store is down. Every refusal of the whole push
// indexes nothing.
type Handler struct {
	ingest   *Ingest
	secrets  Secrets
	verifier *httpprovider.RequestVerifier
	log      *slog.Logger
}

// NewHandler returns the push endpoint over in. verifier checks the
// signatures (give it the shared replay cache when instances share Redis).
func NewHandler(in *Ingest, secrets Secrets, verifier *httpprovider.RequestVerifier, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{ingest: in, secrets: secrets, verifier: verifier, log: log}
}

// Pattern is the route the handler is mounted on (http.ServeMux syntax).
const Pattern = "POST " + httpprovider.PathGatewayCatalog

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	provider := r.PathValue("id")
	if provider == "" { // mounted without the pattern: read it from the path
		rest, _ := strings.CutPrefix(r.URL.Path, "/providers/")
		provider, _ = strings.CutSuffix(rest, "/catalog")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			httpprovider.WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"code": connectors.KindInvalid,
				"message": "push body over 8 MiB: split it into several pushes", "retryable": false})
			return
		}
		httpprovider.WriteError(w, connectors.Errorf(connectors.KindInvalid, "could not read the push body"))
		return
	}
	secrets := h.secrets(provider)
	if len(secrets) == 0 {
		httpprovider.WriteError(w, connectors.Errorf(connectors.KindUnauthenticated, "unknown provider %q", provider))
		return
	}
	if _, err := h.verifier.VerifyAny(r.Context(), r, body, secrets); err != nil {
		var refused *httpprovider.SignatureError
		if errors.As(err, &refused) {
			httpprovider.WriteError(w, connectors.Errorf(connectors.KindUnauthenticated, "%s", refused.Reason))
			return
		}
		h.log.ErrorContext(r.Context(), "catalog push: replay check failed, refusing with 503", "provider", provider, "err", err)
		httpprovider.WriteError(w, &connectors.Error{Kind: connectors.KindUnavailable, Retryable: true, RetryAfterMs: 5000,
			Message: "replay protection is unavailable; retry after the Retry-After delay"})
		return
	}
	var b connectors.CatalogBatch
	if err := httpprovider.DecodeStrict(body, &b); err != nil {
		httpprovider.WriteError(w, connectors.Errorf(connectors.KindInvalid,
			"body must be a push {\"upserts\": [item, ...], \"deletes\": [{kind, id, version}, ...]}: %v", err))
		return
	}
	ack, err := h.ingest.Publish(r.Context(), provider, b)
	if err != nil {
		if k := connectors.KindOf(err); k == connectors.KindUnavailable || k == connectors.KindInternal {
			h.log.ErrorContext(r.Context(), "catalog push failed", "provider", provider, "err", err)
		}
		httpprovider.WriteError(w, err)
		return
	}
	httpprovider.WriteJSON(w, http.StatusOK, ack)
}
