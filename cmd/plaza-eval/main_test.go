package main

import (
	"bytes"
	"context"
	"math"
	"regexp"
	"strconv"
	"strings"
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

func TestDemoEngineBeatsPopularity(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--demo", "--users", "300", "--seed", "7"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	m := regexp.MustCompile(`^hr@10 engine=(\d\.\d{3}) popularity=(\d\.\d{3}) random=(\d\.\d{3})$`).FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q is not the summary", last)
	}
	engine, _ := strconv.ParseFloat(m[1], 64)
	pop, _ := strconv.ParseFloat(m[2], 64)
	random, _ := strconv.ParseFloat(m[3], 64)
	if engine <= pop || pop <= random {
		t.Errorf("want engine > popularity > random, got %s", last)
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

func TestRunRejectsAmbiguousInput(t *testing.T) {
	if err := run(context.Background(), []string{"--demo", "--events", "x.csv"}, &bytes.Buffer{}); err == nil {
		t.Error("want an error for --demo with --events")
	}
}
