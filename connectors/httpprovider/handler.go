package httpprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// DefaultMaxBodyBytes caps a request body. The largest legitimate request is
// a batch of a few hundred IDs or an order with a few dozen lines; 1 MiB is
// far above both and far below what would hurt the provider.
const DefaultMaxBodyBytes = 1 << 20

// maxIdempotencyKey bounds the Idempotency-Key header (the provider stores it).
const maxIdempotencyKey = 255

// HandlerOption configures NewHandler.
type HandlerOption func(*Handler)

// WithMaxBodyBytes caps request bodies (default DefaultMaxBodyBytes); a larger
// body is refused with 413.
func WithMaxBodyBytes(n int64) HandlerOption { return func(h *Handler) { h.maxBody = n } }

// WithReplayWindow sets how old a signed request may be and how long its
// signature is remembered (default DefaultReplayWindow).
func WithReplayWindow(d time.Duration) HandlerOption { return func(h *Handler) { h.window = d } }

// WithServerClock sets the clock the signature window is checked against.
func WithServerClock(now func() time.Time) HandlerOption { return func(h *Handler) { h.now = now } }

// WithReplayCache remembers accepted signatures in c (default: a
// MemoryReplayCache of this process). A provider served by several
// instances shares one, e.g. a RedisReplayCache, so a request accepted by
// one instance is refused as a replay by the others.
func WithReplayCache(c ReplayCache) HandlerOption { return func(h *Handler) { h.seen = c } }

// WithV1Until accepts signature scheme v1 until t (default DefaultV1Until);
// from t on a v1 request is refused with 401 saying to sign with v2. The
// zero time refuses v1 always.
func WithV1Until(t time.Time) HandlerOption { return func(h *Handler) { h.v1Until = t } }

// WithLogger receives the causes of internal errors, which are never sent to
// the caller. The default discards them.
func WithLogger(l *slog.Logger) HandlerOption { return func(h *Handler) { h.log = l } }

// AllowUnsigned turns signature checking off. It exists for peers that cannot
// sign (a benchmark's Node gateways); without it an empty secret refuses
// every request, so a missing secret fails closed.
func AllowUnsigned() HandlerOption { return func(h *Handler) { h.unsigned = true } }

// Handler serves one connector over the contract in openapi.yaml.
type Handler struct {
	conn     connectors.Connector
	secret   string
	maxBody  int64
	window   time.Duration
	now      func() time.Time
	log      *slog.Logger
	unsigned bool
	seen     ReplayCache
	v1Until  time.Time
	verify   *verifier
	routes   map[string]route
}

type route struct {
	method string
	op     opFunc
}

// opFunc runs one operation on a decoded request and returns the status and
// value to send, or an error for writeError.
type opFunc func(ctx context.Context, body []byte, idemKey string) (int, any, error)

// NewHandler serves conn over the contract. It serves the operations of the
// vertical conn declares in its descriptor, provided conn implements that
// vertical's interface (otherwise only health and descriptor are served), and
// refuses requests whose signature (see Sign) does not verify with secret.
func NewHandler(conn connectors.Connector, secret string, opts ...HandlerOption) http.Handler {
	h := &Handler{
		conn:    conn,
		secret:  secret,
		maxBody: DefaultMaxBodyBytes,
		window:  DefaultReplayWindow,
		now:     time.Now,
		log:     slog.New(slog.DiscardHandler),
		v1Until: DefaultV1Until,
	}
	for _, o := range opts {
		o(h)
	}
	if h.seen == nil {
		h.seen = NewMemoryReplayCache(h.window, h.now)
	}
	h.verify = &verifier{window: h.window, v1Until: h.v1Until, now: h.now, seen: h.seen}
	h.routes = map[string]route{
		PathHealth:     {http.MethodGet, h.health},
		PathDescriptor: {http.MethodGet, h.descriptor},
	}
	if c, ok := conn.(connectors.Catalog); ok {
		h.routes[PathCatalog] = route{http.MethodGet, catalogOp(c)}
	}
	maxBatch := conn.Describe().MaxBatch
	add := func(path string, op opFunc) { h.routes[path] = route{http.MethodPost, op} }
	switch d := conn.Describe(); d.Vertical {
	case connectors.VerticalGrocery:
		if g, ok := conn.(connectors.Grocery); ok {
			add(PathGroceryStores, batchOp(maxBatch, g.Stores))
			add(PathGroceryProducts, batchOp(maxBatch, g.Products))
			add(PathGroceryOrders, batchOp(maxBatch, g.Orders))
			add(PathGroceryDeliverySlots, batchOp(maxBatch, g.DeliverySlots))
			add(PathGrocerySearchStores, searchOp(g.SearchStores))
			add(PathGrocerySearchProducts, searchOp(g.SearchProducts))
			add(PathGroceryUserOrders, listOp(g.UserOrders))
			add(PathGroceryPlaceOrder, mutationOp(g.PlaceOrder, func(in *connectors.PlaceOrderInput, k string) { in.IdempotencyKey = k }))
			add(PathGroceryCancelOrder, cancelOrderOp(g))
		}
		if g, ok := conn.(connectors.OrderPayer); ok {
			add(PathGroceryPayOrder, mutationOp(g.PayOrder, func(in *connectors.PayOrderInput, k string) { in.IdempotencyKey = k }))
		}
	case connectors.VerticalMedical:
		if m, ok := conn.(connectors.Medical); ok {
			add(PathMedicalDoctors, batchOp(maxBatch, m.Doctors))
			add(PathMedicalAppointments, batchOp(maxBatch, m.Appointments))
			add(PathMedicalConsultations, batchOp(maxBatch, m.Consultations))
			add(PathMedicalAppointmentSlots, batchOp(maxBatch, m.AppointmentSlots))
			add(PathMedicalSearchDoctors, searchOp(m.SearchDoctors))
			add(PathMedicalUserAppointments, listOp(m.UserAppointments))
			add(PathMedicalUserConsultations, listOp(m.UserConsultations))
			add(PathMedicalBookAppointment, mutationOp(m.BookAppointment, func(in *connectors.BookAppointmentInput, k string) { in.IdempotencyKey = k }))
			add(PathMedicalAskDoctor, mutationOp(m.AskDoctor, func(in *connectors.AskDoctorInput, k string) { in.IdempotencyKey = k }))
		}
		if m, ok := conn.(connectors.AppointmentChanger); ok {
			add(PathMedicalCancelAppointment, changeOp(false, func(ctx context.Context, r changeRequest) (any, error) {
				return m.CancelAppointment(ctx, r.UserID, r.ID)
			}))
			add(PathMedicalRescheduleAppointment, changeOp(true, func(ctx context.Context, r changeRequest) (any, error) {
				return m.RescheduleAppointment(ctx, r.UserID, r.ID, r.SlotID)
			}))
		}
	case connectors.VerticalLegal:
		if l, ok := conn.(connectors.Legal); ok {
			add(PathLegalLawyers, batchOp(maxBatch, l.Lawyers))
			add(PathLegalConsultations, batchOp(maxBatch, l.LegalConsultations))
			add(PathLegalSearchLawyers, searchOp(l.SearchLawyers))
			add(PathLegalUserConsultations, listOp(l.UserLegalConsultations))
			add(PathLegalRequestConsultation, mutationOp(l.RequestConsultation, func(in *connectors.LegalConsultationInput, k string) { in.IdempotencyKey = k }))
		}
		if l, ok := conn.(connectors.LegalConsultationCanceller); ok {
			add(PathLegalCancelConsultation, changeOp(false, func(ctx context.Context, r changeRequest) (any, error) {
				return l.CancelLegalConsultation(ctx, r.UserID, r.ID)
			}))
		}
	case connectors.VerticalPublicService:
		if p, ok := conn.(connectors.PublicService); ok {
			add(PathPublicServices, batchOp(maxBatch, p.Services))
			add(PathPublicApplications, batchOp(maxBatch, p.Applications))
			add(PathPublicOffices, batchOp(maxBatch, p.Offices))
			add(PathPublicSearchServices, searchOp(p.SearchServices))
			add(PathPublicUserApplications, listOp(p.UserApplications))
			add(PathPublicApply, mutationOp(p.Apply, func(in *connectors.ApplicationInput, k string) { in.IdempotencyKey = k }))
		}
		if p, ok := conn.(connectors.ApplicationCanceller); ok {
			add(PathPublicCancelApplication, changeOp(false, func(ctx context.Context, r changeRequest) (any, error) {
				return p.CancelApplication(ctx, r.UserID, r.ID)
			}))
		}
		if p, ok := conn.(connectors.ApplicationRescheduler); ok {
			add(PathPublicRescheduleApplication, changeOp(true, func(ctx context.Context, r changeRequest) (any, error) {
				return p.RescheduleApplication(ctx, r.UserID, r.ID, r.SlotID)
			}))
		}
	}
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A panicking connector must not take the connection down with it:
		// the caller gets the generic 500 and the cause goes to the log.
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("httpprovider: connector panicked", "path", r.URL.Path, "panic", p)
			writeError(w, errors.New("panic"))
		}
	}()
	rt, ok := h.routes[r.URL.Path]
	if !ok {
		writeError(w, connectors.Errorf(connectors.KindNotFound, "no such operation"))
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		writeJSON(w, http.StatusMethodNotAllowed, wireError{Code: connectors.KindInvalid, Message: "method not allowed"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeJSON(w, http.StatusRequestEntityTooLarge, wireError{Code: connectors.KindInvalid, Message: "request body too large"})
			return
		}
		writeError(w, connectors.Wrap(err, connectors.KindInvalid, "could not read request body"))
		return
	}
	if !h.unsigned {
		if err := h.authenticate(r, body); err != nil {
			writeError(w, err)
			return
		}
	}
	// Plaza-Provider is not checked here: an endpoint of one provider
	// answers as that provider whatever the gateway calls it (the
	// registered id and the endpoint's own may differ); MultiHandler routes
	// by it.
	ctx := r.Context()
	if v := r.Header.Get(HeaderDeadline); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 {
			writeError(w, connectors.Errorf(connectors.KindInvalid, "malformed %s header", HeaderDeadline))
			return
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
		defer cancel()
	}
	if u := r.Header.Get(HeaderUser); u != "" {
		ctx = connectors.WithUser(ctx, u)
	}
	key := r.Header.Get(HeaderIdemKey)
	if len(key) > maxIdempotencyKey {
		writeError(w, connectors.Errorf(connectors.KindInvalid, "%s header too long", HeaderIdemKey))
		return
	}
	if ctx.Err() != nil {
		writeError(w, connectors.Errorf(connectors.KindTimeout, "deadline already passed"))
		return
	}
	ctx = context.WithValue(ctx, queryKey{}, r.URL.Query())
	status, v, err := rt.op(ctx, body, key)
	if err != nil {
		if k := connectors.KindOf(err); k == connectors.KindInternal || k == connectors.KindProvider {
			h.log.Error("httpprovider: operation failed", "path", r.URL.Path, "err", err)
		}
		writeError(w, err)
		return
	}
	writeJSON(w, status, v)
}

// authenticate checks r's signature: UNAUTHENTICATED when it is refused,
// UNAVAILABLE (503, Retry-After) when the replay cache cannot answer, so the
// gateway retries instead of the request being served unprotected.
func (h *Handler) authenticate(r *http.Request, body []byte) error {
	if h.secret == "" {
		return connectors.Errorf(connectors.KindUnauthenticated, "provider has no secret configured")
	}
	_, err := h.verify.verify(r.Context(), []string{h.secret}, signedFrom(r, body))
	var refused *SignatureError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &refused):
		return connectors.Errorf(connectors.KindUnauthenticated, "%s", refused.Reason)
	}
	h.log.Error("httpprovider: replay check failed", "path", r.URL.Path, "err", err)
	return &connectors.Error{Kind: connectors.KindUnavailable, Message: "replay protection unavailable, retry shortly", Retryable: true, RetryAfterMs: retryAfterUnavailable.Milliseconds(), Err: err}
}

// truncateID bounds a provider id echoed in an error message.
func truncateID(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// retryAfterUnavailable is the Retry-After sent when the replay cache is down.
const retryAfterUnavailable = 2 * time.Second

func (h *Handler) health(ctx context.Context, _ []byte, _ string) (int, any, error) {
	if hc, ok := h.conn.(connectors.HealthChecker); ok {
		if err := hc.Health(ctx); err != nil {
			if _, typed := connectors.AsError(err); !typed {
				err = connectors.Wrap(err, connectors.KindUnavailable, "provider unhealthy")
			}
			return 0, nil, err
		}
	}
	return http.StatusOK, healthResponse{Status: "ok"}, nil
}

func (h *Handler) descriptor(context.Context, []byte, string) (int, any, error) {
	return http.StatusOK, h.conn.Describe(), nil
}

func batchOp[T any](maxBatch int, fn func(context.Context, []string) ([]connectors.Result[T], error)) opFunc {
	return func(ctx context.Context, body []byte, _ string) (int, any, error) {
		var req batchRequest
		if err := decodeRequest(body, &req); err != nil {
			return 0, nil, err
		}
		if maxBatch > 0 && len(req.IDs) > maxBatch {
			return 0, nil, connectors.Errorf(connectors.KindInvalid, "batch of %d ids exceeds the provider's maximum of %d", len(req.IDs), maxBatch)
		}
		out := batchResponse[T]{Results: make([]wireResult[T], len(req.IDs))}
		if len(req.IDs) == 0 {
			return http.StatusOK, out, nil
		}
		res, err := fn(ctx, req.IDs)
		if err != nil {
			return 0, nil, err
		}
		if len(res) != len(req.IDs) {
			return 0, nil, fmt.Errorf("connector returned %d results for %d ids", len(res), len(req.IDs))
		}
		for i := range res {
			if res[i].Err != nil {
				_, we := publicError(res[i].Err)
				out.Results[i].Error = &we
			} else {
				out.Results[i].Value = &res[i].Value
			}
		}
		return http.StatusOK, out, nil
	}
}

func searchOp[T any](fn func(context.Context, connectors.Query) (connectors.Page[T], error)) opFunc {
	return func(ctx context.Context, body []byte, _ string) (int, any, error) {
		var req searchRequest
		if err := decodeRequest(body, &req); err != nil {
			return 0, nil, err
		}
		if req.First < 0 {
			return 0, nil, connectors.Errorf(connectors.KindInvalid, "first must not be negative")
		}
		page, err := fn(ctx, toQuery(req))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, searchResponse[T]{Items: page.Items, Total: page.Total, NextCursor: page.NextCursor}, nil
	}
}

func listOp[T any](fn func(context.Context, string) ([]T, error)) opFunc {
	return func(ctx context.Context, body []byte, _ string) (int, any, error) {
		var req userRequest
		if err := decodeRequest(body, &req); err != nil {
			return 0, nil, err
		}
		if req.UserID == "" {
			return 0, nil, connectors.Errorf(connectors.KindInvalid, "userId is required")
		}
		items, err := fn(ctx, req.UserID)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, listResponse[T]{Items: items}, nil
	}
}

func mutationOp[In, Out any](fn func(context.Context, In) (Out, error), setKey func(*In, string)) opFunc {
	return func(ctx context.Context, body []byte, key string) (int, any, error) {
		var in In
		if err := decodeRequest(body, &in); err != nil {
			return 0, nil, err
		}
		setKey(&in, key)
		out, err := fn(ctx, in)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, out, nil
	}
}

func cancelOrderOp(g connectors.Grocery) opFunc {
	return func(ctx context.Context, body []byte, _ string) (int, any, error) {
		var req cancelOrderRequest
		if err := decodeRequest(body, &req); err != nil {
			return 0, nil, err
		}
		if req.UserID == "" || req.OrderID == "" {
			return 0, nil, connectors.Errorf(connectors.KindInvalid, "userId and orderId are required")
		}
		out, err := g.CancelOrder(ctx, req.UserID, req.OrderID)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, out, nil
	}
}

// changeOp serves a cancel (withSlot false) or a reschedule of a booking.
func changeOp(withSlot bool, fn func(context.Context, changeRequest) (any, error)) opFunc {
	return func(ctx context.Context, body []byte, _ string) (int, any, error) {
		var req changeRequest
		if err := decodeRequest(body, &req); err != nil {
			return 0, nil, err
		}
		switch {
		case req.UserID == "" || req.ID == "":
			return 0, nil, connectors.Errorf(connectors.KindInvalid, "userId and id are required")
		case withSlot && req.SlotID == "":
			return 0, nil, connectors.Errorf(connectors.KindInvalid, "slotId is required")
		case !withSlot && req.SlotID != "":
			return 0, nil, connectors.Errorf(connectors.KindInvalid, "slotId is only for a reschedule")
		}
		out, err := fn(ctx, req)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, out, nil
	}
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown fields
// and trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

func decodeRequest(body []byte, v any) error {
	if err := decodeStrict(body, v); err != nil {
		// The decoder's message names fields and types of our own contract,
		// which helps the integrator and reveals nothing private.
		return connectors.Wrap(err, connectors.KindInvalid, "malformed request body: "+err.Error())
	}
	return nil
}

var statusOfKind = map[connectors.Kind]int{
	connectors.KindInvalid:         http.StatusBadRequest,
	connectors.KindUnauthenticated: http.StatusUnauthorized,
	connectors.KindForbidden:       http.StatusForbidden,
	connectors.KindNotFound:        http.StatusNotFound,
	connectors.KindConflict:        http.StatusConflict,
	connectors.KindRateLimited:     http.StatusTooManyRequests,
	connectors.KindPaymentDeclined: http.StatusPaymentRequired,
	connectors.KindBelowMinimum:    http.StatusUnprocessableEntity,
	connectors.KindUnavailable:     http.StatusServiceUnavailable,
	connectors.KindTimeout:         http.StatusGatewayTimeout,
}

// genericMessage is what a caller reads when the error carries no message of
// its own, or one that must not leave the provider.
var genericMessage = map[connectors.Kind]string{
	connectors.KindInvalid:         "invalid request",
	connectors.KindUnauthenticated: "unauthenticated",
	connectors.KindForbidden:       "forbidden",
	connectors.KindNotFound:        "not found",
	connectors.KindConflict:        "conflict",
	connectors.KindRateLimited:     "rate limited",
	connectors.KindPaymentDeclined: "payment declined",
	connectors.KindBelowMinimum:    "below the store's minimum order",
	connectors.KindUnavailable:     "provider unavailable",
	connectors.KindTimeout:         "provider timed out",
	connectors.KindProvider:        "provider error",
	connectors.KindInternal:        "internal error",
}

func retryableKind(k connectors.Kind) bool {
	return k == connectors.KindRateLimited || k == connectors.KindUnavailable || k == connectors.KindTimeout
}

// publicError turns any error into the status and body a caller may see.
// Kinds without a status of their own (INTERNAL, PROVIDER_ERROR and every
// untyped error) become 500 with a generic message: their text may carry
// internals or personal data.
func publicError(err error) (int, wireError) {
	kind := connectors.KindOf(err)
	status, known := statusOfKind[kind]
	if !known {
		status = http.StatusInternalServerError
		if kind != connectors.KindProvider {
			kind = connectors.KindInternal
		}
	}
	we := wireError{Code: kind, Message: genericMessage[kind], Retryable: retryableKind(kind)}
	if e, ok := connectors.AsError(err); ok {
		if known && e.Message != "" {
			we.Message = e.Message
		}
		we.Retryable = we.Retryable || e.Retryable
	}
	return status, we
}

func writeError(w http.ResponseWriter, err error) {
	status, we := publicError(err)
	var hint int64
	if e, ok := connectors.AsError(err); ok {
		hint = e.RetryAfterMs
	}
	// 429 always says when to come back; 503 only when the cause knows.
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable && hint > 0 {
		secs := max((hint+999)/1000, 1)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	writeJSON(w, status, we)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":"INTERNAL","message":"internal error","retryable":false}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
