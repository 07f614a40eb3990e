package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/gid"
)

// logLines is the process's stderr: it keeps what was logged and tells the
// test the address from the "plaza listening" line.
type logLines struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
}

// listeningLine finds the address in the text (development) or JSON
// (production) log line.
var listeningLine = regexp.MustCompile(`msg="plaza listening" addr=(\S+)|"msg":"plaza listening","addr":"([^"]+)"`)

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if m := listeningLine.FindSubmatch(p); m != nil {
		select {
		case l.addr <- string(m[1]) + string(m[2]):
		default:
		}
	}
	return len(p), nil
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startSlowPlaza runs the gateway as main does, over one grocery provider
// served over HTTP whose every answer takes latency, and returns its base
// URL, the provider, the function that stops it (as SIGTERM would) and the
// channel run's result arrives on.
func startSlowPlaza(t *testing.T, latency, shutdownTimeout time.Duration) (base string, p *apitest.Provider, stop context.CancelFunc, done <-chan error, logs *logLines) {
	t.Helper()
	var desc connectors.Descriptor
	for _, d := range demo.DefaultDescriptors() {
		if d.Vertical == connectors.VerticalGrocery {
			desc = d
			break
		}
	}
	g, err := demo.NewGrocery(desc)
	if err != nil {
		t.Fatal(err)
	}
	p = apitest.ServeProvider(t, g, "shutdown-test-secret")
	p.SetFaults(httpprovider.Faults{Latency: latency})
	config := filepath.Join(t.TempDir(), "plaza.yaml")
	yaml := fmt.Sprintf("providers:\n  - id: %s\n    vertical: grocery\n    name: %s\n    url: %s\n    secret: %s\n    timeout: 10s\n",
		desc.ID, desc.Name, p.URL(), p.Secret)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PLAZA_ADMIN_ADDR": "off", "PLAZA_DRAIN_DELAY": "300ms"}
	getenv := func(k string) string { return env[k] }

	ctx, cancel := context.WithCancel(context.Background())
	logs = &logLines{addr: make(chan string, 1)}
	errc := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		errc <- run(ctx, []string{"--addr", "127.0.0.1:0", "--config", config, "--shutdown-timeout", shutdownTimeout.String()},
			getenv, io.Discard, logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(shutdownTimeout + 5*time.Second):
			t.Errorf("run did not return")
		}
	})
	select {
	case addr := <-logs.addr:
		return "http://" + addr, p, cancel, errc, logs
	case err := <-errc:
		t.Fatalf("run: %v\n%s", err, logs)
	case <-time.After(10 * time.Second):
		t.Fatalf("plaza did not start listening\n%s", logs)
	}
	return "", nil, nil, nil, nil
}

// fresh sends every request on a new connection, as a load balancer's
// health check or a new client would.
var fresh = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}

// readyz returns /readyz's status, or 0 when the listener refused the
// connection.
func readyz(t *testing.T, base string) int {
	t.Helper()
	resp, err := fresh.Get(base + "/readyz")
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

type slowResult struct {
	status int
	body   string
	err    error
	at     time.Time
}

// slowRequest starts a query that waits on the slow provider.
func slowRequest(base, product string) <-chan slowResult {
	out := make(chan slowResult, 1)
	go func() {
		body, _ := json.Marshal(map[string]any{
			"query":     `query($id: ID!) { node(id: $id) { id ... on Product { name } } }`,
			"variables": map[string]any{"id": product},
		})
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Post(base+"/query", "application/json", bytes.NewReader(body))
		if err != nil {
			out <- slowResult{err: err, at: time.Now()}
			return
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		out <- slowResult{status: resp.StatusCode, body: string(b), err: err, at: time.Now()}
	}()
	return out
}

// waitForProvider returns once the slow request reached the provider, so it
// is in flight at the gateway.
func waitForProvider(t *testing.T, p *apitest.Provider, inflight <-chan slowResult) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); p.Calls(httpprovider.PathGroceryProducts) == 0; time.Sleep(5 * time.Millisecond) {
		select {
		case r := <-inflight:
			t.Fatalf("the request ended before reaching the provider: status %d, err %v, body %s", r.status, r.err, r.body)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the provider")
		}
	}
}

func TestGracefulShutdown(t *testing.T) {
	t.Run("stops taking new requests, finishes the one in flight, then returns", func(t *testing.T) {
		const latency, bound = time.Second, 5 * time.Second
		base, p, stop, done, logs := startSlowPlaza(t, latency, bound)
		if s := readyz(t, base); s != http.StatusOK {
			t.Fatalf("/readyz is %d before shutdown", s)
		}
		product := gid.Encode(gid.Product, p.Conn.Describe().ID, "p-000001")
		inflight := slowRequest(base, product)
		waitForProvider(t, p, inflight)

		stopped := time.Now()
		stop() // as SIGTERM would
		var notReady int
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if notReady = readyz(t, base); notReady != http.StatusOK {
				break
			}
		}
		// With a drain delay the listener stays open while /readyz says 503,
		// so a load balancer sees it before connections are refused.
		if notReady != http.StatusServiceUnavailable {
			t.Fatalf("/readyz is %d after the signal, want 503 during the drain delay", notReady)
		}
		t.Logf("/readyz 503 %v after the signal", time.Since(stopped).Round(time.Millisecond))

		var r slowResult
		select {
		case r = <-inflight:
		case <-time.After(bound):
			t.Fatal("the in-flight request never finished")
		}
		if r.err != nil || r.status != http.StatusOK || !bytes.Contains([]byte(r.body), []byte(product)) || bytes.Contains([]byte(r.body), []byte(`"errors"`)) {
			t.Fatalf("in-flight request: status %d, err %v, body %s", r.status, r.err, r.body)
		}
		select {
		case err := <-done:
			returned := time.Now()
			if err != nil {
				t.Fatalf("run: %v\n%s", err, logs)
			}
			if returned.Before(r.at.Add(-50 * time.Millisecond)) {
				t.Errorf("run returned %v before the in-flight request finished", r.at.Sub(returned))
			}
			t.Logf("in-flight request answered 200 %v after the signal; run returned %v after the signal",
				r.at.Sub(stopped).Round(time.Millisecond), returned.Sub(stopped).Round(time.Millisecond))
		case <-time.After(bound + time.Second):
			t.Fatalf("run did not return within the %v shutdown bound", bound)
		}
		if _, err := fresh.Get(base + "/readyz"); err == nil {
			t.Error("the listener still accepts connections after run returned")
		}
	})

	t.Run("gives up on requests that outlast the shutdown bound", func(t *testing.T) {
		const latency, bound = 5 * time.Second, 300 * time.Millisecond
		base, p, stop, done, _ := startSlowPlaza(t, latency, bound)
		inflight := slowRequest(base, gid.Encode(gid.Product, p.Conn.Describe().ID, "p-000001"))
		waitForProvider(t, p, inflight)
		stopped := time.Now()
		stop()
		select {
		case err := <-done:
			took := time.Since(stopped)
			t.Logf("run returned %v after the signal: %v", took.Round(time.Millisecond), err)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("run returned %v, want the shutdown deadline reported", err)
			}
			if took < bound || took > bound+time.Second {
				t.Errorf("run returned %v after the signal, want about the %v bound", took, bound)
			}
		case <-time.After(bound + 3*time.Second):
			t.Fatalf("run did not return within the %v shutdown bound", bound)
		}
		p.Stop() // ends the abandoned request
		<-inflight
	})
}
