package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
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

func TestRunSignatureSchemes(t *testing.T) {
	post := func(url string, sign func(ts, nonce, path string, body []byte) string) (int, string) {
		t.Helper()
		body := []byte(`{"first":1}`)
		ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), rand.Text()
		req, _ := http.NewRequest(http.MethodPost, url+httpprovider.PathLegalSearchLawyers, bytes.NewReader(body))
		req.Header.Set(httpprovider.HeaderTimestamp, ts)
		req.Header.Set(httpprovider.HeaderNonce, nonce)
		req.Header.Set(httpprovider.HeaderSignature, sign(ts, nonce, httpprovider.PathLegalSearchLawyers, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	v1 := func(ts, nonce, path string, body []byte) string {
		return httpprovider.Sign("s", ts, nonce, http.MethodPost, path, body)
	}
	v2 := func(ts, nonce, path string, body []byte) string {
		return httpprovider.SignV2("s", ts, nonce, http.MethodPost, path, "", body)
	}
	t.Run("by default v2 and, during the transition window, v1 are accepted", func(t *testing.T) {
		url, _ := mustRun(t, "--vertical", "legal", "--provider", "v1-friendly", "--secret", "s")
		for name, sign := range map[string]func(string, string, string, []byte) string{"v1": v1, "v2": v2} {
			if status, body := post(url, sign); status != http.StatusOK {
				t.Fatalf("%s: status %d %s", name, status, body)
			}
		}
	})
	t.Run("with --signature-v1-until none v1 is refused saying to sign with v2", func(t *testing.T) {
		url, _ := mustRun(t, "--vertical", "legal", "--provider", "v2-only", "--secret", "s", "--signature-v1-until", "none")
		if status, body := post(url, v1); status != http.StatusUnauthorized || !strings.Contains(body, "sign with v2") {
			t.Fatalf("v1: status %d %s, want 401 saying to sign with v2", status, body)
		}
		if status, body := post(url, v2); status != http.StatusOK {
			t.Fatalf("v2: status %d %s", status, body)
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
		{"a malformed end of the v1 window", []string{"--vertical", "legal", "--provider", "x", "--secret", "s", "--signature-v1-until", "next-march"}},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			if err := run(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, tt.args...), &lineWriter{addr: make(chan string, 1)}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// With --providers one process answers for each provider a request names,
// with that provider's own data, and not for providers outside the set.
func TestRunAnswersForManyProviders(t *testing.T) {
	const secret = "a-secret-for-many-providers-0123"
	for _, tc := range []struct {
		name, providers string
		served          []string
		refused         string
	}{
		{"any id", "any", []string{"gen-one", "gen-two", "gen-three"}, ""},
		{"a declared set", "gen-one,gen-two", []string{"gen-one", "gen-two"}, "gen-three"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := mustRun(t, "--vertical", "grocery", "--providers", tc.providers, "--secret", secret)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			seen := map[string]string{}
			for _, id := range tc.served {
				c, err := httpprovider.New(httpprovider.Config{ID: id, Vertical: connectors.VerticalGrocery, BaseURL: url, Secret: secret})
				if err != nil {
					t.Fatal(err)
				}
				got, err := c.SearchStores(ctx, connectors.Query{First: 5})
				if err != nil || len(got.Items) == 0 {
					t.Fatalf("%s: %+v, %v", id, got, err)
				}
				// The data is the provider's own: what the demo connector of
				// that id holds, and not another id's.
				local, err := demo.New(connectors.Descriptor{ID: id, Name: id, Vertical: connectors.VerticalGrocery, Cities: demo.DefaultCities()})
				if err != nil {
					t.Fatal(err)
				}
				want, _ := local.(connectors.Grocery).SearchStores(ctx, connectors.Query{First: 5})
				if got.Items[0].Name != want.Items[0].Name || got.Total != want.Total {
					t.Fatalf("%s answered %q (%d), want its own data %q (%d)", id, got.Items[0].Name, got.Total, want.Items[0].Name, want.Total)
				}
				if other, dup := seen[got.Items[0].Name+"/"+got.Items[0].ID]; dup {
					t.Fatalf("%s answered the same first store as %s", id, other)
				}
				seen[got.Items[0].Name+"/"+got.Items[0].ID] = id
			}
			if tc.refused != "" {
				c, _ := httpprovider.New(httpprovider.Config{ID: tc.refused, Vertical: connectors.VerticalGrocery, BaseURL: url, Secret: secret})
				if _, err := c.SearchStores(ctx, connectors.Query{First: 5}); connectors.KindOf(err) != connectors.KindNotFound {
					t.Fatalf("%s outside the set: %v, want NOT_FOUND", tc.refused, err)
				}
			}
		})
	}
	t.Run("--provider and --providers together are refused", func(t *testing.T) {
		err := run(context.Background(), []string{"--vertical", "grocery", "--provider", "a", "--providers", "any", "--secret", secret}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "not both") {
			t.Fatalf("run: %v", err)
		}
	})
}
