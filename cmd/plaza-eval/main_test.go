package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestReadEvents(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int   // events
		wantT   int64 // time of the first event
		wantErr string
	}{
		{name: "reads a file with a header and RFC 3339 times",
			in:   "user,item,timestamp,category\nu1,a,2026-01-05T08:00:00Z,grocery\nu1,b,2026-01-06T08:00:00+08:00\n",
			want: 2, wantT: 1767600000},
		{name: "reads a file without a header and unix seconds",
			in:   "u1,a,1767600000\nu2,b,1767600060,grocery,Hangzhou\n",
			want: 2, wantT: 1767600000},
		{name: "names the line of a malformed timestamp",
			in:      "user,item,timestamp\nu1,a,1767600000\nu1,b,yesterday\n",
			wantErr: "line 3: timestamp \"yesterday\""},
		{name: "names the line with too few fields",
			in:      "u1,a,1767600000\nu1,b\n",
			wantErr: "line 2: want user,item,timestamp"},
		{name: "rejects an empty user",
			in:      "u1,a,1767600000\n,b,1767600000\n",
			wantErr: "line 2: empty user or item"},
		{name: "treats a header-less first line with a bad time as an error, not a header",
			in:      "u1,a,soon\n",
			wantErr: "line 1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := readEvents(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ds.recs) != tt.want || ds.recs[0].t != tt.wantT {
				t.Errorf("got %d events starting at %d, want %d starting at %d", len(ds.recs), ds.recs[0].t, tt.want, tt.wantT)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	relevant := map[int32]bool{2: true, 9: true}
	tests := []struct {
		name     string
		recs     []int32
		wantHR   float64
		wantNDCG float64
	}{
		{"scores a perfect list 1", []int32{2, 9, 5}, 1, 1},
		// DCG = 1/log2(3) = 0.6309; IDCG = 1 + 1/log2(3) = 1.6309.
		{"discounts a single hit at rank two", []int32{5, 2, 7}, 1, (1 / math.Log2(3)) / (1 + 1/math.Log2(3))},
		{"scores a list without hits 0", []int32{1, 3}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hitRate(tt.recs, relevant); got != tt.wantHR {
				t.Errorf("HR = %v, want %v", got, tt.wantHR)
			}
			if got := ndcg(tt.recs, relevant, 10); math.Abs(got-tt.wantNDCG) > 1e-12 {
				t.Errorf("NDCG = %v, want %v", got, tt.wantNDCG)
			}
		})
	}
}

func TestSplitHoldsOutTheLastDay(t *testing.T) {
	in := "u1,a,2026-01-05T08:00:00Z,,Hangzhou\nu1,b,2026-01-06T09:00:00Z\nu1,c,2026-01-06T10:00:00Z\n" +
		"u2,a,2026-01-06T08:00:00Z\nu2,d,2026-01-06T20:00:00Z\n"
	ds, err := readEvents(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	train, tests := splitUserLastDay(ds)
	if len(train) != 3 {
		t.Errorf("training events = %d, want 3 (u1's first day and all of single-day u2)", len(train))
	}
	if len(tests) != 1 || len(tests[0].relevant) != 2 || tests[0].city != "Hangzhou" || tests[0].now.Hour() != 9 {
		t.Fatalf("tests = %+v, want u1 with b and c, at 09:00 in Hangzhou", tests)
	}
}

// summaryLine matches one of the two last lines and captures every figure.
var summaryLine = regexp.MustCompile(`^(ndcg@10|hr@10) engine=(\d\.\d{3}) top-frequency=(\d\.\d{3}) recency=(\d\.\d{3}) popularity=(\d\.\d{3}) random=(\d\.\d{3}) split=(user-last-day|time) diff-best=\[([+-]\d\.\d{3}),([+-]\d\.\d{3})\]$`)

// figures are one summary line's numbers.
type figures struct {
	metric, split string
	engine, best  float64
	baselines     map[string]float64
	lo, hi        float64
}

// mustSummary runs the plaza-eval command with args and parses its last two
// lines, which must be the NDCG line, then the HR line. The command runs as
// a subprocess built without the race detector, so the whole-log runs stay
// at a few seconds inside "go test -race".
func mustSummary(t *testing.T, args ...string) (ndcgLine, hrLine figures) {
	t.Helper()
	cmd := exec.Command(evalBinary(t), args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("plaza-eval %v: %v\n%s", args, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("output too short:\n%s", out.String())
	}
	var got [2]figures
	for i, l := range lines[len(lines)-2:] {
		m := summaryLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %q is not a summary line; output:\n%s", l, out.String())
		}
		f := figures{metric: m[1], split: m[7], baselines: map[string]float64{}}
		f.engine = mustFloat(t, m[2])
		for k, name := range baselineNames {
			v := mustFloat(t, m[3+k])
			f.baselines[name] = v
			f.best = max(f.best, v)
		}
		f.lo, f.hi = mustFloat(t, m[8]), mustFloat(t, m[9])
		got[i] = f
	}
	if got[0].metric != "ndcg@10" || got[1].metric != "hr@10" {
		t.Fatalf("summary lines in the wrong order: %s then %s", got[0].metric, got[1].metric)
	}
	t.Logf("%s", strings.Join(lines[len(lines)-2:], "\n"))
	return got[0], got[1]
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// evalBinary builds the command once per test binary (without -race).
func evalBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if binDir, buildErr = os.MkdirTemp("", "plaza-eval-test-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "plaza-eval")
		out, err := exec.Command(goTool, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDemoSummaryLines(t *testing.T) {
	for _, split := range []string{splitLastDay, splitAtTime} {
		t.Run("the engine at least matches the best baseline on the "+split+" split", func(t *testing.T) {
			ndcgF, hrF := mustSummary(t, "--demo", "--users", "200", "--seed", "7", "--split", split)
			for _, f := range []figures{ndcgF, hrF} {
				if f.split != split {
					t.Errorf("split=%s, want %s", f.split, split)
				}
				if f.engine < f.best {
					t.Errorf("%s: engine %.3f below the best baseline %.3f", f.metric, f.engine, f.best)
				}
				if f.lo > f.hi || f.engine-f.best < f.lo-0.001 || f.engine-f.best > f.hi+0.001 {
					t.Errorf("%s: interval [%.3f,%.3f] does not hold the difference %.3f", f.metric, f.lo, f.hi, f.engine-f.best)
				}
			}
		})
	}
}

func TestDemoIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := writeDemo(&a, 20, 3); err != nil {
		t.Fatal(err)
	}
	if err := writeDemo(&b, 20, 3); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("same seed produced different files")
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"both inputs", []string{"--demo", "--events", "x.csv"}, "exactly one of"},
		{"an unknown split", []string{"--demo", "--split", "random"}, `--split "random"`},
		{"a cut without the time split", []string{"--demo", "--cut", "0.5"}, "--cut needs --split time"},
		{"a cut that is neither a fraction nor a time", []string{"--demo", "--users", "5", "--split", "time", "--cut", "soon"}, `--cut "soon"`},
		{"a missing file", []string{"--events", "/nonexistent/events.csv"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
