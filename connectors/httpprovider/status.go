package httpprovider

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/plaza-gateway/plaza/live"
)

// StatusReporter reports one provider's status changes to the gateway's
// signed POST /providers/{id}/status (the webhook behind the statusChanged
// subscription), signed like every request of the contract. It is the
// live.Publisher a provider process moves its orders and bookings through,
// as the gateway's embedded demo providers publish on its bus in process.
type StatusReporter struct{ c *Client }

var _ live.Publisher = (*StatusReporter)(nil)

// NewStatusReporter returns the reporter of provider cfg.ID: cfg.BaseURL is
// the gateway's root, cfg.Secret the provider's signing secret.
func NewStatusReporter(cfg Config, opts ...Option) (*StatusReporter, error) {
	c, err := New(cfg, opts...)
	if err != nil {
		return nil, err
	}
	c.toGateway = true
	return &StatusReporter{c: c}, nil
}

// statusReport is the webhook's body: {"changes": [{"id", "status", "at"}]}.
type statusReport struct {
	Changes []statusReportChange `json:"changes"`
}

type statusReportChange struct {
	ID     string    `json:"id"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// noReply takes the webhook's empty 204.
type noReply struct{}

func (noReply) decodeReplyBody([]byte) error { return nil }

// Publish implements live.Publisher: one change, one signed call. The
// gateway's refusal comes back with its kind (UNAUTHENTICATED for a wrong
// secret, BAD_USER_INPUT for another provider's object); a 503 means it
// stored nothing and the same change may be sent again.
func (r *StatusReporter) Publish(ctx context.Context, ch live.Change) error {
	path := strings.Replace(PathGatewayStatus, "{id}", url.PathEscape(r.c.desc.ID), 1)
	body := statusReport{Changes: []statusReportChange{{ID: ch.ID, Status: ch.Status, At: ch.At}}}
	return r.c.call(ctx, http.MethodPost, path, body, "", noReply{})
}

// CloseIdleConnections releases the reporter's connections.
func (r *StatusReporter) CloseIdleConnections() { r.c.CloseIdleConnections() }
