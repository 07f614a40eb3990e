package main

import (
	"bytes"
	"context"
	"testing"
)

// BenchmarkEvaluate100k is one whole plaza-eval run (split, fit on the
// training events, training, the engine and four baselines, intervals) on
// about 10^5 demo events. Run with -cpu 1 for the one-core figure.
func BenchmarkEvaluate100k(b *testing.B) {
	var csv bytes.Buffer
	if err := writeDemo(&csv, 800, 1); err != nil {
		b.Fatal(err)
	}
	ds, err := readEvents(bytes.NewReader(csv.Bytes()))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(ds.recs)), "events")
	b.ResetTimer()
	for b.Loop() {
		var out bytes.Buffer
		if err := report(context.Background(), &out, ds, options{seed: 1, split: splitLastDay}); err != nil {
			b.Fatal(err)
		}
	}
}
