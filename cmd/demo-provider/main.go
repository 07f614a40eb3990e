// Command demo-provider serves one demo provider over the HTTP provider
// contract (connectors/httpprovider/openapi.yaml), with optional latency and
// failure injection, for end-to-end tests and benchmarks:
//
//	go run ./cmd/demo-provider --vertical grocery --provider freshcart \
//	    --secret s3cret --addr 127.0.0.1:9101 --latency 20ms --fail-rate 0
//
// With --providers (any, or a comma-separated list of ids) one process
// answers for many providers of its vertical: each request names its
// provider in the Plaza-Provider header (signed by scheme v3), and gets that
// provider's demo data, derived from --seed and the id. This is what
// `plaza providers generate --endpoint VERTICAL=URL` points at.
//
// GET /v1/stats reports the calls received per operation; it is
// unauthenticated and read-only. GET /v1/catalog serves the provider's
// catalogue changes (contract 1.2). With --publish-to the provider also
// pushes its catalogue to that gateway, signed with --secret: all of it at
// start, then every change; --churn changes it on a schedule (prices,
// stock, new products, booked slots):
//
//	go run ./cmd/demo-provider --vertical grocery --provider freshcart \
//	    --secret dev-secret-freshcart --publish-to http://127.0.0.1:8080 --churn 2s
//
// What `go run .`'s embedded demo providers do is off by default here, and
// each has its flag: --payment-window (orders wait for payment through
// Plaza), --minimum-orders (stores refuse orders below their minimum), and
// --status-to with --status-step (new orders and bookings move along their
// statuses, each change reported to the gateway's signed status webhook, as
// a real provider would).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo-provider:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully. It prints the
// address it listens on to stdout (useful with --addr 127.0.0.1:0).
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo-provider", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var (
		vertical  = fs.String("vertical", "", "grocery, medical, legal or public-service (or GROCERY, MEDICAL, LEGAL, PUBLIC_SERVICE)")
		provider  = fs.String("provider", "", "provider id: one of the demo data's, or a new one (gets generated data)")
		many      = fs.String("providers", "", "answer for several providers named by the Plaza-Provider header: any, or a comma-separated list of ids (instead of --provider)")
		secret    = fs.String("secret", "", "shared secret for request signatures")
		insecure  = fs.Bool("insecure", false, "accept unsigned requests (for peers that cannot sign)")
		addr      = fs.String("addr", "127.0.0.1:9101", "listen address")
		latency   = fs.Duration("latency", 0, "latency added to every request")
		failRate  = fs.Float64("fail-rate", 0, "fraction of requests, in [0, 1], that fail as --fail-mode")
		failMode  = fs.String("fail-mode", string(httpprovider.FaultUnavailable), "how a failing request fails: unavailable (503), internal (500), garbage (200 with broken JSON) or stall (no answer)")
		maxBatch  = fs.Int("max-batch", -1, "largest batch accepted (default: the demo descriptor's)")
		seed      = fs.Int64("seed", demo.DefaultSeed, "seed of the generated data")
		publish   = fs.String("publish-to", "", "gateway base URL to push the catalogue to (POST /providers/{id}/catalog, signed with --secret)")
		churn     = fs.Duration("churn", 0, "change the catalogue this often (grocery: prices, stock, new products; medical: booked slots); 0 never")
		payWin    = fs.Duration("payment-window", 0, "grocery: orders wait AWAITING_PAYMENT this long for payGroceryOrder (orders:pay) before they are cancelled; 0: orders are PLACED at once, with no payment through Plaza")
		minimums  = fs.Bool("minimum-orders", false, "grocery: refuse an order whose items come to less than its store's minimum order (BELOW_MINIMUM_ORDER); without it the minimum is shown but not enforced")
		statusTo  = fs.String("status-to", "", "gateway base URL to report status changes to (POST /providers/{id}/status, signed with --secret): each new order and booking moves along its statuses, one step every --status-step")
		stepEvery = fs.Duration("status-step", 30*time.Second, "with --status-to: time between two status changes of an order or booking")
		v1Until   = fs.String("signature-v1-until", "", "accept signature scheme v1 (no query string) until this RFC 3339 time, or none (default "+httpprovider.DefaultV1Until.Format(time.RFC3339)+")")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	v, err := parseVertical(*vertical)
	if err != nil {
		return err
	}
	mode, ok := httpprovider.ParseFaultMode(*failMode)
	if !ok {
		return fmt.Errorf("unknown --fail-mode %q", *failMode)
	}
	if *failRate < 0 || *failRate > 1 {
		return fmt.Errorf("--fail-rate %v is not in [0, 1]", *failRate)
	}
	v1End, err := httpprovider.ParseV1Until(*v1Until)
	if err != nil {
		return fmt.Errorf("--signature-v1-until %w", err)
	}
	if *secret == "" && !*insecure {
		return errors.New("--secret is required (or --insecure to accept unsigned requests)")
	}
	if *statusTo != "" && (*secret == "" || *provider == "" || *stepEvery <= 0) {
		return errors.New("--status-to reports for one provider, signed: give --provider and --secret, and a positive --status-step")
	}
	// The status reporter of the one provider served (--status-to), made
	// once its descriptor is known.
	var reporter *httpprovider.StatusReporter
	build := func(id string) (connectors.Connector, error) {
		desc, err := descriptor(id, v)
		if err != nil {
			return nil, err
		}
		if *maxBatch >= 0 {
			desc.MaxBatch = *maxBatch
		}
		opts := []demo.Option{demo.WithSeed(*seed)}
		if *payWin > 0 {
			opts = append(opts, demo.WithPayments(*payWin))
		}
		if *minimums {
			opts = append(opts, demo.WithMinimumOrders())
		}
		if *statusTo != "" {
			reporter, err = httpprovider.NewStatusReporter(httpprovider.Config{ID: desc.ID, Vertical: desc.Vertical, BaseURL: *statusTo, Secret: *secret})
			if err != nil {
				return nil, fmt.Errorf("--status-to: %w", err)
			}
			opts = append(opts, demo.WithStatusUpdates(reporter, *stepEvery))
		}
		return demo.New(desc, opts...)
	}
	hopts := []httpprovider.HandlerOption{httpprovider.WithV1Until(v1End)}
	if *insecure {
		hopts = append(hopts, httpprovider.AllowUnsigned())
	}
	var (
		handler http.Handler
		name    string
		// conn is the one provider served without --providers: the one
		// that publishes (--publish-to) and changes (--churn).
		conn connectors.Connector
	)
	switch {
	case *many != "" && *provider != "":
		return errors.New("give --provider or --providers, not both")
	case *many != "" && (*publish != "" || *churn > 0 || *statusTo != ""):
		return errors.New("--publish-to, --status-to and --churn serve one provider: give --provider, not --providers")
	case *many != "":
		set, err := providerSet(*many)
		if err != nil {
			return err
		}
		handler = httpprovider.NewMultiHandler(func(_ context.Context, id string) (connectors.Connector, error) {
			if set != nil && !set[id] {
				return nil, connectors.Errorf(connectors.KindNotFound, "provider %q is not served here", id)
			}
			c, err := build(id)
			if err != nil {
				return nil, connectors.Wrap(err, connectors.KindNotFound, "provider not served here")
			}
			return c, nil
		}, *secret, hopts...)
		name = "providers " + *many
	default:
		c, err := build(*provider)
		if err != nil {
			return err
		}
		conn = c
		handler, name = httpprovider.NewHandler(conn, *secret, hopts...), *provider
	}
	stats := httpprovider.NewStats()
	mux := http.NewServeMux()
	mux.Handle(httpprovider.PathStats, stats)
	mux.Handle("/", stats.Count(httpprovider.Inject(
		handler,
		httpprovider.Faults{Latency: *latency, FailRate: *failRate, Mode: mode},
	)))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(stdout, "demo-provider %s (%s) listening on http://%s\n", name, v, ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if *publish != "" {
		if *secret == "" {
			return errors.New("--publish-to needs --secret: pushes are signed")
		}
		desc := conn.Describe()
		pub, err := httpprovider.NewPublisher(httpprovider.Config{ID: desc.ID, Vertical: desc.Vertical, BaseURL: *publish, Secret: *secret})
		if err != nil {
			return fmt.Errorf("--publish-to: %w", err)
		}
		fmt.Fprintf(stdout, "demo-provider %s publishing its catalogue to %s\n", desc.ID, *publish)
		go demo.Publish(ctx, []connectors.Connector{conn}, pub)
	}
	if *churn > 0 {
		go demo.Churn(ctx, conn, *churn, uint64(*seed))
	}
	if reporter != nil {
		defer reporter.CloseIdleConnections()
		fmt.Fprintf(stdout, "demo-provider %s reporting status changes to %s every %s\n", conn.Describe().ID, *statusTo, *stepEvery)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// providerSet reads --providers: nil for any, else the ids listed.
func providerSet(s string) (map[string]bool, error) {
	if s == "any" {
		return nil, nil
	}
	set := map[string]bool{}
	for id := range strings.SplitSeq(s, ",") {
		id = strings.TrimSpace(id)
		if !connectors.ValidProviderID(id) {
			return nil, fmt.Errorf("--providers: %q: 1 to 64 characters of a-z, 0-9 and - are required (or any)", id)
		}
		set[id] = true
	}
	return set, nil
}

func parseVertical(s string) (connectors.Vertical, error) {
	v := connectors.Vertical(strings.ReplaceAll(strings.ToUpper(s), "-", "_"))
	if !v.Valid() {
		return "", fmt.Errorf("unknown --vertical %q (want grocery, medical, legal or public-service)", s)
	}
	return v, nil
}

// descriptor returns the demo descriptor of id, or a new one for an id the
// demo data does not know.
func descriptor(id string, v connectors.Vertical) (connectors.Descriptor, error) {
	if !connectors.ValidProviderID(id) {
		return connectors.Descriptor{}, fmt.Errorf("--provider %q: 1 to 64 characters of a-z, 0-9 and - are required", id)
	}
	for _, d := range demo.DefaultDescriptors() {
		if d.ID == id {
			if d.Vertical != v {
				return connectors.Descriptor{}, fmt.Errorf("demo provider %s is %s, not %s", id, d.Vertical, v)
			}
			return d, nil
		}
	}
	return connectors.Descriptor{
		ID: id, Name: id, Vertical: v, Description: "Generated demo provider",
		Rating: 4, Cities: demo.DefaultCities(),
	}, nil
}
