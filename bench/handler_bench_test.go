package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// The handler benchmarks post the harness's documents to Plaza's real
// handler (no network, in-process demo providers, no cross-request cache),
// so allocs/op is the gateway's own cost per request. `make bench` reads
// them for the allocations column; benchstat reads them as they are.

func mustProductIDs(tb testing.TB, n int) []string {
	tb.Helper()
	return apitest.ProductIDs(tb, n)
}

func benchHandler(b *testing.B, doc string, vars map[string]any, user string) {
	g := apitest.Start(b, apitest.Options{})
	h := g.Server.Config.Handler
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		b.Fatal(err)
	}
	var auth string
	if user != "" {
		auth = "Bearer " + g.Token(user)
	}
	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	if w := post(); w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("status %d: %.500s", w.Code, w.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	for b.Loop() {
		if w := post(); w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the process's CPU time (user and system, every thread, the
// collector's included): on a shared machine it is steadier than ns/op,
// which counts the time other processes held the CPU.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkProductDetailHandler(b *testing.B) {
	benchHandler(b, docDetailPlaza, map[string]any{"id": mustProductIDs(b, 1)[0]}, "")
}

func BenchmarkFiftyProductsHandler(b *testing.B) {
	benchHandler(b, docListPlaza, map[string]any{"ids": mustProductIDs(b, 50)}, "")
}

// BenchmarkTypenameHandler is the fixed cost of a request.
func BenchmarkTypenameHandler(b *testing.B) {
	benchHandler(b, docTypename, nil, "")
}

func BenchmarkFiftyOrdersHandler(b *testing.B) {
	benchHandler(b, docOrders, nil, "demo-1")
}

// BenchmarkListHandler shows how cost and allocations grow per item. It
// stops at 100: nodes(ids) takes at most 100 IDs per call (BAD_USER_INPUT
// beyond), and with a store each ID costs about 10 complexity points of the
// 5,000 allowed, so a list of 1,000 cannot be asked for in one query.
func BenchmarkListHandler(b *testing.B) {
	for _, n := range []int{10, 50, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			benchHandler(b, docListPlaza, map[string]any{"ids": mustProductIDs(b, n)}, "")
		})
	}
}
