// Command plaza-conformance certifies a provider's implementation of the HTTP
// provider contract (connectors/httpprovider/openapi.yaml): it runs the
// conformance kit against the running provider and prints one line per check,
// exiting 1 when any check fails.
//
//	go run ./cmd/plaza-conformance --url http://127.0.0.1:9101 --vertical grocery --secret s3cret
//
// The mutating checks place orders and book slots as the user
// "conformance-user": run it against a staging instance.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/conformance"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/providers"
)

// errFailed is returned when the run completed but some check failed.
var errFailed = errors.New("conformance checks failed")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Getenv)
	stop()
	switch {
	case errors.Is(err, errFailed):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "plaza-conformance:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("plaza-conformance", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var (
		url         = fs.String("url", "", "base URL of the provider, e.g. http://127.0.0.1:9101")
		vertical    = fs.String("vertical", "", "grocery, medical, legal or public-service (or GROCERY, MEDICAL, LEGAL, PUBLIC_SERVICE)")
		secret      = fs.String("secret", "", "the shared secret that signs requests")
		secretEnv   = fs.String("secret-env", "", "environment variable holding the secret (instead of --secret)")
		provider    = fs.String("provider", "", "provider id (default: the id the provider's /v1/descriptor reports)")
		user        = fs.String("user", conformance.DefaultUser, "user the mutating checks act as")
		timeout     = fs.Duration("timeout", conformance.DefaultCallTimeout, "bound on each call")
		concurrency = fs.Int("concurrency", conformance.DefaultConcurrency, "mutations racing in the concurrency check")
		maxBatch    = fs.Int("max-batch", 0, "batch size of the response-size check (default: the provider's declared maximum, else 100)")
		only        = fs.String("only", "", "comma-separated checks to run (default: all)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("--url is required")
	}
	v, err := providers.ParseVertical(*vertical)
	if err != nil {
		return err
	}
	if *secretEnv != "" {
		*secret = getenv(*secretEnv)
	}
	if *secret == "" {
		return errors.New("--secret (or --secret-env) is required")
	}
	client, err := connect(ctx, *url, v, *secret, *provider, *timeout)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	d := client.Describe()
	fmt.Fprintf(stdout, "plaza-conformance: %s (%s) at %s as user %s\n", d.ID, d.Vertical, *url, *user)
	opts := []conformance.Option{
		conformance.WithHTTP(*url, *secret), conformance.WithUser(*user), conformance.WithCallTimeout(*timeout),
		conformance.WithConcurrency(*concurrency), conformance.WithMaxBatch(*maxBatch),
	}
	if *only != "" {
		opts = append(opts, conformance.Only(strings.Split(*only, ",")...))
	}
	results, err := conformance.Evaluate(ctx, client, opts...)
	if err != nil {
		return err
	}
	if conformance.WriteReport(stdout, results) > 0 {
		return errFailed
	}
	return nil
}

// connect builds the client the gateway would use, with the descriptor the
// provider reports about itself (its id unless --provider names one, its
// batch limit), after checking it serves the vertical asked for.
func connect(ctx context.Context, url string, v connectors.Vertical, secret, id string, timeout time.Duration) (*httpprovider.Client, error) {
	cfg := httpprovider.Config{ID: "conformance", Vertical: v, BaseURL: url, Secret: secret, Timeout: timeout}
	probe, err := httpprovider.New(cfg)
	if err != nil {
		return nil, err
	}
	defer probe.CloseIdleConnections()
	d, err := probe.RemoteDescriptor(ctx)
	if err != nil {
		return nil, fmt.Errorf("GET %s%s: %w", url, httpprovider.PathDescriptor, err)
	}
	if d.Vertical != v {
		return nil, fmt.Errorf("the provider describes itself as %s, not %s", d.Vertical, v)
	}
	cfg.ID, cfg.Name, cfg.MaxBatch = d.ID, d.Name, d.MaxBatch
	if id != "" {
		cfg.ID = id
	}
	return httpprovider.New(cfg)
}
