package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/live"
)

// A provider reports the status of its users' orders and bookings in one
// place, the signed POST /providers/{id}/status. Each change goes to the
// live bus (subscribers of statusChanged) and, when it moves money
// (completes, delivers or cancels), to merchant growth's order records
// (rewards, the ledger, loan repayments).

// OrderRecords takes the order records of providers' status changes
// (growth.Service).
type OrderRecords interface {
	// CheckOrder reports what RecordOrder would refuse, storing nothing.
	CheckOrder(o growth.Order) error
	// RecordOrder stores o and posts what it earns, once per event
	// however often o arrives.
	RecordOrder(ctx context.Context, o growth.Order) error
}

// WithOrderRecords records the changes of POST /providers/{id}/status that
// complete (COMPLETED, DELIVERED) or cancel an order or booking in r.
func WithOrderRecords(r OrderRecords) Option { return func(o *options) { o.orders = r } }

// maxStatusChanges bounds one status webhook call.
const maxStatusChanges = 100

// statusChange is one change as a provider reports it. Amount, User and
// City are the order's money facts: optional, read by growth only.
type statusChange struct {
	ID     string     `json:"id"`
	Status string     `json:"status"`
	At     *time.Time `json:"at"`
	Amount *struct {
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
	} `json:"amount"`
	User string `json:"user"`
	City string `json:"city"`
}

const statusBodyShape = `body must be {"changes": [{"id": "<global id>", "status": "<STATUS>", "at": "<RFC 3339>", ` +
	`"amount": {"amount": <minor units>, "currency": "<ISO 4217>"}, "user": "<user id>", "city": "<city>"}, ...]} ` +
	`(at, amount, user and city optional)`

// statusWebhook serves POST /providers/{id}/status, signed like the
// invalidation webhook: {"changes": [{"id": "<global id>", "status":
// "PICKING", "at": "<RFC 3339>", "amount": {"amount": 4200, "currency":
// "CNY"}, "user": "u-1", "city": "Hangzhou"}]}.
//
// The whole batch is checked before anything happens: one malformed or
// foreign change refuses it all (400/403), nothing recorded or published.
// Then every change that COMPLETES (or DELIVERS) or CANCELS an order or
// booking is recorded in growth's order records, and only then
// is every change published on the bus. 204 once both are done.
//
// A partial failure answers 503 with Retry-After, and the provider sends
// the same changes again (signed afresh): nothing is lost and nothing
// counts twice. Growth's postings are keyed by the event
// (order:<provider>:<order>:completed and its reversal), so records stored
// before the failure post nothing new when they arrive again; changes
// published before it are published again, which a subscriber sees as the
// same status twice, harmless. Records go first because they are money,
// and durable: if the provider never retries, a subscriber who missed the
// change reads the current state when it subscribes again (live delivery is
// at most once anyway), while a lost record would be a lost reward.
func (s *Server) statusWebhook(w http.ResponseWriter, r *http.Request) {
	pub, orders := s.opts.live.pub, s.opts.orders
	if pub == nil && orders == nil {
		writeError(w, http.StatusNotFound, connectors.KindNotFound, "live status and order records are not enabled")
		return
	}
	provider, body, ok := s.signedBody(w, r, 64<<10)
	if !ok {
		return
	}
	var req struct {
		Changes []statusChange `json:"changes"`
	}
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, connectors.KindInvalid, statusBodyShape)
		return
	}
	if len(req.Changes) == 0 || len(req.Changes) > maxStatusChanges {
		writeError(w, http.StatusBadRequest, connectors.KindInvalid, "changes must hold 1 to "+strconv.Itoa(maxStatusChanges)+" changes")
		return
	}
	now := time.Now().UTC()
	changes := make([]live.Change, len(req.Changes))
	var records []growth.Order
	for i, c := range req.Changes {
		at := "change " + strconv.Itoa(i) + ": "
		id, err := gid.Decode(c.ID)
		switch {
		case err != nil || !live.Followable(id.Kind):
			writeError(w, http.StatusBadRequest, connectors.KindInvalid, at+"id must be the global ID of an order or booking")
			return
		case id.Provider != provider:
			writeError(w, http.StatusForbidden, connectors.KindForbidden, at+"id belongs to another provider")
			return
		case !connectors.KnownStatus(c.Status):
			writeError(w, http.StatusBadRequest, connectors.KindInvalid, at+"status must be one of the schema's BookingStatus values")
			return
		}
		changes[i] = live.Change{ID: c.ID, Status: c.Status, At: now}
		if c.At != nil {
			changes[i].At = c.At.UTC()
		}
		o, ok := orderRecord(provider, id, c, changes[i].At)
		if !ok || orders == nil {
			continue
		}
		if err := orders.CheckOrder(o); err != nil {
			writeError(w, http.StatusBadRequest, connectors.KindInvalid, at+orderProblem(err))
			return
		}
		records = append(records, o)
	}
	for _, o := range records {
		if err := orders.RecordOrder(r.Context(), o); err != nil {
			if growth.CodeOf(err) == growth.Invalid {
				writeError(w, http.StatusBadRequest, connectors.KindInvalid, "order "+o.ID+": "+orderProblem(err))
				return
			}
			s.log.ErrorContext(r.Context(), "status webhook: order record failed, refusing with 503", "provider", provider, "order", o.ID, "err", err)
			retryStatusLater(w, "the order records cannot be stored now; nothing was published; send the changes again after the Retry-After delay")
			return
		}
	}
	if pub != nil {
		for _, c := range changes {
			if err := pub.Publish(r.Context(), c); err != nil {
				s.log.ErrorContext(r.Context(), "status webhook: publish failed, refusing with 503", "provider", provider,
					"recorded", len(records), "err", err)
				retryStatusLater(w, "status changes cannot be published now; send them again after the Retry-After delay (order records already stored count once)")
				return
			}
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// orderRecord is the growth record of change c of object id, when c
// completes or cancels it. The order is named by the object's local ID, as
// the gateway's own mutations name it (placeGroceryOrder, cancelGroceryOrder,
// the bookings), so every report of one order is one record. A provider
// serves one vertical, whose only kind that completes (GroceryOrder,
// Appointment, LegalConsultation or ServiceApplication) names its orders, so
// local IDs do not collide across kinds.
//
// DELIVERED completes a grocery order for money, like COMPLETED: the
// contract lets a provider that reports delivery progress end at DELIVERED
// and one that reports only the end send COMPLETED, and the goods are with
// the user either way. Both post under the order's one completion key, so
// DELIVERED followed by COMPLETED rewards once, and a cancellation after
// either (a refund) reverses it. The amount, user and city are optional: a
// change without them keeps what an earlier record of the order (the
// gateway's own PLACED record) gave.
func orderRecord(provider string, id gid.ID, c statusChange, at time.Time) (growth.Order, bool) {
	status := growth.OrderStatus(c.Status)
	if c.Status == connectors.StatusDelivered {
		status = growth.OrderCompleted
	}
	if status != growth.OrderCompleted && status != growth.OrderCancelled {
		return growth.Order{}, false
	}
	o := growth.Order{Provider: provider, ID: id.Local, User: c.User, City: c.City, Status: status, At: at}
	if c.Amount != nil {
		o.Currency, o.Amount = c.Amount.Currency, c.Amount.Amount
	}
	return o, true
}

// orderProblem is what a provider reads about a record growth refused.
func orderProblem(err error) string {
	var ge *growth.Error
	if errors.As(err, &ge) {
		return ge.Field + ": " + ge.Message
	}
	return "the order record is invalid"
}

// retryStatusLater answers 503 with Retry-After: a dependency of the
// webhook (the order records' store, the status bus) is down.
func retryStatusLater(w http.ResponseWriter, message string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(webhookRetryAfter/time.Second)))
	writeError(w, http.StatusServiceUnavailable, connectors.KindUnavailable, message)
}
