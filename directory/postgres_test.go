package directory_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
)

func tableVersion(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var v int64
	if err := pool.QueryRow(context.Background(), `SELECT version FROM directory_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTwoInstancesOnOneDatabase(t *testing.T) {
	ctx := context.Background()
	pool := mustMigratedPool(t)
	a := mustOpenPostgres(t, pool, nil)
	b := mustOpenPostgres(t, mustPool(t, pool.Config()), nil)

	t.Run("a registration on one is visible on the other", func(t *testing.T) {
		mustActivate(t, a, registration("twin", connectors.VerticalGrocery, "Hangzhou"))
		eventually(t, "b routes twin in Hangzhou", func() bool {
			p := b.Snapshot().Serving(connectors.VerticalGrocery, "Hangzhou", "", 10)
			return len(p.Entries) == 1 && p.Entries[0].ID() == "twin"
		})
	})
	t.Run("a suspension on one removes it from the other's coverage", func(t *testing.T) {
		if _, err := b.Transition(ctx, "twin", directory.Suspended, "ops-2", "complaints"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a stops routing twin", func() bool {
			return a.Snapshot().CountServing(connectors.VerticalGrocery, "Hangzhou") == 0
		})
		if e, ok := a.Snapshot().Lookup("twin"); !ok || e.Lifecycle() != directory.Suspended {
			t.Fatalf("a's entry: ok=%v lifecycle %v", ok, e.Lifecycle())
		}
	})
	t.Run("a city change on one moves it on the other", func(t *testing.T) {
		if _, err := b.Transition(ctx, "twin", directory.Active, "ops-2", "resolved"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.UpdateCities(ctx, "twin", []string{"Ningbo"}, "ops-2", ""); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a routes twin in Ningbo only", func() bool {
			s := a.Snapshot()
			return s.CountServing(connectors.VerticalGrocery, "Ningbo") == 1 && s.CountServing(connectors.VerticalGrocery, "Hangzhou") == 0
		})
	})
	t.Run("both serve the table's version", func(t *testing.T) {
		want := tableVersion(t, pool)
		eventually(t, "versions converge", func() bool { return a.State().Version == want && b.State().Version == want })
	})
}

func TestRestartLosesNoChange(t *testing.T) {
	ctx := context.Background()
	pool := mustMigratedPool(t)
	writer := mustOpenPostgres(t, pool, nil)
	early := registration("early", connectors.VerticalLegal, "Chengdu")
	early.CacheTTL = map[string]time.Duration{"Lawyer": 90 * time.Second}
	mustActivate(t, writer, early)
	limits := directory.Limits{Timeout: 750 * time.Millisecond, MaxConcurrent: 16, MaxBatch: 25, MaxItems: 100, PushesPerMinute: 6}
	if _, err := writer.UpdateLimits(ctx, "early", limits, "ops-1", ""); err != nil {
		t.Fatal(err)
	}

	follower, err := directory.OpenPostgres(ctx, mustPool(t, pool.Config()), mustSealer(t), directory.Policy{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "follower sees early", func() bool { _, ok := follower.Snapshot().Lookup("early"); return ok })
	stoppedAt := follower.State().Version
	follower.Close()

	// While the follower is down: a registration, a suspension, a city change.
	mustActivate(t, writer, registration("while-down", connectors.VerticalLegal, "Chengdu"))
	if _, err := writer.Transition(ctx, "early", directory.Suspended, "ops-1", "audit"); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.UpdateCities(ctx, "while-down", []string{"Chengdu", "Mianyang"}, "ops-1", ""); err != nil {
		t.Fatal(err)
	}

	restarted := mustOpenPostgres(t, mustPool(t, pool.Config()), nil)
	st := restarted.State()
	if want := tableVersion(t, pool); !st.Ready || st.Version != want || st.Version <= stoppedAt {
		t.Fatalf("after restart: %+v, table version %d, stopped at %d", st, want, stoppedAt)
	}
	snap := restarted.Snapshot()
	if e, ok := snap.Lookup("early"); !ok || e.Limits() != limits || e.Lifecycle() != directory.Suspended {
		t.Fatalf("early after restart: ok=%v limits %+v lifecycle %v", ok, e.Limits(), e.Lifecycle())
	} else if ttl, ok := e.CacheTTL("Lawyer"); !ok || ttl != 90*time.Second {
		t.Fatalf("early's Lawyer TTL after restart: %v %v", ttl, ok)
	}
	page := snap.Serving(connectors.VerticalLegal, "Mianyang", "", 10)
	if len(page.Entries) != 1 || page.Entries[0].ID() != "while-down" || snap.CountServing(connectors.VerticalLegal, "Chengdu") != 1 {
		t.Fatalf("restarted coverage: Mianyang %d, Chengdu %d", len(page.Entries), snap.CountServing(connectors.VerticalLegal, "Chengdu"))
	}
}

// proxy is a TCP forwarder to PostgreSQL that the test can cut, to play a
// database outage without stopping the shared server.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) restore() { p.mu.Lock(); p.down = false; p.mu.Unlock() }

func TestOutageServesTheSnapshotAndRecovers(t *testing.T) {
	ctx := context.Background()
	pool := mustMigratedPool(t)
	writer := mustOpenPostgres(t, pool, nil)
	mustActivate(t, writer, registration("steady", connectors.VerticalMedical, "Shanghai"))

	cfg := pool.Config().Copy()
	px := startProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
	host, port, _ := net.SplitHostPort(px.ln.Addr().String())
	cfg.ConnConfig.Host = host
	p, _ := strconv.Atoi(port)
	cfg.ConnConfig.Port = uint16(p)
	cfg.ConnConfig.ConnectTimeout = time.Second
	behind := mustOpenPostgres(t, mustPool(t, cfg), nil)

	px.cut()
	eventually(t, "the instance behind the proxy reports degraded", func() bool { return behind.State().Degraded })
	st := behind.State()
	if !st.Ready || st.Err == "" {
		t.Fatalf("degraded state: %+v (ready, with the reason)", st)
	}
	if p := behind.Snapshot().Serving(connectors.VerticalMedical, "Shanghai", "", 5); len(p.Entries) != 1 || p.Entries[0].ID() != "steady" {
		t.Fatal("the snapshot stopped serving during the outage")
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := behind.Register(cctx, registration("during-outage", connectors.VerticalMedical, "Shanghai"), "ops-1")
	if !errors.Is(err, directory.ErrUnavailable) || directory.CodeOf(err) != directory.Unavailable {
		t.Fatalf("mutation during the outage: %v, want UNAVAILABLE", err)
	}
	if !strings.Contains(err.Error(), "unavailable") {
		t.Fatalf("message: %v", err)
	}

	// Changes elsewhere while it is cut off; it catches up on reconnect.
	if _, err := writer.Transition(ctx, "steady", directory.Suspended, "ops-1", "outage drill"); err != nil {
		t.Fatal(err)
	}
	px.restore()
	eventually(t, "recovered and caught up", func() bool {
		s := behind.State()
		return !s.Degraded && s.Version == tableVersion(t, pool) && behind.Snapshot().CountServing(connectors.VerticalMedical, "Shanghai") == 0
	})
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()

	t.Run("instances starting together migrate once", func(t *testing.T) {
		cfg := mustDatabase(t)
		var wg sync.WaitGroup
		applied := make([]int, 4)
		errs := make([]error, 4)
		for i := range applied {
			wg.Add(1)
			go func() {
				defer wg.Done()
				applied[i], errs[i] = directory.Migrate(ctx, mustPool(t, cfg))
			}()
		}
		wg.Wait()
		total := 0
		for i := range applied {
			if errs[i] != nil {
				t.Fatalf("instance %d: %v", i, errs[i])
			}
			total += applied[i]
		}
		st, err := directory.Status(ctx, mustPool(t, cfg))
		if err != nil {
			t.Fatal(err)
		}
		if total != int(st.Latest) || !st.UpToDate() {
			t.Fatalf("applied %d migrations in all (want %d, once each), status %+v", total, st.Latest, st)
		}
	})

	t.Run("plaza migrate reports by exit code", func(t *testing.T) {
		url := mustDatabaseURL(t)
		cases := []struct {
			name     string
			url      string
			check    bool
			code     int
			inStderr string
			inStdout string
		}{
			{"without a database URL", "", false, 2, "PLAZA_DATABASE_URL is not set", ""},
			{"check on an empty database", url, true, 1, "schema at version 0", ""},
			{"migrate", url, false, 0, "", "schema current at version 7"},
			{"check once current", url, true, 0, "", "schema current"},
			{"an unreachable server", "postgres://postgres@127.0.0.1:1/x?connect_timeout=2", false, 1, "plaza migrate:", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var out, errOut bytes.Buffer
				code := directory.MigrateCommand(ctx, c.url, c.check, &out, &errOut)
				if code != c.code || !strings.Contains(errOut.String(), c.inStderr) || !strings.Contains(out.String(), c.inStdout) {
					t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, c.code, out.String(), errOut.String())
				}
			})
		}
	})
}

func TestGenerate(t *testing.T) {
	ctx := context.Background()
	pool := mustMigratedPool(t)
	follower := mustOpenPostgres(t, pool, nil)
	opts := directory.GenerateOptions{Endpoints: map[connectors.Vertical][]string{
		connectors.VerticalGrocery: {"http://127.0.0.1:9101", "http://127.0.0.1:9102"}},
		Secret: "generated-providers-shared-secret", Sealer: mustSealer(t)}

	if _, err := directory.Generate(ctx, pool, 10, 7, true, opts); !errors.Is(err, directory.ErrProduction) {
		t.Fatalf("in production: %v", err)
	}
	res, err := directory.Generate(ctx, pool, 3000, 7, false, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 3000 || res.Version != 1 {
		t.Fatalf("first run: %+v", res)
	}
	again, err := directory.Generate(ctx, pool, 3000, 7, false, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Inserted != 0 || again.Version != res.Version {
		t.Fatalf("rerun is not idempotent: %+v", again)
	}
	eventually(t, "the follower reloads the bulk change", func() bool { return follower.Snapshot().Len() == 3000 })

	snap := follower.Snapshot()
	want := directory.Generated(7, 1234, opts)
	e, ok := snap.Lookup(want.ID)
	if !ok || e.Name() != want.Name || strings.Join(e.Cities(), ",") != strings.Join(want.Cities, ",") ||
		e.Lifecycle() != directory.Active || e.Vertical() != want.Vertical || e.Endpoint() != want.Endpoint {
		t.Fatalf("generated provider %s: %+v, want %+v", want.ID, e.Descriptor(), want)
	}
	perVertical, cities := map[connectors.Vertical]int{}, map[string]bool{}
	for i := 0; i < snap.Len(); i++ {
		e := snap.At(i)
		perVertical[e.Vertical()]++
		n := len(e.Cities())
		if n < 1 || n > 3 {
			t.Fatalf("%s serves %d cities", e.ID(), n)
		}
		for _, c := range e.Cities() {
			cities[c] = true
		}
		if e.Vertical() == connectors.VerticalGrocery && !strings.HasPrefix(e.Endpoint(), "http://127.0.0.1:910") {
			t.Fatalf("grocery endpoint %q", e.Endpoint())
		}
		if e.Vertical() != connectors.VerticalGrocery && e.Endpoint() != "" {
			t.Fatalf("%s: a vertical without --endpoint is served in process, got %q", e.ID(), e.Endpoint())
		}
	}
	for _, v := range connectors.Verticals {
		if perVertical[v] < 500 {
			t.Fatalf("verticals not mixed: %v", perVertical)
		}
	}
	if len(cities) < 150 {
		t.Fatalf("only %d distinct cities", len(cities))
	}
	if snap.CountServing(connectors.VerticalGrocery, "") != perVertical[connectors.VerticalGrocery] {
		t.Fatal("generated providers are not all routed")
	}
	assertSecrets(t, follower, want.ID, opts.Secret)

	more, err := directory.Generate(ctx, pool, 3100, 7, false, opts)
	if err != nil || more.Inserted != 100 || more.Version != res.Version+1 {
		t.Fatalf("growing the count: %+v, %v", more, err)
	}
}

func TestSecretsAreEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	pool := mustMigratedPool(t)
	s := mustOpenPostgres(t, pool, nil)
	r := registration("vault", connectors.VerticalLegal, "Beijing")
	mustRegister(t, s, r)
	var raw []byte
	if err := pool.QueryRow(ctx, `SELECT secret FROM providers WHERE id = 'vault'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 || bytes.Contains(raw, []byte(r.Secret)) {
		t.Fatalf("stored secret is empty or in the clear: %q", raw)
	}
	other, err := directory.NewSealer(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open("vault", raw); err == nil {
		t.Fatal("another key opened the secret")
	}
	if _, err := mustSealer(t).Open("another-provider", raw); err == nil {
		t.Fatal("the secret opened for another provider id (ciphertext swap)")
	}
}
