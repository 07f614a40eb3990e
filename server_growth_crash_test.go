package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/gid"
)

// gatewayProcess is the plaza command running as a child process (the
// test binary re-executed as main), so the test can kill -9 it.
type gatewayProcess struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
}

// syncBuffer is the process's output, read while it writes; listening
// gets the address of its "plaza listening" line.
type syncBuffer struct {
	mu        sync.Mutex
	b         bytes.Buffer
	listening chan string
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := listeningLine.FindSubmatch(p); m != nil {
		select {
		case s.listening <- string(m[1]) + string(m[2]):
		default:
		}
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startGatewayProcess starts plaza on addr with env (anyPort: a free port
// it binds itself) and waits until its /readyz answers 200 with providers
// callable providers; it returns the process and the address it listens
// on.
func startGatewayProcess(t *testing.T, env map[string]string, addr string, providers int) (*gatewayProcess, string) {
	t.Helper()
	g := spawnGateway(t, env, addr)
	addr = g.listeningOn(t)
	g.waitReady(t, addr, providers)
	return g, addr
}

// anyPort has a gateway process bind a free loopback port of its own
// choosing (listeningOn says which): a port found free by the test and
// closed again may be taken by any other socket before the child binds it
// (CI saw "address already in use" when two gateways started at once).
const anyPort = "127.0.0.1:0"

func spawnGateway(t *testing.T, env map[string]string, addr string) *gatewayProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{"PLAZA_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"GORACE=" + os.Getenv("GORACE"), "PLAZA_ADDR=" + addr}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	g := &gatewayProcess{cmd: cmd, logs: &syncBuffer{listening: make(chan string, 1)}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = g.logs, g.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(g.done) }()
	t.Cleanup(func() { g.kill() })
	return g
}

// listeningOn waits for the address the process says it listens on.
func (g *gatewayProcess) listeningOn(t *testing.T) string {
	t.Helper()
	select {
	case addr := <-g.logs.listening:
		return addr
	case <-g.done:
		t.Fatalf("plaza exited while starting:\n%s", g.logs)
	case <-time.After(propagation):
		t.Fatalf("plaza did not start listening within %v:\n%s", propagation, g.logs)
	}
	return ""
}

// waitReady waits until the gateway's /readyz answers 200 with providers
// callable providers.
func (g *gatewayProcess) waitReady(t *testing.T, addr string, providers int) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(propagation)
	for {
		select {
		case <-g.done:
			t.Fatalf("plaza exited while starting:\n%s", g.logs)
		default:
		}
		var r directoryReadyz
		if resp, err := client.Get("http://" + addr + "/readyz"); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && r.Providers == providers {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("plaza not ready with %d providers within %v:\n%s", providers, propagation, g.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL (what a crashed machine or an OOM kill does: no
// shutdown, no flush) and waits for the process to be gone.
func (g *gatewayProcess) kill() {
	_ = g.cmd.Process.Signal(syscall.SIGKILL)
	<-g.done
}

// TestGrowthSurvivesKill9: providers' signed status webhooks complete and
// cancel orders concurrently against a gateway on PostgreSQL; the gateway
// is killed with SIGKILL mid-way and restarted; the senders resend every
// batch that was not acknowledged with 204, as providers do. Afterwards
// every completed order has exactly one reward, every cancelled one
// exactly one reversal, every user at most one first-order bonus (and
// exactly one unless its order was cancelled), and the ledger balances:
// its postings sum to zero and every running balance equals its postings.
func TestGrowthSurvivesKill9(t *testing.T) {
	const (
		provider = "crash-grocer"
		secret   = "a-signing-secret-of-32-characters!"
		senders  = 4
		orders   = 40 // per test: senders × batches × batch
		batch    = 5
		users    = 8
	)
	url := pgtest.DatabaseURL(t)
	env := map[string]string{"PLAZA_DATABASE_URL": url, "PLAZA_DIRECTORY_KEY": directoryKey, "PLAZA_ADMIN_ADDR": "off",
		"PLAZA_RATE_IP": "off", "PLAZA_RATE_USER": "off"}
	gw, addr := startGatewayProcess(t, env, anyPort, 0) // migrates the database
	endpoint, _ := countingProvider(t, provider, secret)
	register(t, openDirectory(t, url), provider, endpoint, secret)
	gw.waitReady(t, addr, 1) // the directory's change reaches it

	sender := newStatusSender(provider, secret)
	send := func(body []byte) (bool, error) { return sender.send(addr, body) }
	change := func(i int, status string) map[string]any { return orderChange(provider, i, users, status) }
	cancelled := func(i int) bool { return i%3 == 0 }

	var acked, resent atomic.Int64
	killAt := int64(3) // acknowledged batches before the kill: mid-way
	restarted := make(chan struct{})
	var restart sync.Once
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	errs := make(chan error, senders)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deliver := func(changes []map[string]any) error {
				body, _ := json.Marshal(map[string]any{"changes": changes})
				for {
					ok, err := send(body)
					if err != nil || ok {
						if ok && acked.Add(1) == killAt {
							restart.Do(func() { go func() { defer close(restarted); gw.kill() }() })
						}
						return err
					}
					resent.Add(1)
					select {
					case <-ctx.Done():
						return fmt.Errorf("batch never acknowledged (last answer %v): %w", sender.last.Load(), ctx.Err())
					case <-time.After(50 * time.Millisecond):
					}
				}
			}
			for b := s * (orders / senders); b < (s+1)*(orders/senders); b += batch {
				var done, undone []map[string]any
				for i := b; i < b+batch; i++ {
					done = append(done, change(i, "COMPLETED"))
					if cancelled(i) {
						undone = append(undone, change(i, "CANCELLED"))
					}
				}
				if err := deliver(done); err != nil {
					errs <- err
					return
				}
				if len(undone) > 0 {
					if err := deliver(undone); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	// The restart: once the kill is done, the same address again.
	select {
	case <-restarted:
		gw, _ = startGatewayProcess(t, env, addr, 1)
	case <-ctx.Done():
		t.Fatal("the senders never reached the kill")
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("%v\nthe gateway's log:\n%s", err, gw.logs)
	}
	t.Logf("%d batches acknowledged, %d sends repeated after the kill -9", acked.Load(), resent.Load())

	checkOrderLedger(t, url, provider, orders, users, cancelled)
	_ = gw
}

// statusSender posts a provider's signed status webhooks, as the provider
// does.
type statusSender struct {
	provider, secret string
	client           *http.Client
	last             atomic.Value // the last answer that was not 204, for a failure's message
}

func newStatusSender(provider, secret string) *statusSender {
	return &statusSender{provider: provider, secret: secret,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
}

// send posts one signed batch to the gateway at addr; it reports whether
// the gateway acknowledged it (204). Anything else is resent, as a
// provider does; a 4xx other than 429 is a test failure (the batch is
// well-formed).
func (s *statusSender) send(addr string, body []byte) (bool, error) {
	path := "/providers/" + s.provider + "/status"
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), rand.Text()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(httpprovider.HeaderTimestamp, ts)
	req.Header.Set(httpprovider.HeaderNonce, nonce)
	req.Header.Set(httpprovider.HeaderSignature, httpprovider.SignV2(s.secret, ts, nonce, http.MethodPost, path, "", body))
	resp, err := s.client.Do(req)
	if err != nil {
		s.last.Store(err.Error())
		return false, nil // down or cut: resend
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		s.last.Store(fmt.Sprintf("%d %s", resp.StatusCode, msg))
	}
	switch {
	case resp.StatusCode == http.StatusNoContent:
		return true, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return false, fmt.Errorf("batch refused with %d %s", resp.StatusCode, msg)
	}
	return false, nil
}

// orderChange is order i's status change in a webhook: its user is one of
// users, its amount its own.
func orderChange(provider string, i, users int, status string) map[string]any {
	return map[string]any{"id": gid.Encode(gid.GroceryOrder, provider, fmt.Sprintf("o-%04d", i)), "status": status,
		"user": fmt.Sprintf("u-%d", i%users), "amount": map[string]any{"amount": 2_000 + i, "currency": "CNY"}}
}

// checkOrderLedger checks the ledger at url after orders orders of
// provider (from orderChange) were all completed and the cancelled ones
// cancelled: every order has exactly one reward, every cancelled one
// exactly one posted reversal (and no other order one); every user exactly
// one first-order bonus, reversed exactly when the order that earned it was
// cancelled; the postings sum to zero, every running balance equals its
// postings, and the provider is owed what it kept.
func checkOrderLedger(t *testing.T, url, provider string, orders, users int, cancelled func(int) bool) {
	t.Helper()
	var gone []string // the cancelled orders' IDs
	for i := range orders {
		if cancelled(i) {
			gone = append(gone, fmt.Sprintf("o-%04d", i))
		}
	}
	nCancelled := int64(len(gone))
	// posted counts provider's entries of kind whose key matches pattern
	// and which moved money.
	posted := func(kind, pattern string) int64 {
		return scalar(t, url, `SELECT count(*) FROM ledger_entries e WHERE kind = $1 AND key LIKE $2
			AND EXISTS (SELECT 1 FROM ledger_postings p WHERE p.entry_id = e.id)`, kind, pattern)
	}
	if n := posted("REWARD", "order:"+provider+":%:completed"); n != int64(orders) {
		t.Errorf("%d order rewards posted, want one for each of %d orders", n, orders)
	}
	if n := scalar(t, url, `SELECT count(*) FROM ledger_entries WHERE key LIKE $1`, "order:"+provider+":%:completed:cancelled"); n != nCancelled {
		t.Errorf("%d order reversals, want one for each of %d cancelled orders", n, nCancelled)
	}
	if n := scalar(t, url, `SELECT count(*) FROM ledger_entries e WHERE kind = 'REVERSAL' AND key LIKE $1
		AND split_part(key, ':', 3) = ANY($2) AND EXISTS (SELECT 1 FROM ledger_postings p WHERE p.entry_id = e.id)`,
		"order:"+provider+":%:completed:cancelled", gone); n != nCancelled {
		t.Errorf("%d cancelled orders' rewards reversed with postings, want all %d", n, nCancelled)
	}
	bonuses := posted("REWARD", "first-order:"+provider+":%")
	if bonuses != int64(users) {
		t.Errorf("%d first-order bonuses, want one for each of %d users", bonuses, users)
	}
	// A bonus is reversed exactly when the order that earned it (its memo,
	// "order o-0042") was cancelled.
	if n := scalar(t, url, `SELECT count(*) FROM ledger_entries b WHERE b.key LIKE $1 AND b.kind = 'REWARD'
		AND (split_part(b.memo, ' ', 2) = ANY($2)) <> EXISTS (SELECT 1 FROM ledger_entries r JOIN ledger_postings p ON p.entry_id = r.id
			WHERE r.reverses = b.key AND r.kind = 'REVERSAL')`, "first-order:"+provider+":%", gone); n != 0 {
		t.Errorf("%d first-order bonuses reversed although their order was not cancelled, or kept although it was", n)
	}
	if n := scalar(t, url, `SELECT coalesce(sum(amount), 0)::bigint FROM ledger_postings`); n != 0 {
		t.Errorf("the ledger's postings sum to %d, not zero", n)
	}
	if n := scalar(t, url, `SELECT count(*) FROM ledger_balances b WHERE balance <> (SELECT coalesce(sum(amount), 0) FROM ledger_postings p
		WHERE p.account = b.account AND p.currency = b.currency)`); n != 0 {
		t.Errorf("%d running balances differ from their postings", n)
	}
	// What the provider is owed: 100 per order kept, 500 per bonus kept.
	reversedBonuses := posted("REVERSAL", "first-order:"+provider+":%:cancelled")
	want := 100*(int64(orders)-nCancelled) + 500*(bonuses-reversedBonuses)
	if got := scalar(t, url, `SELECT coalesce(sum(-amount), 0)::bigint FROM ledger_postings
		WHERE account IN ('provider:`+provider+`:payable', 'provider:`+provider+`:receivable')`); got != want {
		t.Errorf("the provider is owed %d, want %d", got, want)
	}
}
