package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
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
	return scalar(t, url, `SELECT version FROM directory_version`)
}

// scalar is the one number query returns from the database at url.
func scalar(t *testing.T, url, query string, args ...any) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v int64
	if err := c.QueryRow(ctx, query, args...).Scan(&v); err != nil {
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
	a := startPlazaHooks(t, env, hooks{wired: func(x *app) { storeA = x.registrar }})
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
		// Its items reach the shared index by the pull instance A makes when
		// it becomes ACTIVE; B completes them (delivery slots) from it.
		eventually(t, "stores through instance B call dir-grocer", func() bool {
			before := calls.Load()
			body := queryStores(t, b.base)
			return calls.Load() > before && !strings.Contains(body, `"errors"`)
		})
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

// rotatingProvider is a demo grocery provider over the HTTP contract that
// verifies with one secret at a time, as a provider does once it has
// switched to a rotated secret, and counts the calls it accepted.
type rotatingProvider struct {
	url      string
	handler  atomic.Pointer[http.Handler]
	accepted atomic.Int64
}

func newRotatingProvider(t *testing.T, id, secret string) *rotatingProvider {
	t.Helper()
	conn, err := demo.New(connectors.Descriptor{ID: id, Vertical: connectors.VerticalGrocery})
	if err != nil {
		t.Fatal(err)
	}
	p := &rotatingProvider{}
	p.use(conn, secret)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		(*p.handler.Load()).ServeHTTP(rec, r)
		if rec.status < 300 {
			p.accepted.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

func (p *rotatingProvider) use(conn connectors.Connector, secret string) {
	h := httpprovider.NewHandler(conn, secret)
	p.handler.Store(&h)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// signedStats asks an instance for a provider's stats, signed with secret
// as the provider would sign it, and returns the status.
func signedStats(t *testing.T, base, provider, secret string) int {
	t.Helper()
	path := "/providers/" + provider + "/stats"
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), rand.Text()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(httpprovider.HeaderTimestamp, ts)
	req.Header.Set(httpprovider.HeaderNonce, nonce)
	req.Header.Set(httpprovider.HeaderSignature, httpprovider.SignV2(secret, ts, nonce, http.MethodGet, path, "", nil))
	resp, err := fresh.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRotatedSecretReachesEveryInstance: a secret rotated through one
// instance signs the calls of both instances (the connector is rebuilt
// though nothing else of the provider changed), and during the overlap
// the provider's own requests to either instance verify with the old and
// the new secret alike.
func TestRotatedSecretReachesEveryInstance(t *testing.T) {
	url := pgtest.DatabaseURL(t)
	env := map[string]string{"PLAZA_DATABASE_URL": url, "PLAZA_DIRECTORY_KEY": directoryKey, "PLAZA_ADMIN_ADDR": "off"}
	const oldSecret, newSecret = "the-first-signing-secret-0123456789", "the-rotated-signing-secret-9876543210"
	prov := newRotatingProvider(t, "rot-grocer", oldSecret)

	var storeA directory.Store
	a := startPlazaHooks(t, env, hooks{wired: func(x *app) { storeA = x.registrar }})
	b := startPlaza(t, env, nil)
	register(t, storeA, "rot-grocer", prov.url, oldSecret)
	instances := []*plaza{a, b}
	for _, p := range instances {
		eventually(t, p.base+" routes to rot-grocer", func() bool { return readyzOf(t, p.base).Providers == 1 })
		if body := queryStores(t, p.base); strings.Contains(body, `"errors"`) {
			t.Fatalf("%s before the rotation: %s", p.base, body)
		}
	}

	conn, err := demo.New(connectors.Descriptor{ID: "rot-grocer", Vertical: connectors.VerticalGrocery})
	if err != nil {
		t.Fatal(err)
	}
	if err := storeA.RotateSecret(context.Background(), "rot-grocer", newSecret, time.Hour, "ops-1", "scheduled rotation"); err != nil {
		t.Fatal(err)
	}
	// The provider switches to the new secret: from now on a call signed
	// with the old one is refused (401), so an answer without errors proves
	// the instance signs with the new one.
	prov.use(conn, newSecret)

	t.Run("calls from both instances are signed with the new secret", func(t *testing.T) {
		for _, p := range instances {
			eventually(t, p.base+" signs with the rotated secret", func() bool {
				before := prov.accepted.Load()
				body := queryStores(t, p.base)
				return !strings.Contains(body, `"errors"`) && prov.accepted.Load() > before
			})
		}
	})

	t.Run("the provider's requests verify with either secret during the overlap", func(t *testing.T) {
		for _, p := range instances {
			for _, tc := range []struct {
				secret string
				want   int
			}{{oldSecret, http.StatusOK}, {newSecret, http.StatusOK}, {"a-secret-nobody-was-ever-given-0000", http.StatusUnauthorized}} {
				if got := signedStats(t, p.base, "rot-grocer", tc.secret); got != tc.want {
					t.Errorf("%s: stats signed with %.12s…: status %d, want %d", p.base, tc.secret, got, tc.want)
				}
			}
		}
	})
}

// TestGeneratedProvidersCallableThroughOneDemoProcess: providers from
// `plaza providers generate --endpoint grocery=URL --secret S` all point at
// one multi-provider demo handler on loopback (what `demo-provider
// --providers any` serves), and a gateway serving the directory calls each
// of them end to end: every generated grocer is asked under its own id and
// answers with its own data.
func TestGeneratedProvidersCallableThroughOneDemoProcess(t *testing.T) {
	const secret = "generated-providers-secret-0123456789"
	var mu sync.Mutex
	calls := map[string]int{}
	multi := httpprovider.NewMultiHandler(func(_ context.Context, id string) (connectors.Connector, error) {
		return demo.New(connectors.Descriptor{ID: id, Name: id, Vertical: connectors.VerticalGrocery, Cities: demo.DefaultCities()})
	}, secret)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls[r.Header.Get(httpprovider.HeaderProvider)]++
		mu.Unlock()
		multi.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	url := migratedDirectory(t)
	env := map[string]string{"PLAZA_DATABASE_URL": url, "PLAZA_DIRECTORY_KEY": directoryKey, "PLAZA_ADMIN_ADDR": "off"}
	const count, seed = 40, 8
	if e := plazaProcess(t, env, "providers", "generate", "--count", strconv.Itoa(count), "--seed", strconv.Itoa(seed),
		"--endpoint", "grocery="+srv.URL, "--secret", secret); e.code != 0 {
		t.Fatalf("generate: exit %d\n%s", e.code, e.stderr)
	}
	// The store names each generated grocer holds, from its own demo data.
	own := map[string]map[string]bool{}
	for i := range count {
		p := directory.Generated(seed, i, directory.GenerateOptions{})
		if p.Vertical != connectors.VerticalGrocery {
			continue
		}
		c, err := demo.New(connectors.Descriptor{ID: p.ID, Name: p.ID, Vertical: connectors.VerticalGrocery, Cities: demo.DefaultCities()})
		if err != nil {
			t.Fatal(err)
		}
		page, err := c.(connectors.Grocery).SearchStores(context.Background(), connectors.Query{First: 1000})
		if err != nil {
			t.Fatal(err)
		}
		own[p.ID] = map[string]bool{}
		for _, s := range page.Items {
			own[p.ID][s.Name] = true
		}
	}
	if len(own) < 2 {
		t.Fatalf("seed %d generated %d grocers; the test needs several", seed, len(own))
	}

	g := startPlaza(t, env, nil)
	resp, err := fresh.Post(g.base+"/query", "application/json",
		strings.NewReader(`{"query":"{ stores(first: 100) { totalCount edges { node { name provider { key } } } } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Stores struct {
				Edges []struct {
					Node struct {
						Name     string
						Provider struct{ Key string }
					}
				}
			}
		}
		Errors []json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("stores: %v, errors %s", err, out.Errors)
	}
	answered := map[string]int{}
	for _, e := range out.Data.Stores.Edges {
		key := e.Node.Provider.Key
		names, ok := own[key]
		if !ok {
			t.Fatalf("a store %q from %q, which is no generated grocer", e.Node.Name, key)
		}
		if !names[e.Node.Name] {
			t.Fatalf("%s answered a store %q that is not in its own data", key, e.Node.Name)
		}
		answered[key]++
	}
	mu.Lock()
	defer mu.Unlock()
	for id := range own {
		if calls[id] == 0 {
			t.Errorf("generated grocer %s was never called at the demo endpoint (calls %v)", id, calls)
		}
	}
	if len(answered) < 2 {
		t.Fatalf("stores came from %d generated grocers (%v), want several", len(answered), answered)
	}
	if calls[""] != 0 {
		t.Fatalf("%d requests named no provider", calls[""])
	}
	t.Logf("%d generated grocers behind one endpoint; stores per grocer on the first page: %v", len(own), answered)
}
