package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// lineWriter hands the address line run prints to the test.
type lineWriter struct {
	once sync.Once
	addr chan string
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

func (w *lineWriter) Write(p []byte) (int, error) {
	if m := listening.FindSubmatch(p); m != nil {
		w.once.Do(func() { w.addr <- string(m[1]) })
	}
	return len(p), nil
}

// mustRun starts run with args and returns its base URL and a function that
// stops it and returns run's error.
func mustRun(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &lineWriter{addr: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), w) }()
	select {
	case url := <-w.addr:
		stop := sync.OnceValue(func() error { cancel(); return <-done })
		t.Cleanup(func() { stop() })
		return url, stop
	case err := <-done:
		cancel()
		t.Fatalf("run ended before listening: %v", err)
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("run did not start listening")
	}
	return "", nil
}

func TestRunServesTheDemoProvider(t *testing.T) {
	url, stop := mustRun(t, "--vertical", "public-service", "--provider", "brand-new-office", "--secret", "s3cret")
	c, err := httpprovider.New(httpprovider.Config{ID: "brand-new-office", Vertical: connectors.VerticalPublicService, BaseURL: url, Secret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	page, err := c.SearchServices(ctx, connectors.Query{First: 3})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("a new provider id should get generated data: %+v %v", page, err)
	}
	res, err := c.Services(ctx, []string{page.Items[0].ID})
	if err != nil || res[0].Err != nil || res[0].Value.ID != page.Items[0].ID {
		t.Fatalf("got %+v %v", res, err)
	}

	t.Run("counts calls per operation at /v1/stats", func(t *testing.T) {
		resp, err := http.Get(url + httpprovider.PathStats)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rep httpprovider.StatsReport
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			t.Fatal(err)
		}
		if rep.Calls["POST "+httpprovider.PathPublicSearchServices] != 1 || rep.Calls["POST "+httpprovider.PathPublicServices] != 1 {
			t.Fatalf("got %+v", rep)
		}
	})
	t.Run("refuses unsigned requests", func(t *testing.T) {
		resp, err := http.Get(url + httpprovider.PathHealth)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("shuts down cleanly when its context ends", func(t *testing.T) {
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRunInjectsFailures(t *testing.T) {
	url, _ := mustRun(t, "--vertical", "GROCERY", "--provider", "freshcart", "--secret", "s", "--fail-rate", "1", "--fail-mode", "garbage", "--latency", "30ms")
	c, err := httpprovider.New(httpprovider.Config{ID: "freshcart", Vertical: connectors.VerticalGrocery, BaseURL: url, Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Products(context.Background(), []string{"p-000001"})
	if connectors.KindOf(err) != connectors.KindProvider {
		t.Fatalf("got %v, want a provider error", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("answered in %v despite 30ms latency", d)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"an unknown vertical", []string{"--vertical", "food", "--provider", "x", "--secret", "s"}},
		{"a missing secret", []string{"--vertical", "legal", "--provider", "x"}},
		{"a demo provider of another vertical", []string{"--vertical", "legal", "--provider", "freshcart", "--secret", "s"}},
		{"an invalid provider id", []string{"--vertical", "legal", "--provider", "Bad Id", "--secret", "s"}},
		{"a fail rate above 1", []string{"--vertical", "legal", "--provider", "x", "--secret", "s", "--fail-rate", "2"}},
		{"an unknown fail mode", []string{"--vertical", "legal", "--provider", "x", "--secret", "s", "--fail-mode", "explode"}},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			if err := run(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, tt.args...), &lineWriter{addr: make(chan string, 1)}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
