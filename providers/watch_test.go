package providers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/plaza-gateway/plaza/catalog"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/providers"
)

// syncBuffer is a log sink safe for the watcher's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// writeFile replaces path atomically (write, then rename), as deploy tools
// do, so the watcher's ticker never reads a half-written file.
func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
}

// watched is a config file with a watcher over it that records what it
// applies and logs.
type watched struct {
	path    string
	w       *providers.Watcher
	log     *syncBuffer
	mu      sync.Mutex
	applied []*providers.Set
}

func watch(tb testing.TB, content string, interval time.Duration, apply func(*providers.Set)) *watched {
	tb.Helper()
	wd := &watched{path: filepath.Join(tb.TempDir(), "plaza.yaml"), log: &syncBuffer{}}
	writeFile(tb, wd.path, content)
	sum, err := providers.Sum(wd.path)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(wd.log, nil))
	wd.w = providers.NewWatcher(wd.path, sum, interval, env(nil), log, func(l *providers.Set) {
		wd.mu.Lock()
		wd.applied = append(wd.applied, l)
		wd.mu.Unlock()
		if apply != nil {
			apply(l)
		}
	})
	return wd
}

func (wd *watched) appliedCount() int {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	return len(wd.applied)
}

const twoEmbedded = `providers:
  - id: lexassist
    vertical: legal
    embedded: demo
  - id: govdesk
    vertical: public-service
    embedded: demo
`

func TestWatcherRejectsABadFileAndKeepsTheRegistry(t *testing.T) {
	tests := []struct {
		name, content, why string
	}{
		{"a syntax error", "providers: [\n", "parse"},
		{"an unknown key", twoEmbedded + "    colour: red\n", "field colour not found"},
		{"an unknown vertical", "providers:\n  - id: a\n    vertical: pets\n    embedded: demo\n", `unknown vertical \"pets\"`},
		{"a duplicate id", twoEmbedded + "  - id: govdesk\n    vertical: public-service\n    embedded: demo\n", `duplicate provider id \"govdesk\"`},
		{"a missing secret", twoEmbedded + "  - id: newlaw\n    vertical: legal\n    url: http://127.0.0.1:1\n", "secret or secret_env is required"},
		{"a deleted file", "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is logged and not applied", func(t *testing.T) {
			wd := watch(t, twoEmbedded, time.Hour, nil)
			if tt.content == "" {
				os.Remove(wd.path)
			} else {
				writeFile(t, wd.path, tt.content)
			}
			if wd.w.Reload("test") {
				t.Fatal("Reload reported success")
			}
			if n := wd.appliedCount(); n != 0 {
				t.Fatalf("%d registries applied", n)
			}
			logged := wd.log.String()
			if !strings.Contains(logged, "level=ERROR") || !strings.Contains(logged, "registry reload failed; keeping the current providers") ||
				!strings.Contains(logged, "path="+wd.path) || !strings.Contains(logged, tt.why) {
				t.Fatalf("log %q lacks the reason %q", logged, tt.why)
			}
			// Fixing the file applies it.
			writeFile(t, wd.path, twoEmbedded)
			if !wd.w.Reload("fixed") || wd.appliedCount() != 1 {
				t.Fatalf("the fixed file was not applied; log:\n%s", wd.log.String())
			}
		})
	}
}

func TestWatcherReloadsOnSignalAndOnChange(t *testing.T) {
	wd := watch(t, twoEmbedded, 10*time.Millisecond, nil)
	ctx, cancel := context.WithCancel(context.Background())
	reload := make(chan struct{})
	done := make(chan struct{})
	go func() { wd.w.Run(ctx, reload); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor := func(t *testing.T, n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for wd.appliedCount() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d reloads, want %d; log:\n%s", wd.appliedCount(), n, wd.log.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	t.Run("an unchanged file is not reloaded by the ticker", func(t *testing.T) {
		time.Sleep(50 * time.Millisecond)
		if n := wd.appliedCount(); n != 0 {
			t.Fatalf("%d reloads of an unchanged file", n)
		}
	})
	t.Run("a signal reloads", func(t *testing.T) {
		reload <- struct{}{}
		waitFor(t, 1)
	})
	t.Run("a change to the file reloads with the new providers", func(t *testing.T) {
		writeFile(t, wd.path, twoEmbedded+"  - id: extra-legal\n    vertical: legal\n    embedded: demo\n")
		waitFor(t, 2)
		wd.mu.Lock()
		last := wd.applied[len(wd.applied)-1]
		wd.mu.Unlock()
		if _, ok := last.Registry.Get("extra-legal"); !ok {
			t.Fatal("extra-legal missing from the reloaded registry")
		}
	})
	t.Run("a bad change is reported once, not on every tick", func(t *testing.T) {
		writeFile(t, wd.path, "providers: [\n")
		time.Sleep(100 * time.Millisecond)
		if n := strings.Count(wd.log.String(), "registry reload failed"); n != 1 {
			t.Fatalf("%d failure lines", n)
		}
	})
}

const reloadSecret = "reload-test-secret"

// serveDemo serves a fresh demo provider of d over the HTTP contract.
func serveDemo(tb testing.TB, d connectors.Descriptor) string {
	tb.Helper()
	conn, err := demo.New(d)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(httpprovider.NewHandler(conn, reloadSecret))
	tb.Cleanup(srv.Close)
	return srv.URL
}

func configOf(urls map[string]string, ids ...string) string {
	var b strings.Builder
	b.WriteString("providers:\n")
	for _, id := range ids {
		v := "grocery"
		for _, d := range demo.DefaultDescriptors() {
			if d.ID == id {
				v = string(d.Vertical)
			}
		}
		fmt.Fprintf(&b, "  - id: %s\n    vertical: %s\n    url: %s\n    secret: %s\n    timeout: 2s\n", id, v, urls[id], reloadSecret)
	}
	return b.String()
}

const loadQuery = `query($t: String) { search(text: $t, vertical: GROCERY, first: 100) { edges { node {
  __typename ... on Product { provider { key } } ... on Store { provider { key } } ... on Provider { key } } } } }`

type searchKeys struct {
	Data struct {
		Search struct {
			Edges []struct {
				Node struct {
					Typename string `json:"__typename"`
					Key      string `json:"key"`
					Provider *struct {
						Key string `json:"key"`
					} `json:"provider"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"search"`
	} `json:"data"`
	Errors []json.RawMessage `json:"errors"`
}

// providersIn returns how many results each provider gave.
func (s searchKeys) providersIn() map[string]int {
	out := map[string]int{}
	for _, e := range s.Data.Search.Edges {
		switch {
		case e.Node.Provider != nil:
			out[e.Node.Provider.Key]++
		case e.Node.Key != "":
			out[e.Node.Key]++
		}
	}
	return out
}

// search posts loadQuery without failing the test, so load goroutines can
// use it.
func search(ctx context.Context, hc *http.Client, url, text string) (searchKeys, error) {
	body, _ := json.Marshal(map[string]any{"query": loadQuery, "variables": map[string]any{"t": text}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/query", bytes.NewReader(body))
	if err != nil {
		return searchKeys{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return searchKeys{}, err
	}
	defer resp.Body.Close()
	var out searchKeys
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("status %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || len(out.Errors) > 0 {
		return out, fmt.Errorf("status %d, errors %s", resp.StatusCode, out.Errors)
	}
	return out, nil
}

func TestReloadUnderLoad(t *testing.T) {
	urls := map[string]string{}
	for _, d := range demo.DefaultDescriptors() {
		if d.Vertical == connectors.VerticalGrocery {
			urls[d.ID] = serveDemo(t, d)
		}
	}
	// A provider that is not in the first file: generated data.
	urls["newgrocer"] = serveDemo(t, connectors.Descriptor{ID: "newgrocer", Name: "NewGrocer", Vertical: connectors.VerticalGrocery})

	first, err := providers.Parse([]byte(configOf(urls, "freshcart", "greenbasket")))
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := first.Build(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	g := apitest.Start(t, apitest.Options{Connectors: loaded.Registry.All()})
	// Apply as server.go does: swap, and release the old clients' idle
	// connections once requests in flight are done with them.
	var current atomic.Pointer[providers.Set]
	current.Store(loaded)
	t.Cleanup(func() { current.Load().Close() })
	wd := watch(t, configOf(urls, "freshcart", "greenbasket"), time.Hour, func(l *providers.Set) {
		old := current.Swap(l)
		// As the gateway's syncer does for providers newly served: their
		// catalogues are pulled into the index before they are routed.
		if err := demo.PublishNow(context.Background(), providers.Added(old, l), catalog.New(g.Index, nil)); err != nil {
			t.Errorf("publishing the added providers: %v", err)
		}
		g.GW.SetRegistry(l.Registry)
		time.AfterFunc(500*time.Millisecond, old.Close)
	})

	hc := &http.Client{Timeout: 10 * time.Second}
	ctx, stop := context.WithTimeout(context.Background(), 2*time.Second)
	defer stop()
	var requests, failures atomic.Int64
	var firstFailure atomic.Value
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				_, err := search(ctx, hc, g.URL, "milk")
				if ctx.Err() != nil {
					return // the loop's own end, not a failure
				}
				requests.Add(1)
				if err != nil {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}

	time.Sleep(400 * time.Millisecond)
	t.Run("an added provider appears in search right after the reload", func(t *testing.T) {
		writeFile(t, wd.path, configOf(urls, "freshcart", "greenbasket", "newgrocer"))
		if !wd.w.Reload("test") {
			t.Fatalf("reload failed: %s", wd.log.String())
		}
		got, err := search(context.Background(), hc, g.URL, "milk")
		if err != nil {
			t.Fatal(err)
		}
		if in := got.providersIn(); in["newgrocer"] == 0 || in["freshcart"] == 0 || in["greenbasket"] == 0 {
			t.Fatalf("results per provider right after adding newgrocer: %v", in)
		}
	})
	time.Sleep(400 * time.Millisecond)
	t.Run("a removed provider is gone from search right after the reload", func(t *testing.T) {
		writeFile(t, wd.path, configOf(urls, "freshcart", "newgrocer"))
		if !wd.w.Reload("test") {
			t.Fatalf("reload failed: %s", wd.log.String())
		}
		got, err := search(context.Background(), hc, g.URL, "milk")
		if err != nil {
			t.Fatal(err)
		}
		if in := got.providersIn(); in["greenbasket"] != 0 || in["newgrocer"] == 0 {
			t.Fatalf("results per provider right after removing greenbasket: %v", in)
		}
	})
	wg.Wait()
	t.Run("no request failed while the registry changed", func(t *testing.T) {
		t.Logf("%d requests during the load loop", requests.Load())
		if requests.Load() < 20 {
			t.Fatalf("only %d requests: the load loop did not run", requests.Load())
		}
		if n := failures.Load(); n > 0 {
			t.Fatalf("%d of %d requests failed, first: %v", n, requests.Load(), firstFailure.Load())
		}
	})
}
