package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/directory/pgtest"
)

// TestGrowthAcrossTwoInstances: two gateway processes on one PostgreSQL
// database take four providers' signed status webhooks for 1,000 orders at
// once (a provider's postings are serialised, so one provider would test a
// queue). Every batch of completions goes to both instances concurrently
// (the second gets it in reverse order, so the two lock the same orders in
// opposite orders), and once both acknowledged it, the batch's
// cancellations go to both the same way; batches run concurrently, so one
// instance completes orders while the other cancels others. Afterwards
// every order has exactly one reward, every cancelled one exactly one
// reversal, every user exactly one first-order bonus (reversed exactly when
// its order was cancelled), and the ledger's postings sum to zero.
func TestGrowthAcrossTwoInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two gateway processes")
	}
	const (
		secret  = "a-signing-secret-of-32-characters!"
		orders  = 250 // per provider
		batch   = 25
		senders = 8  // batches in flight at once
		users   = 40 // per provider
	)
	providers := []string{"twin-grocer-a", "twin-grocer-b", "twin-grocer-c", "twin-grocer-d"}
	url := pgtest.DatabaseURL(t)
	env := func() map[string]string {
		return map[string]string{"PLAZA_DATABASE_URL": url, "PLAZA_DIRECTORY_KEY": directoryKey, "PLAZA_ADMIN_ADDR": anyPort,
			"PLAZA_RATE_IP": "off", "PLAZA_RATE_USER": "off"}
	}
	// Both start at once, as instances of a deployment do (one migrates
	// the database, the other waits for its migration lock).
	gws := []*gatewayProcess{spawnGateway(t, env(), anyPort), spawnGateway(t, env(), anyPort)}
	addrs := []string{gws[0].listeningOn(t), gws[1].listeningOn(t)}
	for i, gw := range gws {
		gw.waitReady(t, addrs[i], 0)
	}
	dir := openDirectory(t, url)
	signers := map[string]*statusSender{}
	for _, p := range providers {
		endpoint, _ := countingProvider(t, p, secret)
		register(t, dir, p, endpoint, secret)
		signers[p] = newStatusSender(p, secret)
	}
	for i, gw := range gws {
		gw.waitReady(t, addrs[i], len(providers))
	}

	cancelled := func(i int) bool { return i%3 == 0 }
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var sends, resent atomic.Int64
	// deliver sends changes to the instance at addr until it acknowledges.
	deliver := func(sender *statusSender, addr string, changes []map[string]any) error {
		body, _ := json.Marshal(map[string]any{"changes": changes})
		for {
			sends.Add(1)
			ok, err := sender.send(addr, body)
			if err != nil || ok {
				return err
			}
			resent.Add(1)
			select {
			case <-ctx.Done():
				return fmt.Errorf("batch never acknowledged by %s (last answer %v): %w", addr, sender.last.Load(), ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	// toBoth delivers changes to both instances at once, to the second in
	// reverse order.
	toBoth := func(sender *statusSender, changes []map[string]any) error {
		reversed := slices.Clone(changes)
		slices.Reverse(reversed)
		errs := make(chan error, 2)
		go func() { errs <- deliver(sender, addrs[0], changes) }()
		go func() { errs <- deliver(sender, addrs[1], reversed) }()
		return errors.Join(<-errs, <-errs)
	}
	// The providers' batches interleaved: a, b, c, d, a, ...
	type work struct {
		provider string
		first    int
	}
	batches := make(chan work, len(providers)*orders/batch)
	for b := 0; b < orders; b += batch {
		for _, p := range providers {
			batches <- work{p, b}
		}
	}
	close(batches)
	errs := make(chan error, senders)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range batches {
				var done, undone []map[string]any
				for i := w.first; i < w.first+batch; i++ {
					done = append(done, orderChange(w.provider, i, users, "COMPLETED"))
					if cancelled(i) {
						undone = append(undone, orderChange(w.provider, i, users, "CANCELLED"))
					}
				}
				err := toBoth(signers[w.provider], done)
				if err == nil && len(undone) > 0 {
					err = toBoth(signers[w.provider], undone)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("%v\nthe first gateway's log:\n%s\nthe second's:\n%s", err, gws[0].logs, gws[1].logs)
	}
	t.Logf("%d orders in %d webhooks to two instances in %v, %d resent (503 or cut)",
		len(providers)*orders, sends.Load(), time.Since(t0).Round(time.Millisecond), resent.Load())
	for _, p := range providers {
		checkOrderLedger(t, url, p, orders, users, cancelled)
	}
}
