package ledger_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/ledger"
)

// crashEvents is how many order completions the crash test posts.
const crashEvents = 2000

// crashChildURL names the database the child process posts to; set only
// in the child.
const crashChildURL = "PLAZA_LEDGER_CRASH_CHILD_URL"

// TestCrashLosesNothing kills (SIGKILL) a process posting rewards from 8
// goroutines mid-way, then delivers every event again, as a restarted
// instance would: every reward is posted exactly once and the ledger
// balances. Each entry is one transaction, so the kill leaves either the
// whole entry or nothing.
func TestCrashLosesNothing(t *testing.T) {
	if url := os.Getenv(crashChildURL); url != "" {
		crashChild(t, url)
		return
	}
	pool := mustPool(t)
	url := pool.Config().ConnString()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashLosesNothing$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildURL+"="+url)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	posted := 0
	for posted < crashEvents/4 && lines.Scan() {
		posted++
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	ctx := context.Background()
	var before int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if before < posted || before >= crashEvents {
		t.Fatalf("%d entries when killed after %d acknowledged posts: want the kill mid-way", before, posted)
	}
	l := ledger.New(ledger.NewPostgres(pool), nil)
	deliver(t, l, false)
	mustBalanced(t, l)
	var entries, distinct int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT key) FROM ledger_entries`).Scan(&entries, &distinct); err != nil {
		t.Fatal(err)
	}
	if entries != crashEvents || distinct != crashEvents {
		t.Fatalf("%d entries (%d keys), want each of %d events once", entries, distinct, crashEvents)
	}
	var payable int64
	for p := range 4 {
		payable += mustBalances(t, l, fmt.Sprintf("crash-%d", p)).Payable
	}
	if payable != crashEvents*100 {
		t.Fatalf("payable %d, want %d", payable, crashEvents*100)
	}
	t.Logf("killed after %d acknowledged posts with %d entries committed; redelivery completed the other %d", posted, before, crashEvents-before)
}

// crashChild posts every event, printing a line per acknowledged post,
// until it is killed.
func crashChild(t *testing.T, url string) {
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, ledger.New(ledger.NewPostgres(pool), nil), true)
	time.Sleep(time.Minute) // the parent kills it before
}

// deliver posts the crash test's events from 8 goroutines; the child
// reports each acknowledged post on stdout (report).
func deliver(t *testing.T, l *ledger.Ledger, report bool) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < crashEvents; i += 8 {
				m := reward(fmt.Sprintf("crash-order-%d", i), fmt.Sprintf("crash-%d", i%4), 100)
				if _, err := l.Reward(context.Background(), m); err != nil {
					t.Error(err)
					return
				}
				if report {
					mu.Lock()
					fmt.Println("posted", m.Key)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
}
