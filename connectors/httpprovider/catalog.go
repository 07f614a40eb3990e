package httpprovider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/plaza-gateway/plaza/connectors"
)

// Catalogue publishing over HTTP (contract 1.2): the provider serves its
// changes at GET /v1/catalog (the gateway pulls), and pushes batches to the
// gateway's POST /providers/{id}/catalog through a Publisher.

// queryKey carries a GET request's query string to its operation.
type queryKey struct{}

// catalogOp serves GET /v1/catalog?since=<cursor>&first=<n>.
func catalogOp(c connectors.Catalog) opFunc {
	return func(ctx context.Context, _ []byte, _ string) (int, any, error) {
		q, _ := ctx.Value(queryKey{}).(url.Values)
		first := 0
		if v := q.Get("first"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > connectors.MaxCatalogBatch {
				return 0, nil, connectors.Errorf(connectors.KindInvalid, "first must be 1 to %d", connectors.MaxCatalogBatch)
			}
			first = n
		}
		ch, err := c.CatalogChanges(ctx, q.Get("since"), first)
		if err != nil {
			return 0, nil, err
		}
		if ch.Upserts == nil {
			ch.Upserts = []connectors.CatalogItem{}
		}
		if ch.Deletes == nil {
			ch.Deletes = []connectors.CatalogDelete{}
		}
		return http.StatusOK, ch, nil
	}
}

// CatalogChanges implements connectors.Catalog: GET /v1/catalog. A
// provider of contract 1.1 answers 404: the error is KindNotFound, and the
// provider does not publish.
func (c *Client) CatalogChanges(ctx context.Context, since string, first int) (connectors.CatalogChanges, error) {
	q := url.Values{}
	if since != "" {
		q.Set("since", since)
	}
	if first > 0 {
		q.Set("first", strconv.Itoa(first))
	}
	path := PathCatalog
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out connectors.CatalogChanges
	if err := c.call(ctx, http.MethodGet, path, nil, "", &out); err != nil {
		return connectors.CatalogChanges{}, err
	}
	if n := len(out.Upserts) + len(out.Deletes); n > connectors.MaxCatalogBatch || first > 0 && n > first {
		return connectors.CatalogChanges{}, c.errorf(connectors.KindProvider, fmt.Errorf("catalog page of %d changes", n), "provider catalogue page too large")
	}
	return out, nil
}

// Publisher pushes one provider's catalogue to the gateway, signed with
// the provider's secret like every request of the contract.
type Publisher struct{ c *Client }

var _ connectors.Publisher = (*Publisher)(nil)

// NewPublisher returns the publisher of provider cfg.ID: cfg.BaseURL is the
// gateway's root (e.g. "http://127.0.0.1:8080"), cfg.Secret the provider's
// signing secret, cfg.Vertical its vertical. The options are the Client's.
func NewPublisher(cfg Config, opts ...Option) (*Publisher, error) {
	c, err := New(cfg, opts...)
	if err != nil {
		return nil, err
	}
	c.toGateway = true
	return &Publisher{c: c}, nil
}

// Publish implements connectors.Publisher: POST /providers/{id}/catalog.
// The whole push refused (bad signature, quota, oversized batch) is an
// error with the gateway's kind and message; per-change outcomes are in
// the ack.
func (p *Publisher) Publish(ctx context.Context, provider string, b connectors.CatalogBatch) (connectors.CatalogAck, error) {
	if provider != p.c.desc.ID {
		return connectors.CatalogAck{}, connectors.Errorf(connectors.KindInvalid, "this publisher signs for %q, not %q", p.c.desc.ID, provider)
	}
	if b.Upserts == nil {
		b.Upserts = []connectors.CatalogItem{}
	}
	var ack connectors.CatalogAck
	path := strings.Replace(PathGatewayCatalog, "{id}", url.PathEscape(provider), 1)
	if err := p.c.call(ctx, http.MethodPost, path, b, "", &ack); err != nil {
		return connectors.CatalogAck{}, err
	}
	return ack, nil
}

// CloseIdleConnections releases the publisher's connections.
func (p *Publisher) CloseIdleConnections() { p.c.CloseIdleConnections() }

// WriteError answers with the contract's error model for err: the status
// of its kind, {code, message, retryable}, and Retry-After for 429 (and
// 503 when the error says when). The gateway's catalogue endpoint answers
// providers with it, as a provider answers the gateway.
func WriteError(w http.ResponseWriter, err error) { writeError(w, err) }

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// DecodeStrict decodes exactly one JSON value into v, refusing unknown
// fields and trailing data, as the contract's requests are decoded.
func DecodeStrict(data []byte, v any) error { return decodeStrict(data, v) }
