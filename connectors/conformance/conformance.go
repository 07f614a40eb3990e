// Package conformance is the provider conformance kit: a list of checks that
// any implementation of a vertical's connector interface must pass, run the
// same way against an in-process connector and against a provider speaking
// the HTTP contract (through httpprovider.Client, plus checks on the raw wire
// when WithHTTP names the provider's URL and secret).
//
// The checks derive their inputs from the provider's own data (a search with
// empty text discovers IDs), so they work on any provider. Mutating checks act
// as a dedicated user (DefaultUser) and undo what the contract lets them undo
// (grocery orders are cancelled), but bookings and applications stay: run the
// kit against a staging instance, never production.
//
// Use it as a Go test helper:
//
//	conformance.Run(t, conn)
//
// or from the command line against a running provider:
//
//	go run ./cmd/plaza-conformance --url http://127.0.0.1:9101 --vertical grocery --secret s3cret
package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// DefaultUser is the user the mutating checks act as, so they never touch a
// real (or demo) user's orders and bookings.
const DefaultUser = "conformance-user"

// Defaults of the options.
const (
	DefaultCallTimeout = 5 * time.Second
	// DefaultConcurrency is how many mutations race for one scarce resource.
	DefaultConcurrency = 8
	// DefaultMaxResponseBytes mirrors httpprovider's reply cap: a batch of
	// the provider's maximum size must fit under it.
	DefaultMaxResponseBytes = 4 << 20
	// DefaultDeadlineGrace is how long past a deadline a call may take to
	// give up before the deadline check calls it a hang.
	DefaultDeadlineGrace = time.Second
	// fallbackMaxBatch is the batch size tried for providers that declare no
	// maximum.
	fallbackMaxBatch = 100
)

// Status is the outcome of one check.
type Status string

const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Result is the outcome of one check with its reason: what was verified on
// PASS, what went wrong on FAIL, why it did not apply on SKIP.
type Result struct {
	Check   string
	Status  Status
	Reason  string
	Elapsed time.Duration
}

// Check is one requirement of the contract.
type Check struct {
	Name        string
	Description string
	run         func(ctx context.Context, e *env) (string, error)
}

// Checks lists every check in the order they run.
func Checks() []Check {
	return []Check{
		{"batch-order", "batch results come back in request order", checkBatchOrder},
		{"batch-duplicates", "a batch may name one ID several times", checkBatchDuplicates},
		{"batch-unknown", "unknown IDs are a per-item NOT_FOUND, not a batch error", checkBatchUnknown},
		{"batch-empty", "an empty batch answers an empty list", checkBatchEmpty},
		{"pagination", "search cursors are stable and complete", checkPagination},
		{"bad-cursor", "a cursor the provider did not issue is BAD_USER_INPUT", checkBadCursor},
		{"idempotency", "one Idempotency-Key creates once and replays the result", checkIdempotency},
		{"concurrency", "concurrent mutations never oversell or double-book", checkConcurrency},
		{"user-lists", "a user's lists hold only that user's items", checkUserLists},
		{"deadline", "a call past its deadline returns promptly with a timeout", checkDeadline},
		{"error-shape", "errors carry a known code, a message and retryable", checkErrorShape},
		{"signature", "v3 signatures (over the provider and the query string too) are checked: unsigned, wrongly signed, query-tampered, provider-tampered and replayed requests are refused with 401", checkSignature},
		{"response-size", "a batch of the maximum size answers under the reply cap", checkResponseSize},
		{"cancel", "a user cancels their own booking (contract 1.3; orders always): CANCELLED, the slot or stock back, CONFLICT a second time, NOT_FOUND for another user", checkCancel},
		{"reschedule", "a user moves their own appointment (contract 1.3) or application (optional, 1.4) to another free slot of the same doctor or office: the old slot freed and the new taken in one step, CONFLICT into a taken slot, NOT_FOUND for another user (skipped for other bookings and providers without it)", checkReschedule},
		{"payment", "a provider that takes payment through Plaza (contract 1.4) creates orders AWAITING_PAYMENT, declines the declining test token leaving the order payable, places the order once paid, replays a retried payment and refuses a second (skipped otherwise)", checkPayment},
		{"display", "the display fields of contract 1.3, where present, are valid: images with a URL and a size, an original price above the price, review counts, opening hours", checkDisplay},
		{"catalog", "a provider of contract 1.2 publishes its catalogue: complete pages of valid items, resumable cursors (1.1 providers are skipped)", checkCatalog},
	}
}

// mutating are the checks that create orders, bookings or applications on
// the provider. Plaza's certification runs them against a provider's
// sandbox endpoint only, never against the endpoint users reach.
var mutating = map[string]bool{"idempotency": true, "concurrency": true, "user-lists": true, "cancel": true, "reschedule": true, "payment": true}

// Mutates reports whether the check creates records on the provider (places
// orders, books slots) rather than only reading.
func (c Check) Mutates() bool { return mutating[c.Name] }

// Option tunes a run.
type Option func(*config)

type config struct {
	user          string
	callTimeout   time.Duration
	concurrency   int
	maxResp       int64
	grace         time.Duration
	seed          uint64
	wire          *wire
	only          map[string]bool
	maxBatch      int
	now           func() time.Time
	hc            *http.Client
	baseURL       string
	secret        string
	httpRequested bool
}

// WithUser sets the user the mutating checks act as (default DefaultUser).
func WithUser(id string) Option { return func(c *config) { c.user = id } }

// WithHTTP enables the checks on the wire (raw error bodies, signatures,
// deadline header, reply size) against the provider at baseURL, whose shared
// secret is secret. Without it those parts are skipped.
func WithHTTP(baseURL, secret string) Option {
	return func(c *config) { c.baseURL, c.secret, c.httpRequested = strings.TrimRight(baseURL, "/"), secret, true }
}

// WithHTTPClient sets the client used for the raw wire checks.
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.hc = hc } }

// WithCallTimeout bounds every call the kit makes (default 5s), so a
// provider that hangs fails its checks instead of hanging the run.
func WithCallTimeout(d time.Duration) Option { return func(c *config) { c.callTimeout = d } }

// WithConcurrency sets how many mutations race in the concurrency check.
func WithConcurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// WithMaxResponseBytes sets the reply cap of the response-size check.
func WithMaxResponseBytes(n int64) Option { return func(c *config) { c.maxResp = n } }

// WithMaxBatch sets the batch size of the response-size check (default: the
// descriptor's MaxBatch, or 100 when it declares none).
func WithMaxBatch(n int) Option { return func(c *config) { c.maxBatch = n } }

// WithDeadlineGrace sets how long past a deadline a call may run.
func WithDeadlineGrace(d time.Duration) Option { return func(c *config) { c.grace = d } }

// WithSeed seeds the shuffles, so a failing run can be repeated.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithClock sets the clock used for request signatures on the wire.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Only restricts a run to the named checks.
func Only(names ...string) Option {
	return func(c *config) {
		c.only = map[string]bool{}
		for _, n := range names {
			c.only[n] = true
		}
	}
}

func newConfig(opts []Option) config {
	c := config{
		user: DefaultUser, callTimeout: DefaultCallTimeout, concurrency: DefaultConcurrency,
		maxResp: DefaultMaxResponseBytes, grace: DefaultDeadlineGrace, seed: 1, now: time.Now,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.httpRequested {
		hc := c.hc
		if hc == nil {
			hc = &http.Client{Transport: &http.Transport{Proxy: nil}}
		}
		c.wire = &wire{base: c.baseURL, secret: c.secret, hc: hc, now: c.now, maxResp: c.maxResp}
	}
	return c
}

// env is what a check works with.
type env struct {
	conn connectors.Connector
	desc connectors.Descriptor
	v    *vertical
	cfg  config
	rng  *rand.Rand
}

// errSkip marks a check that does not apply; its message is the reason.
type errSkip struct{ reason string }

func (e errSkip) Error() string { return e.reason }

func skipf(format string, args ...any) error { return errSkip{fmt.Sprintf(format, args...)} }

func newEnv(conn connectors.Connector, cfg config) (*env, error) {
	d := conn.Describe()
	v, err := verticalOf(conn, d.Vertical)
	if err != nil {
		return nil, err
	}
	if cfg.wire != nil {
		cfg.wire.provider = d.ID // every raw request names the provider, as the gateway's do
	}
	return &env{conn: conn, desc: d, v: v, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))}, nil
}

func (e *env) runCheck(ctx context.Context, c Check) Result {
	start := time.Now()
	// Each check gets a budget of a few calls, so one hanging provider
	// cannot stall the whole run.
	ctx, cancel := context.WithTimeout(ctx, 20*e.cfg.callTimeout+e.cfg.grace)
	defer cancel()
	reason, err := c.run(ctx, e)
	r := Result{Check: c.Name, Status: Pass, Reason: reason, Elapsed: time.Since(start)}
	var skip errSkip
	switch {
	case errors.As(err, &skip):
		r.Status, r.Reason = Skip, skip.reason
	case err != nil:
		r.Status, r.Reason = Fail, err.Error()
	}
	return r
}

func (e *env) selected(c Check) bool { return e.cfg.only == nil || e.cfg.only[c.Name] }

// Evaluate runs every check against conn and returns their results in the
// order of Checks. It fails only when conn's descriptor declares no vertical
// it implements.
func Evaluate(ctx context.Context, conn connectors.Connector, opts ...Option) ([]Result, error) {
	e, err := newEnv(conn, newConfig(opts))
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, c := range Checks() {
		if e.selected(c) {
			out = append(out, e.runCheck(ctx, c))
		}
	}
	return out, nil
}

// Run runs every check against conn as a subtest of t named after the check;
// a failing check fails its subtest, one that does not apply is skipped. It
// returns the results for further assertions.
func Run(t *testing.T, conn connectors.Connector, opts ...Option) []Result {
	t.Helper()
	e, err := newEnv(conn, newConfig(opts))
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	var out []Result
	for _, c := range Checks() {
		if !e.selected(c) {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			r := e.runCheck(t.Context(), c)
			out = append(out, r)
			switch r.Status {
			case Fail:
				t.Errorf("%s: %s", c.Description, r.Reason)
			case Skip:
				t.Skip(r.Reason)
			default:
				t.Log(r.Reason)
			}
		})
	}
	return out
}

// WriteReport prints one line per result and a summary, and returns the
// number of failed checks.
func WriteReport(w io.Writer, results []Result) (failed int) {
	width := 0
	for _, r := range results {
		width = max(width, len(r.Check))
	}
	var passed, skipped int
	for _, r := range results {
		switch r.Status {
		case Pass:
			passed++
		case Fail:
			failed++
		case Skip:
			skipped++
		}
		fmt.Fprintf(w, "%s  %-*s  %s\n", r.Status, width, r.Check, r.Reason)
	}
	fmt.Fprintf(w, "%d checks: %d passed, %d failed, %d skipped\n", len(results), passed, failed, skipped)
	return failed
}
