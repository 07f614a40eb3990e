package conformance_test

import (
	"cmp"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/conformance"
	"github.com/plaza-gateway/plaza/connectors/conformance/faulty"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

const secret = "conformance-test-secret"

func demoProviders(tb testing.TB) []connectors.Connector {
	tb.Helper()
	// With the checkout of contract 1.4, as `go run .` serves them.
	conns, err := demo.Default(demo.WithPayments(time.Hour), demo.WithMinimumOrders())
	if err != nil {
		tb.Fatal(err)
	}
	return conns
}

// notFor is the checks that do not apply to c's vertical (payment is for
// grocery providers, reschedule for appointments and applications).
func notFor(c connectors.Connector, more ...string) []string {
	switch c.Describe().Vertical {
	case connectors.VerticalGrocery:
		more = append(more, "reschedule")
	case connectors.VerticalLegal:
		more = append(more, "payment", "reschedule")
	default:
		more = append(more, "payment")
	}
	return more
}

// serve runs conn's real HTTP handler (wrapped by wrap) on loopback and
// returns a client for it.
func serve(tb testing.TB, conn connectors.Connector, wrap func(http.Handler) http.Handler, opts ...httpprovider.HandlerOption) (*httpprovider.Client, string) {
	tb.Helper()
	h := httpprovider.NewHandler(conn, secret, opts...)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	d := conn.Describe()
	c, err := httpprovider.New(httpprovider.Config{ID: d.ID, Vertical: d.Vertical, BaseURL: srv.URL, Secret: secret, MaxBatch: d.MaxBatch, Name: d.Name})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.CloseIdleConnections)
	return c, srv.URL
}

func requireAll(t *testing.T, results []conformance.Result, want conformance.Status, except ...string) {
	t.Helper()
	if len(results) != len(conformance.Checks()) {
		t.Fatalf("%d results for %d checks", len(results), len(conformance.Checks()))
	}
	for _, r := range results {
		exempt := false
		for _, e := range except {
			exempt = exempt || r.Check == e
		}
		if !exempt && r.Status != want {
			t.Errorf("%s: %s %s, want %s", r.Check, r.Status, r.Reason, want)
		}
	}
}

func TestDemoProvidersInProcessConform(t *testing.T) {
	for _, c := range demoProviders(t) {
		t.Run(c.Describe().ID, func(t *testing.T) {
			res := conformance.Run(t, c)
			// Signatures only exist on the wire.
			requireAll(t, res, conformance.Pass, notFor(c, "signature")...)
		})
	}
}

func TestDemoProvidersOverHTTPConform(t *testing.T) {
	for _, c := range demoProviders(t) {
		t.Run(c.Describe().ID, func(t *testing.T) {
			client, url := serve(t, c, nil)
			res := conformance.Run(t, client, conformance.WithHTTP(url, secret))
			requireAll(t, res, conformance.Pass, notFor(c)...)
		})
	}
}

// result returns the named check's result.
func result(t *testing.T, results []conformance.Result, name string) conformance.Result {
	t.Helper()
	for _, r := range results {
		if r.Check == name {
			return r
		}
	}
	t.Fatalf("no result for check %s", name)
	return conformance.Result{}
}

func TestMisbehavingProvidersAreReported(t *testing.T) {
	always := func(mode httpprovider.FaultMode) func(http.Handler) http.Handler {
		return func(h http.Handler) http.Handler {
			return httpprovider.Inject(h, httpprovider.Faults{FailRate: 1, Mode: mode})
		}
	}
	tests := []struct {
		name string
		wrap func(http.Handler) http.Handler
		opts []httpprovider.HandlerOption
		// fails are checks that must fail, with a reason containing why.
		fails map[string]string
		// onlyThese: every other check must pass.
		onlyThese bool
		// callTimeout bounds each of the kit's calls (default 300 ms, so
		// the stalls are short).
		callTimeout time.Duration
	}{
		{name: "results out of order", wrap: faulty.Reorder,
			fails: map[string]string{"batch-order": "is for id", "batch-duplicates": "is for id"}},
		{name: "garbage JSON", wrap: always(httpprovider.FaultGarbage),
			fails: map[string]string{"batch-order": "malformed provider reply", "error-shape": "", "deadline": ""}},
		{name: "500 on every call", wrap: always(httpprovider.FaultInternal),
			fails: map[string]string{"batch-order": "status 500", "pagination": "", "idempotency": ""}},
		{name: "a stall past the deadline", wrap: always(httpprovider.FaultStall),
			fails: map[string]string{"deadline": "no answer within"}},
		{name: "a 100 MB body", wrap: func(h http.Handler) http.Handler { return faulty.Pad(h, 100<<20, ":batchGet") },
			fails: map[string]string{"response-size": "more than the 4194304-byte cap"},
			// Time to read 4 MiB under the race detector on a loaded
			// machine, so the reply is refused for its size, not its time.
			callTimeout: 3 * time.Second},
		{name: "signatures not enforced", opts: []httpprovider.HandlerOption{httpprovider.AllowUnsigned()},
			fails: map[string]string{"signature": "an unsigned request was not refused"}, onlyThese: true},
		{name: "another secret at the provider", wrap: func(h http.Handler) http.Handler {
			conn, _ := demo.New(connectors.Descriptor{ID: "freshcart", Vertical: connectors.VerticalGrocery})
			return httpprovider.NewHandler(conn, "another-secret")
		}, fails: map[string]string{"batch-order": "credentials", "signature": "a correctly signed (v3) request: status 401"}},
		{name: "a signature check that ignores the query string", wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { r.URL.RawQuery = ""; h.ServeHTTP(w, r) })
		}, fails: map[string]string{"signature": "a v3 request with a query string added after signing was not refused",
			// The catalogue pull is the contract's one signed GET with a
			// query: such a provider refuses every pull.
			"catalog": "credentials"}, onlyThese: true},
	}
	for _, tt := range tests {
		t.Run("reports "+tt.name, func(t *testing.T) {
			conn, err := demo.New(connectors.Descriptor{ID: "freshcart", Vertical: connectors.VerticalGrocery})
			if err != nil {
				t.Fatal(err)
			}
			client, url := serve(t, conn, tt.wrap, tt.opts...)
			start := time.Now()
			res, err := conformance.Evaluate(context.Background(), client, conformance.WithHTTP(url, secret),
				conformance.WithCallTimeout(cmp.Or(tt.callTimeout, 300*time.Millisecond)), conformance.WithDeadlineGrace(300*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("the run took %v: a misbehaving provider must not stall the kit", took)
			}
			for name, why := range tt.fails {
				r := result(t, res, name)
				if r.Status != conformance.Fail || !strings.Contains(r.Reason, why) {
					t.Errorf("%s: %s %q, want FAIL containing %q", name, r.Status, r.Reason, why)
				}
			}
			if tt.onlyThese {
				for _, r := range res {
					// A provider without the payment step is skipped there,
					// and grocery orders are never rescheduled.
					skippable := r.Check == "payment" || r.Check == "reschedule"
					if _, expected := tt.fails[r.Check]; !expected && r.Status != conformance.Pass && !(skippable && r.Status == conformance.Skip) {
						t.Errorf("%s: %s %s, want PASS", r.Check, r.Status, r.Reason)
					}
				}
			}
		})
	}
}

// misbehavingConnector breaks the in-process contract in ways only the
// in-process variant of a check can see.
type misbehavingConnector struct {
	*demo.Grocery
	shortOrders bool
}

// PlaceOrder takes one unit whatever the order asks for.
func (m misbehavingConnector) PlaceOrder(ctx context.Context, in connectors.PlaceOrderInput) (connectors.GroceryOrder, error) {
	if !m.shortOrders {
		return m.Grocery.PlaceOrder(ctx, in)
	}
	in.Items[0].Quantity = 1
	return m.Grocery.PlaceOrder(ctx, in)
}

// SearchProducts ignores the context.
func (m misbehavingConnector) SearchProducts(_ context.Context, q connectors.Query) (connectors.Page[connectors.Product], error) {
	return m.Grocery.SearchProducts(context.Background(), q)
}

func TestInProcessMisbehaviourIsReported(t *testing.T) {
	g, err := demo.NewGrocery(connectors.Descriptor{ID: "freshcart", Vertical: connectors.VerticalGrocery})
	if err != nil {
		t.Fatal(err)
	}
	res, err := conformance.Evaluate(context.Background(), misbehavingConnector{Grocery: g, shortOrders: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("an expired deadline that is ignored fails the deadline check", func(t *testing.T) {
		if r := result(t, res, "deadline"); r.Status != conformance.Fail {
			t.Fatalf("deadline: %s %s", r.Status, r.Reason)
		}
	})
	t.Run("orders that take less than asked fail the concurrency check", func(t *testing.T) {
		if r := result(t, res, "concurrency"); r.Status != conformance.Fail {
			t.Fatalf("concurrency: %s %s", r.Status, r.Reason)
		}
	})
}

func TestWriteReport(t *testing.T) {
	var b strings.Builder
	failed := conformance.WriteReport(&b, []conformance.Result{
		{Check: "batch-order", Status: conformance.Pass, Reason: "ok"},
		{Check: "signature", Status: conformance.Fail, Reason: "unsigned accepted"},
		{Check: "deadline", Status: conformance.Skip, Reason: "n/a"},
	})
	want := "PASS  batch-order  ok\nFAIL  signature    unsigned accepted\nSKIP  deadline     n/a\n3 checks: 1 passed, 1 failed, 1 skipped\n"
	if failed != 1 || b.String() != want {
		t.Fatalf("failed %d, report:\n%s\nwant:\n%s", failed, b.String(), want)
	}
}

// badDisplay is a grocery provider whose display fields break contract 1.3
// in one way, chosen by break.
type badDisplay struct {
	*demo.Grocery
	breakIt func(p *connectors.Product)
}

func (b badDisplay) Products(ctx context.Context, ids []string) ([]connectors.Result[connectors.Product], error) {
	res, err := b.Grocery.Products(ctx, ids)
	for i := range res {
		if res[i].Err == nil {
			b.breakIt(&res[i].Value)
		}
	}
	return res, err
}

func TestDisplayCheck(t *testing.T) {
	g, err := demo.NewGrocery(connectors.Descriptor{ID: "shop", Name: "Shop"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		breakIt func(p *connectors.Product)
		want    conformance.Status
		reason  string
	}{
		{"passes the demo's own fields", func(*connectors.Product) {}, conformance.Pass, "display fields present and valid"},
		{"passes a provider of 1.2 without any", func(p *connectors.Product) { p.Images, p.OriginalPrice, p.ReviewCount = nil, nil, 0 }, conformance.Pass, ""},
		{"fails an original price below the price", func(p *connectors.Product) {
			p.OriginalPrice = &connectors.Money{Amount: p.Price.Amount - 1, Currency: p.Price.Currency}
		}, conformance.Fail, "is not above the price"},
		{"fails an original price in another currency", func(p *connectors.Product) {
			p.OriginalPrice = &connectors.Money{Amount: p.Price.Amount * 2, Currency: "USD"}
		}, conformance.Fail, "original price is in USD"},
		{"fails an image without a size", func(p *connectors.Product) {
			p.Images = []connectors.Image{{URL: "https://cdn.example.com/a.jpg"}}
		}, conformance.Fail, "want 1..8192 pixels"},
		{"fails an image that is not https", func(p *connectors.Product) {
			p.Images = []connectors.Image{{URL: "ftp://example.com/a.jpg", Width: 1, Height: 1}}
		}, conformance.Fail, "neither https nor a path"},
		{"fails a negative review count", func(p *connectors.Product) { p.ReviewCount = -1 }, conformance.Fail, "is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := conformance.Evaluate(context.Background(), badDisplay{g, tc.breakIt}, conformance.Only("display"))
			if err != nil {
				t.Fatal(err)
			}
			var got *conformance.Result
			for i := range res {
				if res[i].Check == "display" {
					got = &res[i]
				}
			}
			if got == nil || got.Status != tc.want || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("got %+v, want %s with %q", got, tc.want, tc.reason)
			}
		})
	}
}
