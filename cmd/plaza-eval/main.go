// Command plaza-eval measures the recommendation engine offline against
// the baselines a reviewer asks for: per-user top-frequency, per-user
// recency ("the last basket again"), global popularity and random. It
// splits the events (--split user-last-day: each user's last day held out;
// --split time: everything before --cut trains, each user's first day after
// it tests), fits the engine's parameters on the training events only,
// and reports HR@10, NDCG@10, coverage, and 95% paired-bootstrap intervals
// over users of engine minus each baseline.
//
//	go run ./cmd/plaza-eval --events events.csv [--split user-last-day|time] [--cut 0.8|2015-06-01T00:00:00Z]
//	go run ./cmd/plaza-eval --demo [--users 2000] [--seed 1] [--demo-out demo.csv] [--ablation]
//
// The last two lines are always, with every figure:
//
//	ndcg@10 engine=0.xxx top-frequency=0.xxx recency=0.xxx popularity=0.xxx random=0.xxx split=user-last-day diff-best=[-0.xxx,+0.xxx]
//	hr@10 engine=0.xxx top-frequency=0.xxx recency=0.xxx popularity=0.xxx random=0.xxx split=user-last-day diff-best=[-0.xxx,+0.xxx]
//
// where diff-best is the interval of engine minus the best baseline on
// that metric.
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
	split    string
	cut      string
}

// The splits --split accepts.
const (
	splitLastDay = "user-last-day"
	splitAtTime  = "time"
)

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("plaza-eval", flag.ContinueOnError)
	fs.StringVar(&o.events, "events", "", "CSV of user,item,timestamp[,category[,city]] to evaluate on")
	fs.BoolVar(&o.demo, "demo", false, "generate synthetic events (see demo.go) and evaluate on them")
	fs.StringVar(&o.demoOut, "demo-out", "", "with --demo, also write the generated CSV here")
	fs.IntVar(&o.users, "users", 2000, "with --demo, how many users to simulate")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for the demo generator, the fit, the random baseline and the bootstrap")
	fs.BoolVar(&o.ablation, "ablation", false, "also evaluate the engine with each source switched off in turn")
	fs.StringVar(&o.split, "split", splitLastDay, "user-last-day (each user's last day held out) or time (a global cut, see --cut)")
	fs.StringVar(&o.cut, "cut", "", "with --split time: a fraction of the events (default 0.8, the quantile of event times) or a time (RFC 3339 or unix seconds)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.demo == (o.events != "") {
		return errors.New("give exactly one of --events FILE or --demo")
	}
	if o.split != splitLastDay && o.split != splitAtTime {
		return fmt.Errorf("--split %q: want %s or %s", o.split, splitLastDay, splitAtTime)
	}
	if o.cut != "" && o.split != splitAtTime {
		return errors.New("--cut needs --split time")
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

// methods are the baselines, in the order of the summary lines.
var baselineNames = []string{"top-frequency", "recency", "popularity", "random"}

func report(ctx context.Context, stdout io.Writer, ds *dataset, o options) error {
	trainRecs, tests := splitUserLastDay(ds)
	if o.split == splitAtTime {
		cut, err := timeCut(ds, o.cut)
		if err != nil {
			return err
		}
		trainRecs, tests = splitTime(ds, cut)
		fmt.Fprintf(stdout, "split: time, cut at %s\n", time.Unix(cut, 0).UTC().Format(time.RFC3339))
	}
	held := 0
	for _, tc := range tests {
		held += len(tc.relevant)
	}
	fmt.Fprintf(stdout, "dataset: %d events, %d users, %d items; training on %d events; testing %d users on %d held-out items\n",
		len(ds.recs), len(ds.users.names), len(ds.items.names), len(trainRecs), len(tests), held)
	if len(tests) == 0 {
		return errors.New("no user has history on both sides of the split: nothing to test")
	}

	ms, eng, params, err := methods(ctx, stdout, ds, trainRecs, o.seed)
	if err != nil {
		return err
	}
	results := make([]result, len(ms))
	for i, m := range ms {
		results[i] = evaluate(ctx, m.name, tests, len(ds.items.names), m.recommend)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "method\tHR@10\tNDCG@10\tcoverage\ttime\tengine-method HR@10 [95% CI]\tengine-method NDCG@10 [95% CI]")
	for i, r := range results {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%s", r.name, r.hr, r.ndcg, r.coverage, r.elapsed.Round(time.Millisecond))
		if i == 0 {
			fmt.Fprint(tw, "\t\t\n")
			continue
		}
		hlo, hhi := pairedInterval(results[0].perHR, r.perHR, o.seed)
		nlo, nhi := pairedInterval(results[0].perNDCG, r.perNDCG, o.seed)
		fmt.Fprintf(tw, "\t%+.3f [%+.3f,%+.3f]\t%+.3f [%+.3f,%+.3f]\n", results[0].hr-r.hr, hlo, hhi, results[0].ndcg-r.ndcg, nlo, nhi)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if o.ablation {
		if err := ablation(ctx, stdout, ds, eng, params, tests, results[0]); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return summary(stdout, results, o)
}

// method is one recommender under evaluation.
type method struct {
	name      string
	recommend func(*testCase) []int32
}

// methods builds the engine (parameters fitted on trainRecs only, then
// trained on them) and the four baselines, in the order of the summary
// lines. Nothing outside trainRecs is read but the item catalogue.
func methods(ctx context.Context, stdout io.Writer, ds *dataset, trainRecs []record, seed uint64) ([]method, *recommend.Engine, recommend.Params, error) {
	items := catalogue(ds)
	start := time.Now()
	evs := engineEvents(ds, trainRecs)
	cfg := recommend.DefaultConfig()
	// Requests are dated in the past of the training events (each user's
	// last day): popularity is read as of each request's own day.
	cfg.PopularityDays = int(logSpanDays(ds)) + 2
	params, err := fitParams(ctx, cfg, items, evs, seed)
	if err != nil {
		return nil, nil, params, err
	}
	fmt.Fprintf(stdout, "parameters fitted on the training events in %s\n", time.Since(start).Round(time.Millisecond))
	if err := printParams(stdout, params); err != nil {
		return nil, nil, params, err
	}
	start = time.Now()
	eng, err := train(evs, items, cfg, params)
	if err != nil {
		return nil, nil, params, err
	}
	fmt.Fprintf(stdout, "engine trained in %s\n\n", time.Since(start).Round(time.Millisecond))
	h := newHistories(trainRecs)
	pop := popularityTop(ds, trainRecs)
	return []method{
		{"engine", engineRecommender(ctx, ds, eng)},
		{"top-frequency", topFrequency(ds, h, pop)},
		{"recency", recency(ds, h, pop)},
		{"popularity", func(*testCase) []int32 { return pop }},
		{"random", randomRecommender(seed, len(ds.items.names))},
	}, eng, params, nil
}

// fitParams fits the engine's parameters on the training events; a log too
// small to validate on keeps the configured defaults, and says so.
func fitParams(ctx context.Context, cfg recommend.Config, items []recommend.Item, evs []recommend.Event, seed uint64) (recommend.Params, error) {
	p, err := recommend.Fit(ctx, cfg, items, evs, recommend.FitOptions{Seed: seed}, nil)
	if errors.Is(err, recommend.ErrTooFewEvents) {
		return cfg.DefaultParams(), nil
	}
	return p, err
}

func printParams(w io.Writer, p recommend.Params) error {
	if p.Fit == nil {
		_, err := fmt.Fprintln(w, "too few training events to fit: configured defaults")
		return err
	}
	f := p.Fit
	fmt.Fprintf(w, "validation: cut at %s, %d users; HR@%d %.3f NDCG@%d %.3f (popularity %.3f / %.3f); repeat half-life %s, due-ness %v\n",
		f.ValidationCut.Format(time.RFC3339), f.ValidationUsers, f.N, f.HR, f.N, f.NDCG, f.PopularityHR, f.PopularityNDCG,
		days(p.RepeatHalfLife), p.DueBoost)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  source\tweight\tcandidates\tused\tcalibration a, b")
	for _, s := range f.Sources {
		l := p.Calibration[s.Source]
		fmt.Fprintf(tw, "  %s\t%.2f\t%d\t%d\t%.2f, %.3f\n", s.Source, s.Weight, s.Candidates, s.Hits, l.A, l.B)
	}
	return tw.Flush()
}

func logSpanDays(ds *dataset) int64 {
	lo, hi := ds.recs[0].t, ds.recs[0].t
	for _, r := range ds.recs {
		lo, hi = min(lo, r.t), max(hi, r.t)
	}
	return (hi - lo) / 86400
}

func days(d time.Duration) string { return fmt.Sprintf("%gd", d.Hours()/24) }

// summary writes the two machine-readable lines: NDCG, then HR.
func summary(w io.Writer, results []result, o options) error {
	for _, m := range []struct {
		name string
		mean func(result) float64
		per  func(result) []float64
	}{
		{"ndcg@10", func(r result) float64 { return r.ndcg }, func(r result) []float64 { return r.perNDCG }},
		{"hr@10", func(r result) float64 { return r.hr }, func(r result) []float64 { return r.perHR }},
	} {
		line := fmt.Sprintf("%s engine=%.3f", m.name, m.mean(results[0]))
		best := results[1]
		for _, r := range results[1:] {
			line += fmt.Sprintf(" %s=%.3f", r.name, m.mean(r))
			if m.mean(r) > m.mean(best) {
				best = r
			}
		}
		lo, hi := pairedInterval(m.per(results[0]), m.per(best), o.seed)
		if _, err := fmt.Fprintf(w, "%s split=%s diff-best=[%s,%s]\n", line, o.split, signed(lo), signed(hi)); err != nil {
			return err
		}
	}
	return nil
}

// signed prints three decimals with a sign, never "-0.000".
func signed(x float64) string {
	s := fmt.Sprintf("%+.3f", x)
	if s == "-0.000" {
		s = "+0.000"
	}
	return s
}

// ablation serves the trained engine with each source switched off in turn
// (the learned state does not depend on the weights, so nothing retrains).
func ablation(ctx context.Context, stdout io.Writer, ds *dataset, eng *recommend.Engine, params recommend.Params, tests []testCase, full result) error {
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
	fmt.Fprintln(stdout, "\nablation: engine with one source switched off (fitted weights otherwise)")
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "variant\tHR@10\tNDCG@10\tΔHR@10")
	fmt.Fprintf(tw, "all sources\t%.3f\t%.3f\t\n", full.hr, full.ndcg)
	defer eng.SetParams(params) //nolint:errcheck // params were served already
	for _, v := range variants {
		if ctx.Err() != nil {
			break
		}
		p := params
		v.off(&p.Weights)
		if err := eng.SetParams(p); err != nil {
			fmt.Fprintf(tw, "%s\t-\t-\t(%v)\n", v.name, err)
			continue
		}
		r := evaluate(ctx, v.name, tests, len(ds.items.names), engineRecommender(ctx, ds, eng))
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%+.3f\n", v.name, r.hr, r.ndcg, r.hr-full.hr)
	}
	return tw.Flush()
}
