package catalog_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/supply"
)

// cpuTime is the process's user and system CPU time so far: on a shared,
// loaded machine CPU time per item is what one core would take, whatever
// the neighbours do.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBatches are pushes of 1,000 products each over 40 providers and
// 300 cities, as the demo and generated providers publish them.
func benchBatches(n int) [][]byte {
	words := []string{"milk", "bread", "cheddar", "rice", "tea", "apple", "tofu", "lamb", "noodles", "coffee", "yoghurt", "eggs"}
	out := make([][]byte, n)
	for b := range out {
		var batch connectors.CatalogBatch
		for i := range connectors.MaxCatalogBatch {
			k := b*connectors.MaxCatalogBatch + i
			name := words[k%len(words)] + " " + words[(k/7)%len(words)] + " " + strconv.Itoa(k)
			batch.Upserts = append(batch.Upserts, connectors.CatalogItem{Kind: connectors.CatalogProduct, ID: fmt.Sprintf("p-%d", k),
				Name: name, Description: "A " + name + " from the farm.", Category: "dairy", Tags: []string{words[k%5], words[k%11]},
				Cities: []string{fmt.Sprintf("City %d", k%300)}, Price: &connectors.Money{Amount: int64(100 + k%5000), Currency: "CNY"},
				Available: true, Rating: float64(35+k%16) / 10, Version: 1})
		}
		body, _ := jsonMarshal(batch)
		out[b] = body
	}
	return out
}

// BenchmarkPushThroughContract pushes batches of 1,000 items through the
// whole contract: a signed POST /providers/{id}/catalog over loopback HTTP,
// signature and replay check, strict JSON decoding, the quota checks and
// the embedded (Bleve) index. items/s is wall time; items/cpu-s is items
// per second of process CPU (server and client side together), the
// "per core" figure (target: 10,000).
func BenchmarkPushThroughContract(b *testing.B) {
	const provider, secret = "bench", "bench-secret"
	ix, err := supply.NewMemory()
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	in := catalog.New(ix, func(string) (directory.Limits, bool) {
		return directory.Limits{MaxItems: 10_000_000, PushesPerMinute: 1_000_000}, true
	})
	verifier := httpprovider.NewRequestVerifier(httpprovider.NewMemoryReplayCache(httpprovider.DefaultReplayWindow, nil))
	mux := http.NewServeMux()
	mux.Handle(catalog.Pattern, catalog.NewHandler(in, func(string) []string { return []string{secret} }, verifier, nil))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	batches := benchBatches(max(b.N, 1))
	path := "/providers/" + provider + "/catalog"
	b.ResetTimer()
	cpu0, wall0 := cpuTime(b), time.Now()
	for i := range b.N {
		body := batches[i]
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
		var n [16]byte
		rand.Read(n[:])
		ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), hex.EncodeToString(n[:])
		req.Header.Set(httpprovider.HeaderTimestamp, ts)
		req.Header.Set(httpprovider.HeaderNonce, nonce)
		req.Header.Set(httpprovider.HeaderSignature, httpprovider.SignV2(secret, ts, nonce, http.MethodPost, path, "", body))
		resp, err := srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(data, []byte(`"indexed":1000,`)) {
			b.Fatalf("push %d: %d %.300s", i, resp.StatusCode, data)
		}
	}
	b.StopTimer()
	cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
	items := float64(b.N * connectors.MaxCatalogBatch)
	b.ReportMetric(items/wall.Seconds(), "items/s")
	b.ReportMetric(items/cpu.Seconds(), "items/cpu-s")
}

// BenchmarkPublishInProcess is the same pushes through Ingest.Publish, as
// the embedded demo providers send them: the index's share of the cost.
func BenchmarkPublishInProcess(b *testing.B) {
	ix, err := supply.NewMemory()
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	in := catalog.New(ix, func(string) (directory.Limits, bool) {
		return directory.Limits{MaxItems: 10_000_000, PushesPerMinute: 1_000_000}, true
	})
	raw := benchBatches(max(b.N, 1))
	batches := make([]connectors.CatalogBatch, len(raw))
	for i, body := range raw {
		if err := httpprovider.DecodeStrict(body, &batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	cpu0, wall0 := cpuTime(b), time.Now()
	for i := range b.N {
		ack, err := in.Publish(ctx, "bench", batches[i])
		if err != nil || ack.Indexed != connectors.MaxCatalogBatch {
			b.Fatalf("push %d: %+v %v", i, ack.Rejected, err)
		}
	}
	b.StopTimer()
	cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
	items := float64(b.N * connectors.MaxCatalogBatch)
	b.ReportMetric(items/wall.Seconds(), "items/s")
	b.ReportMetric(items/cpu.Seconds(), "items/cpu-s")
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
