// Command bench measures Plaza against the Node gateways people would
// otherwise use (Hive Gateway + GraphQL Mesh, graphql-yoga + dataloader) and
// against calling the demo providers directly, on loopback, in one run.
// `make bench` runs it; see README.md for how to read the table.
//
//	go run ./bench                       the whole run (writes bench/results/latest.md)
//	go run ./bench -only fan-out         only the workloads whose names match (prints the table)
//	go run ./bench -only 'directory scale'   only the directory's scale benchmarks (10^6 providers, PostgreSQL)
//	go run ./bench -only 'traffic roll-ups'  only the traffic roll-ups at 1.1·10^7 rows (PostgreSQL)
//	go run ./bench -only 'service-level grading'  only the grading run over 10^6 providers' counters (PostgreSQL)
//	go run ./bench -skip-directory       everything but the directory-scale section
//	go run ./bench -compare REV          also the gateway at git revision REV, side by side (compare.go)
//	go run ./bench serve-provider ...    one demo provider (used by the harness)
//	go run ./bench serve-gateway ...     Plaza without the cross-request cache
//	go run ./bench serve-floor ...       the least a gateway must do for the list of 50 (floor.go)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "serve-provider":
			return serveProvider(ctx, args[1:], stderr)
		case "serve-gateway":
			return serveGateway(ctx, args[1:], stderr)
		case "serve-floor":
			return serveFloor(ctx, args[1:], stderr)
		}
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.root, "root", ".", "the repository root")
	fs.DurationVar(&o.headline, "headline", 3*time.Second, "length of one run of the headline workload (list of 50)")
	fs.DurationVar(&o.short, "duration", time.Second, "length of one run of the other workloads")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "warm-up before each workload and concurrency")
	fs.IntVar(&o.runs, "runs", 3, "runs per target, workload and concurrency (the median is reported)")
	fs.StringVar(&o.out, "out", "bench/results/latest.md", "where the table is written")
	fs.BoolVar(&o.skipPeers, "skip-peers", false, "measure Plaza and the raw providers only")
	fs.BoolVar(&o.skipDirectory, "skip-directory", false, "leave out the directory-scale section (about 2 minutes, PostgreSQL)")
	fs.StringVar(&o.compare, "compare", "", "also build the gateway at this git revision and measure it interleaved with this tree's\nin the list of 50 (uncached and cached) and the 50-order query (see compare.go)")
	only := fs.String("only", "", "run only the workloads whose names match this regular expression (e.g. fan-out;\n'directory scale' is the directory-scale section), without the 1,000-connection run\nand the Go benchmarks; the table is printed and written to bench/work/only.md,\nnot to -out, unless -out is given")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return fmt.Errorf("-only: %w", err)
		}
		o.only = re
		outSet := false
		fs.Visit(func(f *flag.Flag) { outSet = outSet || f.Name == "out" })
		if !outSet {
			// A partial table must not replace the committed results.
			o.out = "bench/work/only.md"
		}
	}
	h, err := newHarness(o, stdout)
	if err != nil {
		return err
	}
	defer h.procs.stopAll()
	return h.run(ctx)
}
