// Command plaza-eval measures the recommendation engine offline: it holds
// out each user's last day of events, trains the engine on the rest and
// reports HR@10, NDCG@10 and catalogue coverage against a popularity and a
// random baseline.
//
//	go run ./cmd/plaza-eval --events events.csv
//	go run ./cmd/plaza-eval --demo [--users 2000] [--seed 1] [--demo-out demo.csv] [--ablation]
//
// The last line of output is always
// `hr@10 engine=0.xxx popularity=0.xxx random=0.xxx`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"text/tabwriter"
	"time"

	"github.com/plaza-gateway/plaza/recommend"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "plaza-eval:", err)
		os.Exit(1)
	}
}

type options struct {
	events   string
	demo     bool
	demoOut  string
	users    int
	seed     uint64
	ablation bool
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("plaza-eval", flag.ContinueOnError)
	fs.StringVar(&o.events, "events", "", "CSV of user,item,timestamp[,category[,city]] to evaluate on")
	fs.BoolVar(&o.demo, "demo", false, "generate synthetic events (see demo.go) and evaluate on them")
	fs.StringVar(&o.demoOut, "demo-out", "", "with --demo, also write the generated CSV here")
	fs.IntVar(&o.users, "users", 2000, "with --demo, how many users to simulate")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for the demo generator and the random baseline")
	fs.BoolVar(&o.ablation, "ablation", false, "also evaluate the engine with each source switched off in turn")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.demo == (o.events != "") {
		return errors.New("give exactly one of --events FILE or --demo")
	}
	ds, err := load(o)
	if err != nil {
		return err
	}
	return report(ctx, stdout, ds, o)
}

func load(o options) (*dataset, error) {
	if !o.demo {
		f, err := os.Open(o.events)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readEvents(f)
	}
	// The generator streams into the reader through a pipe, so the demo
	// exercises the same CSV path as a real file.
	pr, pw := io.Pipe()
	var out io.Writer = pw
	var file *os.File
	if o.demoOut != "" {
		f, err := os.Create(o.demoOut)
		if err != nil {
			return nil, err
		}
		file = f
		out = io.MultiWriter(pw, f)
	}
	go func() { pw.CloseWithError(writeDemo(out, o.users, o.seed)) }()
	ds, err := readEvents(pr)
	pr.Close()
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	return ds, err
}

func report(ctx context.Context, stdout io.Writer, ds *dataset, o options) error {
	trainRecs, tests := split(ds)
	items := catalogue(ds)
	fmt.Fprintf(stdout, "dataset: %d events, %d users, %d items; training on %d events; testing %d users on %d held-out events\n",
		len(ds.recs), len(ds.users.names), len(ds.items.names), len(trainRecs), len(tests), len(ds.recs)-len(trainRecs))
	if len(tests) == 0 {
		return errors.New("no user has two days of history: nothing to test")
	}

	start := time.Now()
	eng := train(ds, trainRecs, items, recommend.DefaultConfig())
	fmt.Fprintf(stdout, "engine trained in %s\n\n", time.Since(start).Round(time.Millisecond))

	pop := popularityTop(ds, trainRecs)
	results := []result{
		evaluate(ctx, "engine", tests, len(items), engineRecommender(ctx, ds, eng)),
		evaluate(ctx, "popularity", tests, len(items), func(*testCase) []int32 { return pop }),
		evaluate(ctx, "random", tests, len(items), randomRecommender(o.seed, len(items))),
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "method\tHR@10\tNDCG@10\tcoverage\ttime")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%s\n", r.name, r.hr, r.ndcg, r.coverage, r.elapsed.Round(time.Millisecond))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if o.ablation {
		if err := ablation(ctx, stdout, ds, trainRecs, tests, items, results[0]); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "hr@10 engine=%.3f popularity=%.3f random=%.3f\n", results[0].hr, results[1].hr, results[2].hr)
	return err
}

// ablation retrains the engine with each source switched off in turn.
func ablation(ctx context.Context, stdout io.Writer, ds *dataset, trainRecs []record, tests []testCase, items []recommend.Item, full result) error {
	type variant struct {
		name string
		off  func(*recommend.Weights)
	}
	variants := []variant{
		{"without repeat", func(w *recommend.Weights) { w.Repeat = 0 }},
		{"without follow-up", func(w *recommend.Weights) { w.FollowUp = 0 }},
		{"without co-occurrence", func(w *recommend.Weights) { w.CoOccurrence = 0 }},
		{"without trending", func(w *recommend.Weights) { w.Trending = 0 }},
		{"without periodic", func(w *recommend.Weights) { w.Periodic = 0 }},
		{"without popular", func(w *recommend.Weights) { w.Popular = 0 }},
	}
	fmt.Fprintln(stdout, "\nablation: engine with one source switched off")
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "variant\tHR@10\tNDCG@10\tΔHR@10")
	fmt.Fprintf(tw, "all sources\t%.3f\t%.3f\t\n", full.hr, full.ndcg)
	for _, v := range variants {
		if ctx.Err() != nil {
			break
		}
		cfg := recommend.DefaultConfig()
		v.off(&cfg.Weights)
		eng := train(ds, trainRecs, items, cfg)
		r := evaluate(ctx, v.name, tests, len(items), engineRecommender(ctx, ds, eng))
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%+.3f\n", v.name, r.hr, r.ndcg, r.hr-full.hr)
	}
	return tw.Flush()
}
