package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/directory/pgtest"
)

// propagation is how long a directory change may take to reach an
// instance's routing in these tests: generous for a loaded machine (the
// 1 s p99 is a benchmark figure).
const propagation = 15 * time.Second

// countingProvider is a demo grocery provider over the HTTP contract that
// counts the calls it gets.
func countingProvider(t *testing.T, id, secret string) (url string, calls *atomic.Int64) {
	t.Helper()
	conn, err := demo.New(connectors.Descriptor{ID: id, Vertical: connectors.VerticalGrocery})
	if err != nil {
		t.Fatal(err)
	}
	calls = &atomic.Int64{}
	h := httpprovider.NewHandler(conn, secret)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, calls
}

type directoryReadyz struct {
	Status    string `json:"status"`
	Providers int    `json:"providers"`
	Directory struct {
		State   string `json:"state"`
		Version int64  `json:"version"`
	} `json:"directory"`
}

func readyzOf(t *testing.T, base string) directoryReadyz {
	t.Helper()
	resp, err := fresh.Get(base + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	defer resp.Body.Close()
	var r directoryReadyz
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /readyz: %d, %v", resp.StatusCode, err)
	}
	return r
}

// queryStores asks an instance for stores, which fans out to every callable
// grocery provider.
func queryStores(t *testing.T, base string) string {
	t.Helper()
	resp, err := fresh.Post(base+"/query", "application/json", strings.NewReader(`{"query":"{ stores(first: 5) { edges { node { id name deliverySlots { id } } } } }"}`))
	if err != nil {
		t.Fatalf("POST /query: %v", err)
	}
	defer resp.Body.Close()
	var body json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("POST /query: %d, %v", resp.StatusCode, err)
	}
	return string(body)
}

// eventually polls cond every 100 ms until it holds or propagation ends.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(propagation)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, propagation)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func register(t *testing.T, store directory.Store, id, endpoint, secret string) {
	t.Helper()
	ctx := context.Background()
	_, err := store.Register(ctx, directory.Registration{ID: id, Vertical: connectors.VerticalGrocery, Name: "Grocer " + id,
		Cities: []string{"Hangzhou"}, Endpoint: endpoint, ContactEmail: "ops@" + id + ".example", Secret: secret}, "test")
	if err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
	for _, to := range []directory.Lifecycle{directory.Certified, directory.Active} {
		if _, err := store.Transition(ctx, id, to, "test", "certified by the test"); err != nil {
			t.Fatalf("%s -> %v: %v", id, to, err)
		}
	}
}

func tableVersion(t *testing.T, url string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v int64
	if err := c.QueryRow(ctx, `SELECT version FROM directory_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestServeFromTheDirectory runs two gateway instances on one database:
// the first migrates it at start-up (PLAZA_MIGRATE=auto), a provider
// registered through one is callable through the other, a suspension on one
// stops calls on both, and an instance restarted after missing a change
// serves the table's version.
func TestServeFromTheDirectory(t *testing.T) {
	url := pgtest.DatabaseURL(t)
	env := map[string]string{"PLAZA_DATABASE_URL": url, "PLAZA_DIRECTORY_KEY": directoryKey, "PLAZA_ADMIN_ADDR": "off"}
	const secret = "a-signing-secret-of-32-characters!"
	endpoint, calls := countingProvider(t, "dir-grocer", secret)

	var storeA directory.Store
	a := startPlazaHooks(t, env, hooks{wired: func(x *app) { storeA = x.directory }})
	b := startPlaza(t, env, nil)
	if storeA == nil {
		t.Fatal("the wiring root exposes no directory store with PLAZA_DATABASE_URL set")
	}
	for _, p := range []*plaza{a, b} {
		if r := readyzOf(t, p.base); r.Status != "ready" || r.Providers != 0 || r.Directory.State != "ok" {
			t.Fatalf("/readyz of an empty directory = %+v, want ready with no providers and the directory ok", r)
		}
	}

	t.Run("a provider registered through one instance is callable through the other", func(t *testing.T) {
		register(t, storeA, "dir-grocer", endpoint, secret)
		eventually(t, "instance B routes to dir-grocer", func() bool { return readyzOf(t, b.base).Providers == 1 })
		before := calls.Load()
		body := queryStores(t, b.base)
		if calls.Load() == before || strings.Contains(body, `"errors"`) {
			t.Fatalf("stores through instance B made %d calls to the provider; body %s", calls.Load()-before, body)
		}
	})

	t.Run("a suspension on one instance stops calls on both", func(t *testing.T) {
		if _, err := storeA.Transition(context.Background(), "dir-grocer", directory.Suspended, "test", "suspended by the test"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []*plaza{a, b} {
			eventually(t, "the suspension reaches "+p.base, func() bool { return readyzOf(t, p.base).Providers == 0 })
			before := calls.Load()
			queryStores(t, p.base)
			if n := calls.Load() - before; n != 0 {
				t.Fatalf("%s called the suspended provider %d times", p.base, n)
			}
		}
	})

	t.Run("a restarted instance loses no change and serves the table's version", func(t *testing.T) {
		b.stop()
		select {
		case <-b.done:
		case <-time.After(propagation):
			t.Fatal("instance B did not stop")
		}
		register(t, storeA, "dir-grocer-2", endpoint, secret) // while B is down
		b2 := startPlaza(t, env, nil)
		r := readyzOf(t, b2.base)
		if want := tableVersion(t, url); r.Directory.Version != want || r.Providers != 1 {
			t.Fatalf("restarted /readyz = %+v, want version %d (the table's) and 1 callable provider", r, want)
		}
	})
}
