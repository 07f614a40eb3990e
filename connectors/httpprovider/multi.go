package httpprovider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/plaza-gateway/plaza/connectors"
)

// Resolve returns the connector of provider id, or an error of kind
// KindNotFound when the endpoint does not serve it.
type Resolve func(ctx context.Context, id string) (connectors.Connector, error)

// DefaultMultiProviders bounds the providers a multi-provider handler keeps
// built at once; the least recently called is dropped (and rebuilt by
// Resolve when called again).
const DefaultMultiProviders = 1024

// MultiHandler serves many providers at one endpoint over the contract:
// each request names its provider in Plaza-Provider, which scheme v3
// signs, and is answered by that provider's connector. It is how one
// demo-provider process stands in for the thousands of providers
// `plaza providers generate --endpoint` points at it. Per-provider state is
// created on a provider's first request and bounded (an LRU of
// DefaultMultiProviders handlers).
type MultiHandler struct {
	resolve  Resolve
	secret   string
	opts     []HandlerOption
	base     *Handler // its options, verifier and replay cache serve every provider
	handlers *lru.Cache[string, http.Handler]
}

// NewMultiHandler serves the providers resolve knows, all signing with
// secret. Requests must be signed with scheme v3 (which covers
// Plaza-Provider): a v1 or v2 signature does not say which provider it was
// meant for, so it could be replayed against another one sharing the
// secret. opts are NewHandler's; WithReplayCache and the clock apply to
// every provider at once.
func NewMultiHandler(resolve Resolve, secret string, opts ...HandlerOption) *MultiHandler {
	base := NewHandler(noProvider{}, secret, opts...).(*Handler)
	cache, _ := lru.New[string, http.Handler](DefaultMultiProviders)
	return &MultiHandler{resolve: resolve, secret: secret, opts: opts, base: base, handlers: cache}
}

func (m *MultiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(HeaderProvider)
	if id == "" {
		if r.URL.Path == PathHealth {
			// The process's own health, for load balancers that name no provider.
			writeJSON(w, http.StatusOK, healthResponse{Status: "ok"})
			return
		}
		writeError(w, connectors.Errorf(connectors.KindInvalid, "this endpoint serves several providers: name one in the %s header", HeaderProvider))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, m.base.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeJSON(w, http.StatusRequestEntityTooLarge, wireError{Code: connectors.KindInvalid, Message: "request body too large"})
			return
		}
		writeError(w, connectors.Wrap(err, connectors.KindInvalid, "could not read request body"))
		return
	}
	if !m.base.unsigned {
		if m.secret == "" {
			writeError(w, connectors.Errorf(connectors.KindUnauthenticated, "provider has no secret configured"))
			return
		}
		scheme, err := m.base.verify.verify(r.Context(), []string{m.secret}, signedFrom(r, body))
		var refused *SignatureError
		switch {
		case errors.As(err, &refused):
			writeError(w, connectors.Errorf(connectors.KindUnauthenticated, "%s", refused.Reason))
			return
		case err != nil:
			writeError(w, &connectors.Error{Kind: connectors.KindUnavailable, Message: "replay protection unavailable, retry shortly",
				Retryable: true, RetryAfterMs: retryAfterUnavailable.Milliseconds(), Err: err})
			return
		case scheme != SchemeV3:
			writeError(w, connectors.Errorf(connectors.KindUnauthenticated,
				"this endpoint serves several providers: sign with v3, which covers the %s header", HeaderProvider))
			return
		}
	}
	h, err := m.handler(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h.ServeHTTP(w, r)
}

// handler returns id's handler, building it on first use. The signature was
// checked once, here: the per-provider handlers do not check it again (the
// replay cache would take the same request for a replay).
func (m *MultiHandler) handler(ctx context.Context, id string) (http.Handler, error) {
	if h, ok := m.handlers.Get(id); ok {
		return h, nil
	}
	if !connectors.ValidProviderID(id) {
		return nil, connectors.Errorf(connectors.KindNotFound, "provider %q is not served at this endpoint", truncateID(id))
	}
	conn, err := m.resolve(ctx, id)
	if err != nil {
		if connectors.KindOf(err) == connectors.KindNotFound {
			return nil, connectors.Errorf(connectors.KindNotFound, "provider %q is not served at this endpoint", id)
		}
		return nil, fmt.Errorf("provider %s: %w", id, err)
	}
	h := NewHandler(conn, "", append(append([]HandlerOption(nil), m.opts...), AllowUnsigned())...)
	m.handlers.Add(id, h)
	return h, nil
}

// noProvider is the connector of MultiHandler's base handler, which only
// lends its options and verifier.
type noProvider struct{}

func (noProvider) Describe() connectors.Descriptor { return connectors.Descriptor{} }
