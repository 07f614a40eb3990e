package httpprovider

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"golang.org/x/sync/errgroup"

	"github.com/plaza-gateway/plaza/connectors"
)

// Defaults of Config, chosen like bramble's client: a provider that takes
// more than 5 s is better treated as down, and no legitimate reply of a batch
// of canonical objects comes near 4 MiB.
const (
	DefaultTimeout          = 5 * time.Second
	DefaultMaxResponseBytes = 4 << 20
	// DefaultMaxIdleConnsPerHost keeps enough warm connections for a gateway
	// at high concurrency; Go's default of 2 churns thousands of connections
	// into TIME_WAIT under load (see the benchmark notes).
	DefaultMaxIdleConnsPerHost = 128
	// DefaultMaxConnsPerHost bounds what one gateway may open to one provider;
	// callers past it wait for a free connection within their deadline.
	DefaultMaxConnsPerHost = 256
)

// Config describes one provider speaking the HTTP contract.
type Config struct {
	ID       string
	Vertical connectors.Vertical
	// BaseURL is the provider's root, e.g. "http://127.0.0.1:9101"; the
	// contract's paths (/v1/...) are appended to it.
	BaseURL string
	Secret  string
	// Timeout bounds each call, on top of the caller's deadline (default 5s).
	Timeout time.Duration
	// MaxBatch splits larger batches into concurrent calls; 0 means no limit.
	MaxBatch int
	// MaxResponseBytes caps a reply body (default 4 MiB).
	MaxResponseBytes int64
	Name             string
	Description      string
	Rating           float64
	Cities           []string
}

// Option configures New.
type Option func(*Client)

// WithHTTPClient replaces the client's own pooled transport, e.g. to share one
// across providers or to add tracing. The Client's Timeout still applies.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithPool sends the client's calls through pool, shared with every other
// provider on the same host (the registry gives all its HTTP providers one).
func WithPool(pool *Pool) Option {
	return func(c *Client) { c.hc = &http.Client{Transport: pool} }
}

// WithConnLimits sets MaxIdleConnsPerHost and MaxConnsPerHost of the
// client's own pool (ignored with WithHTTPClient and WithPool).
func WithConnLimits(maxIdle, maxConns int) Option {
	return func(c *Client) { c.maxIdle, c.maxConns = maxIdle, maxConns }
}

// WithClock sets the clock used for request timestamps.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithNonceSource sets where request nonces are read from (default
// crypto/rand); tests use it to produce replays.
func WithNonceSource(r io.Reader) Option { return func(c *Client) { c.nonces = r } }

// Client is the gateway's connector for a provider speaking the HTTP
// contract. It implements every vertical's interface; the registry checks it
// against the vertical the Config declares. It does not retry: retries and
// circuit breaking are the gateway's policy. Every error it returns is a
// *connectors.Error carrying the provider ID.
type Client struct {
	desc     connectors.Descriptor
	base     string
	secret   string
	timeout  time.Duration
	maxResp  int64
	hc       *http.Client
	maxIdle  int
	maxConns int
	now      func() time.Time
	nonces   io.Reader
	// toGateway: the client is a provider's Publisher, calling the gateway.
	toGateway bool
}

var (
	_ connectors.Grocery       = (*Client)(nil)
	_ connectors.Medical       = (*Client)(nil)
	_ connectors.Legal         = (*Client)(nil)
	_ connectors.PublicService = (*Client)(nil)
	_ connectors.HealthChecker = (*Client)(nil)
	_ connectors.Catalog       = (*Client)(nil)
)

// New checks cfg and builds a Client; without WithPool or WithHTTPClient it
// has a keep-alive pool of its own.
func New(cfg Config, opts ...Option) (*Client, error) {
	if !connectors.ValidProviderID(cfg.ID) {
		return nil, fmt.Errorf("httpprovider: invalid provider id %q", cfg.ID)
	}
	if !cfg.Vertical.Valid() {
		return nil, fmt.Errorf("httpprovider: provider %s: unknown vertical %q", cfg.ID, cfg.Vertical)
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("httpprovider: provider %s: base URL %q must be an absolute http(s) URL", cfg.ID, cfg.BaseURL)
	}
	if cfg.MaxBatch < 0 || cfg.Timeout < 0 || cfg.MaxResponseBytes < 0 {
		return nil, fmt.Errorf("httpprovider: provider %s: negative MaxBatch, Timeout or MaxResponseBytes", cfg.ID)
	}
	if cfg.Secret == "" {
		return nil, fmt.Errorf("httpprovider: provider %s: a secret is required", cfg.ID)
	}
	c := &Client{
		desc: connectors.Descriptor{
			ID: cfg.ID, Name: cfg.Name, Vertical: cfg.Vertical, Description: cfg.Description,
			Rating: cfg.Rating, Cities: cfg.Cities, MaxBatch: cfg.MaxBatch,
		},
		base:     strings.TrimRight(cfg.BaseURL, "/"),
		secret:   cfg.Secret,
		timeout:  cfg.Timeout,
		maxResp:  cfg.MaxResponseBytes,
		maxIdle:  DefaultMaxIdleConnsPerHost,
		maxConns: DefaultMaxConnsPerHost,
		now:      time.Now,
		nonces:   rand.Reader,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxResp == 0 {
		c.maxResp = DefaultMaxResponseBytes
	}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		// One provider, one host: a plain transport (the registry gives its
		// HTTP providers a shared Pool instead, WithPool).
		c.hc = &http.Client{Transport: &http.Transport{
			Proxy:                 nil, // providers are called directly, never through an environment proxy
			DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          c.maxIdle,
			MaxIdleConnsPerHost:   c.maxIdle,
			MaxConnsPerHost:       c.maxConns,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   2 * time.Second,
			ExpectContinueTimeout: time.Second,
		}}
	}
	return c, nil
}

// Describe returns the descriptor built from Config.
func (c *Client) Describe() connectors.Descriptor { return c.desc }

// CloseIdleConnections releases the pool, e.g. when a registry reload drops
// this client.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Health calls GET /v1/health.
func (c *Client) Health(ctx context.Context) error {
	var out healthResponse
	return c.call(ctx, http.MethodGet, PathHealth, nil, "", &out)
}

// RemoteDescriptor fetches the descriptor the provider reports about itself,
// for checking it against Config.
func (c *Client) RemoteDescriptor(ctx context.Context) (connectors.Descriptor, error) {
	var d connectors.Descriptor
	err := c.call(ctx, http.MethodGet, PathDescriptor, nil, "", &d)
	return d, err
}

// errorf builds the client's error for a reply that cannot be used.
func (c *Client) errorf(kind connectors.Kind, cause error, msg string) *connectors.Error {
	return &connectors.Error{Kind: kind, Message: msg, Provider: c.desc.ID, Retryable: retryableKind(kind), Err: cause}
}

// call sends one signed request and decodes a 2xx reply into out. in is
// marshalled as the body unless nil.
func (c *Client) call(ctx context.Context, method, path string, in any, idemKey string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return c.errorf(connectors.KindInternal, err, "could not encode request")
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return c.errorf(connectors.KindInternal, err, "could not build request")
	}
	if err := c.sign(ctx, req, body, idemKey); err != nil {
		return err
	}
	// W3C traceparent: the provider's spans join the gateway's trace. It is
	// set only when ctx carries a span (tracing on), and is not signed.
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	data, err := readBody(resp, c.maxResp)
	if err != nil {
		return c.transportError(ctx, err)
	}
	// Nothing keeps the body once it is decoded: the decoder copies what
	// it keeps (strings, raw values) out of it.
	defer releaseBody(data)
	if int64(len(data)) > c.maxResp {
		return c.errorf(connectors.KindProvider, fmt.Errorf("%s %s: reply over %d bytes", method, path, c.maxResp), "provider reply too large")
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.statusError(resp, data)
	}
	decode := decodeReply
	if d, ok := out.(replyDecoder); ok {
		decode = func(data []byte, _ any) error { return d.decodeReplyBody(data) }
	}
	if err := decode(data, out); err != nil {
		return c.errorf(connectors.KindProvider, fmt.Errorf("%s %s: %w", method, path, err), "malformed provider reply")
	}
	return nil
}

func (c *Client) sign(ctx context.Context, req *http.Request, body []byte, idemKey string) error {
	var nonce [16]byte
	if _, err := io.ReadFull(c.nonces, nonce[:]); err != nil {
		return c.errorf(connectors.KindInternal, err, "could not sign request")
	}
	ts := strconv.FormatInt(c.now().Unix(), 10)
	n := hex.EncodeToString(nonce[:])
	h := req.Header
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderNonce, n)
	h.Set(HeaderProvider, c.desc.ID)
	h.Set(HeaderSignature, SignV3(c.secret, c.desc.ID, ts, n, req.Method, req.URL.Path, req.URL.RawQuery, body))
	if len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Accept", "application/json")
	if dl, ok := ctx.Deadline(); ok {
		ms := time.Until(dl).Milliseconds()
		h.Set(HeaderDeadline, strconv.FormatInt(max(ms, 1), 10))
	}
	if u, ok := connectors.UserFrom(ctx); ok {
		if !validHeaderValue(u) {
			return c.errorf(connectors.KindInvalid, nil, "user id cannot be sent to the provider")
		}
		h.Set(HeaderUser, u)
	}
	switch {
	case idemKey != "":
		if len(idemKey) > maxIdempotencyKey || !validHeaderValue(idemKey) {
			return c.errorf(connectors.KindInvalid, nil, "invalid idempotency key")
		}
		h.Set(HeaderIdemKey, idemKey)
	case req.Method == http.MethodPost && req.URL.Path != "" && isRead(req.URL.Path):
		// Reads are safe to resend: a nil entry marks the request idempotent
		// for net/http (which then retries it once on a keep-alive connection
		// the server closed under it) without sending the header.
		h[HeaderIdemKey] = nil
	}
	return nil
}

func isRead(path string) bool {
	i := strings.LastIndexByte(path, ':')
	if i < 0 {
		return false
	}
	switch verb := path[i+1:]; {
	case strings.HasPrefix(verb, "batchGet"), verb == "search", verb == "listByUser":
		return true
	}
	return false
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// transportError classifies a failure to get a reply: the deadline (ours or
// the caller's) is a timeout, a refused or failed dial means the provider is
// down, anything else (reset, truncated reply) is the provider's fault.
func (c *Client) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return c.errorf(connectors.KindTimeout, fmt.Errorf("%w (%v)", ctx.Err(), err), "provider timed out")
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return c.errorf(connectors.KindUnavailable, err, "provider unavailable")
	}
	return c.errorf(connectors.KindProvider, err, "provider connection failed")
}

// statusError maps a non-2xx reply. A body in the contract's error model
// keeps the provider's code (and its message, which the contract requires to
// be client-safe); otherwise the kind follows the status and the message is
// generic. A 401 is the gateway's credentials being refused, which is no
// fault of the end user, so it becomes PROVIDER_ERROR rather than leaking
// UNAUTHENTICATED to a client who is signed in.
func (c *Client) statusError(resp *http.Response, data []byte) error {
	var we wireError
	kind := kindOfStatus(resp.StatusCode)
	msg := genericMessage[kind]
	cause := fmt.Errorf("%s %s: status %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode)
	if decodeReply(data, &we) == nil && we.Code != "" {
		kind, msg = c.mapCode(we)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized && c.toGateway:
		// A provider publishing to the gateway: the gateway's reason (bad
		// signature, replay, unknown provider) is for the provider to fix.
		kind = connectors.KindUnauthenticated
		if we.Message != "" && len(we.Message) <= 500 {
			msg = we.Message
		}
	case resp.StatusCode == http.StatusUnauthorized:
		kind, msg = connectors.KindProvider, "provider refused the gateway's credentials"
	}
	e := c.errorf(kind, cause, msg)
	e.Retryable = e.Retryable || we.Retryable || resp.StatusCode >= 500
	if resp.StatusCode == http.StatusTooManyRequests {
		e.Kind, e.Retryable = connectors.KindRateLimited, true
		e.RetryAfterMs = retryAfterMs(resp.Header.Get("Retry-After"), c.now())
	}
	return e
}

// mapCode turns a provider's error model into a kind and a message. Unknown
// codes and INTERNAL become PROVIDER_ERROR with a generic message.
func (c *Client) mapCode(we wireError) (connectors.Kind, string) {
	kind := we.Code
	if _, known := statusOfKind[kind]; !known || kind == connectors.KindUnauthenticated {
		return connectors.KindProvider, genericMessage[connectors.KindProvider]
	}
	msg := we.Message
	if msg == "" || len(msg) > 500 {
		msg = genericMessage[kind]
	}
	return kind, msg
}

func kindOfStatus(status int) connectors.Kind {
	switch status {
	case http.StatusTooManyRequests:
		return connectors.KindRateLimited
	case http.StatusServiceUnavailable:
		return connectors.KindUnavailable
	case http.StatusGatewayTimeout:
		return connectors.KindTimeout
	}
	return connectors.KindProvider
}

// retryAfterMs reads a Retry-After header in either of its forms (seconds or
// an HTTP date); 0 when absent or unreadable.
func retryAfterMs(v string, now time.Time) int64 {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		return s * 1000
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Milliseconds()
	}
	return 0
}

// itemError maps the error of one batch item.
func (c *Client) itemError(we *wireError) error {
	kind, msg := c.mapCode(*we)
	e := c.errorf(kind, nil, msg)
	e.Retryable = e.Retryable || we.Retryable
	return e
}

// batch fetches ids in chunks of at most MaxBatch, concurrently, and lines
// the results up with ids. Any chunk failing fails the whole call, as one
// batch would have.
//
// idOf, when not nil, names the ID of a value: a value whose ID is not the
// requested one means the provider reordered or mixed up its results, and
// the reply is refused rather than attaching data to the wrong key.
func batch[T any](ctx context.Context, c *Client, path string, ids []string, idOf func(T) string) ([]connectors.Result[T], error) {
	out := make([]connectors.Result[T], len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	size := len(ids)
	if c.desc.MaxBatch > 0 && c.desc.MaxBatch < size {
		size = c.desc.MaxBatch
	}
	if size == len(ids) {
		if err := batchChunk(ctx, c, path, ids, out, idOf); err != nil {
			return nil, err
		}
		return out, nil
	}
	g, gctx := errgroup.WithContext(ctx)
	for lo := 0; lo < len(ids); lo += size {
		hi := min(lo+size, len(ids))
		g.Go(func() error { return batchChunk(gctx, c, path, ids[lo:hi], out[lo:hi], idOf) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func batchChunk[T any](ctx context.Context, c *Client, path string, ids []string, out []connectors.Result[T], idOf func(T) string) error {
	resp := batchReply[T]{want: len(ids), into: out, idOf: idOf}
	if err := c.call(ctx, http.MethodPost, path, batchRequest{IDs: ids}, "", &resp); err != nil {
		return err
	}
	if resp.len() != len(ids) {
		return c.errorf(connectors.KindProvider, fmt.Errorf("POST %s: %d results for %d ids", path, resp.len(), len(ids)), "malformed provider reply")
	}
	for i := range ids {
		switch v, we := resp.at(i); {
		case we != nil && v == nil:
			out[i].Err = c.itemError(we)
		case we == nil && v != nil:
			if v != &out[i].Value { // else decoded in place
				out[i].Value = *v
			}
			if idOf != nil && idOf(out[i].Value) != ids[i] {
				return c.errorf(connectors.KindProvider, fmt.Errorf("POST %s: result %d is for id %q, not %q", path, i, idOf(out[i].Value), ids[i]), "malformed provider reply")
			}
			if err := validate(&out[i].Value); err != nil {
				// One bad record (a status outside its kind's list) costs
				// that record, not its neighbours.
				out[i] = connectors.Result[T]{Err: c.errorf(connectors.KindProvider, fmt.Errorf("POST %s: result %d: %w", path, i, err), "invalid record from provider")}
			}
		default:
			return c.errorf(connectors.KindProvider, fmt.Errorf("POST %s: result %d has neither or both of value and error", path, i), "malformed provider reply")
		}
	}
	return nil
}

func search[T any](ctx context.Context, c *Client, path string, q connectors.Query) (connectors.Page[T], error) {
	var resp searchResponse[T]
	if err := c.call(ctx, http.MethodPost, path, fromQuery(q), "", &resp); err != nil {
		return connectors.Page[T]{}, err
	}
	return connectors.Page[T]{Items: resp.Items, Total: resp.Total, NextCursor: resp.NextCursor}, nil
}

func list[T any](ctx context.Context, c *Client, path, userID string) ([]T, error) {
	var resp listResponse[T]
	if err := c.call(ctx, http.MethodPost, path, userRequest{UserID: userID}, "", &resp); err != nil {
		return nil, err
	}
	for i := range resp.Items {
		if err := validate(&resp.Items[i]); err != nil {
			return nil, c.errorf(connectors.KindProvider, fmt.Errorf("POST %s: item %d: %w", path, i, err), "invalid record from provider")
		}
	}
	return resp.Items, nil
}

func mutate[Out any](ctx context.Context, c *Client, path string, in any, idemKey string) (Out, error) {
	var out Out
	if err := c.call(ctx, http.MethodPost, path, in, idemKey, &out); err != nil {
		return out, err
	}
	if err := validate(&out); err != nil {
		return out, c.errorf(connectors.KindProvider, fmt.Errorf("POST %s: %w", path, err), "invalid record from provider")
	}
	return out, nil
}

// validate checks a record the provider sent when its type can check itself
// (connectors.Validator: the statuses of orders and bookings). Taking a
// pointer keeps the check free of allocations for types that cannot.
func validate[T any](v *T) error {
	if c, ok := any(v).(connectors.Validator); ok {
		return c.Validate()
	}
	return nil
}

// readBody reads at most limit+1 bytes of resp's body (one more than allowed
// tells the caller it was too large). When the provider sent a
// Content-Length within the limit the body is read into a buffer of that
// size at once, rather than one grown by doubling as io.ReadAll does (a
// fifth of the bytes a large fan-out search allocated), taken from bodies:
// a reply is dead once decoded (releaseBody), and the replies of a list
// query were a tenth of the bytes it allocated.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	body := io.LimitReader(resp.Body, limit+1)
	if n := resp.ContentLength; n >= 0 && n <= limit {
		buf := takeBody(int(n))
		if _, err := io.ReadFull(body, buf); err != nil {
			releaseBody(buf)
			return nil, err
		}
		// A body longer than its Content-Length is a transport error in
		// net/http; check anyway that nothing follows.
		var one [1]byte
		if k, _ := body.Read(one[:]); k > 0 {
			return append(buf, one[0]), nil
		}
		return buf, nil
	}
	var b bytes.Buffer
	_, err := b.ReadFrom(body)
	return b.Bytes(), err
}

// bodies are the buffers of reply bodies of up to maxPooledBody bytes;
// larger ones are left to the collector, so the pool holds at most that
// much per buffer.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledBody = 256 << 10

// takeBody returns a buffer of n bytes, with room for one more.
func takeBody(n int) []byte {
	if n+1 > maxPooledBody {
		return make([]byte, n, n+1)
	}
	p := bodies.Get().(*[]byte)
	buf := *p
	*p = nil
	bodyPtrs.Put(p)
	if cap(buf) < n+1 {
		buf = make([]byte, n, max(n+1, 4<<10))
	}
	return buf[:n]
}

// releaseBody gives buf back to bodies once nothing refers to it.
func releaseBody(buf []byte) {
	if cap(buf) == 0 || cap(buf) > maxPooledBody {
		return
	}
	p := bodyPtrs.Get().(*[]byte)
	*p = buf[:0]
	bodies.Put(p)
}

// bodyPtrs recycles the pointers bodies holds its buffers by, so that
// neither taking nor releasing a buffer allocates.
var bodyPtrs = sync.Pool{New: func() any { return new([]byte) }}
