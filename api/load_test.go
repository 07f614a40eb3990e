package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/idempotency"
	"github.com/plaza-gateway/plaza/resilience"
)

// The contract this test holds clients to, and the gateway to: a mutation
// answered with PROVIDER_UNAVAILABLE, PROVIDER_TIMEOUT or PROVIDER_ERROR (or
// not answered at all) has an unknown outcome, and the client retries it
// with the same idempotency key until it gets an answer; CONFLICT about the
// key itself ("still in progress", "did not complete") also means "retry".

const (
	loadClients  = 16
	loadRequests = 160 // per client
	// loadBudget bounds the whole run; the test must finish within a minute.
	loadBudget = 40 * time.Second
)

// loadPolicy is the production policy with a short breaker cool-down, so
// the restarted provider is called again within the run.
func loadPolicy() resilience.ProviderConfig {
	c := resilience.DefaultProviderConfig()
	c.Timeout = 2 * time.Second
	c.BreakerCooldown = 300 * time.Millisecond
	return c
}

// loadLedger is what the clients were told, by idempotency key.
type loadLedger struct {
	mu       sync.Mutex
	acked    map[string]string // key -> order global ID
	rejected map[string]string // key -> code of a definite refusal
	problems []string
}

func (l *loadLedger) ack(key, order string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.acked[key]; ok && prev != order {
		l.problems = append(l.problems, fmt.Sprintf("key %s acknowledged as %s, then as %s", key, prev, order))
	}
	l.acked[key] = order
}

func (l *loadLedger) problem(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.problems) < 20 {
		l.problems = append(l.problems, fmt.Sprintf(format, args...))
	}
}

// loadCounters are what the run saw.
type loadCounters struct {
	requests, reads, mutations, replays atomic.Int64
	clientTimeouts, mutationRetries     atomic.Int64
	partial, status5xx, unanswered      atomic.Int64
	outageMutationErrors                atomic.Int64
}

func TestLoadWithProviderRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	rdb := cachetest.Redis(t)
	prefix := cachetest.Prefix(t)
	t.Cleanup(func() { deleteKeys(t, rdb, prefix) })
	rig := startFaultRig(t, loadPolicy(), gateway.WithIdempotency(idempotency.NewRedis(rdb, prefix)))
	killed := rig.providers[faultyID]

	// Order spots at both grocery providers, one order attempt per unit of
	// room, handed out in turn so no attempt is refused for lack of stock.
	var spots []orderSpot
	for _, id := range []string{healthyID, faultyID} {
		for _, s := range orderSpots(t, rig.providers[id].Conn.(connectors.Grocery), 60) {
			for range min(s.capacity, 8) {
				spots = append(spots, s)
			}
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(spots), func(i, j int) { spots[i], spots[j] = spots[j], spots[i] })
	var nextSpot atomic.Int64
	products := []string{productID(healthyID), productID(faultyID), gid.Encode(gid.Product, faultyID, "p-000002"), gid.Encode(gid.Product, healthyID, "p-000002")}

	users := make([]string, loadClients)
	for i := range users {
		users[i] = fmt.Sprintf("load-%d", i)
	}
	ledger := &loadLedger{acked: map[string]string{}, rejected: map[string]string{}}
	var n loadCounters
	deadline := time.Now().Add(loadBudget)
	client := &http.Client{Timeout: 10 * time.Second}

	// do sends one request until it gets an HTTP response, counting 5xx;
	// shortTimeout, when set, bounds the first try only, as a client that
	// gives up too early would.
	do := func(req apitest.Request, shortTimeout time.Duration) (*apitest.Response, bool) {
		for try := 0; ; try++ {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if try == 0 && shortTimeout > 0 {
				cancel()
				ctx, cancel = context.WithTimeout(context.Background(), shortTimeout)
			}
			n.requests.Add(1)
			r, err := rig.Do(ctx, client, req)
			cancel()
			if err == nil && r.Status >= 500 {
				n.status5xx.Add(1)
				ledger.problem("status %d: %s", r.Status, r.Raw)
			}
			if err == nil {
				return r, true
			}
			if !errors.Is(err, context.DeadlineExceeded) || try > 0 && time.Now().After(deadline.Add(10*time.Second)) {
				n.unanswered.Add(1)
				ledger.problem("no response: %v", err)
				return nil, false
			}
			n.clientTimeouts.Add(1)
		}
	}

	// order places one order with a fresh key and retries it, with the
	// same key, until the outcome is known.
	order := func(rng *rand.Rand, user, key string) {
		i := nextSpot.Add(1) - 1
		if int(i) >= len(spots) {
			return
		}
		req := apitest.Request{User: user, Query: placeOrderMutation, Variables: spots[i].input(key)}
		var short time.Duration
		if rng.IntN(5) == 0 {
			short = time.Duration(1+rng.IntN(20)) * time.Millisecond
		}
		n.mutations.Add(1)
		for attempt := 0; ; attempt++ {
			r, ok := do(req, short)
			short = 0
			if !ok {
				return
			}
			// The order is placed when the response carries it, even if a
			// field below it (items' products) failed.
			if id, ok := placedID(r); ok {
				ledger.ack(key, id)
				if rng.IntN(4) == 0 { // a client that did not see the answer asks again
					n.replays.Add(1)
					if r, ok := do(req, 0); ok {
						if id, ok := placedID(r); ok {
							ledger.ack(key, id)
						} else {
							ledger.problem("replay of key %s: %s", key, r.Raw)
						}
					}
				}
				return
			}
			if len(r.Errors) == 0 {
				ledger.problem("key %s: no order and no error: %s", key, r.Raw)
				return
			}
			e := r.Errors[0]
			if !unknownOutcome(e) {
				ledger.mu.Lock()
				ledger.rejected[key] = e.Code() + " " + e.Message
				ledger.mu.Unlock()
				return
			}
			if killed.Stopped() {
				n.outageMutationErrors.Add(1)
			}
			if time.Now().After(deadline.Add(10 * time.Second)) {
				n.unanswered.Add(1)
				ledger.problem("key %s: still %s after %d attempts", key, e.Code(), attempt+1)
				return
			}
			n.mutationRetries.Add(1)
			time.Sleep(time.Duration(20+rng.IntN(60)) * time.Millisecond)
		}
	}

	read := func(rng *rand.Rand, user string) {
		var req apitest.Request
		switch rng.IntN(3) {
		case 0:
			req = apitest.Request{Query: searchQuery, Variables: map[string]any{"text": []string{"milk", "rice", "apple", ""}[rng.IntN(4)], "first": 10}}
		case 1:
			req = apitest.Request{Query: productNodeQuery, Variables: map[string]any{"id": products[rng.IntN(len(products))]}}
		default:
			req = apitest.Request{User: user, Query: `{ me { orders(first: 50) { totalCount edges { node { id status } } } } }`}
		}
		n.reads.Add(1)
		if r, ok := do(req, 0); ok && len(r.Errors) > 0 {
			n.partial.Add(1)
			for _, e := range r.Errors {
				if !strings.HasPrefix(e.Code(), "PROVIDER_") {
					ledger.problem("read: %s", r.Raw)
				}
			}
		}
	}

	var done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			for i := range loadRequests {
				if time.Now().After(deadline) {
					return
				}
				if rng.IntN(4) == 0 {
					order(rng, users[c], fmt.Sprintf("%s-%d", users[c], i))
				} else {
					read(rng, users[c])
				}
				done.Add(1)
			}
		}()
	}

	// Kill the provider a third of the way in (or a few seconds in, on a
	// slow machine), bring it back a second later on the same port with the
	// same orders.
	total := int64(loadClients * loadRequests)
	for done.Load() < total/3 && time.Since(start) < loadBudget/5 {
		time.Sleep(10 * time.Millisecond)
	}
	killedAt := done.Load()
	killed.Stop()
	time.Sleep(time.Second)
	killed.Start()
	restartedAt := done.Load()
	wg.Wait()
	elapsed := time.Since(start)

	// Count what exists at the providers for the load users.
	existing := map[string]bool{}
	for _, id := range []string{healthyID, faultyID} {
		g := rig.providers[id].Conn.(connectors.Grocery)
		for _, u := range users {
			orders, err := g.UserOrders(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range orders {
				existing[gid.Encode(gid.GroceryOrder, id, o.ID)] = true
			}
		}
	}
	ackedOrders := map[string]string{}
	for key, o := range ledger.acked {
		if prev, dup := ackedOrders[o]; dup {
			t.Errorf("order %s acknowledged for keys %s and %s", o, prev, key)
		}
		ackedOrders[o] = key
	}

	t.Logf("%d scenario steps in %v (%d HTTP requests: %d reads, %d orders, %d replays, %d client timeouts, %d mutation retries, %d partial reads); %s killed after step %d, back after step %d",
		done.Load(), elapsed.Round(time.Millisecond), n.requests.Load(), n.reads.Load(), n.mutations.Load(), n.replays.Load(),
		n.clientTimeouts.Load(), n.mutationRetries.Load(), n.partial.Load(), faultyID, killedAt, restartedAt)
	t.Logf("orders: %d acknowledged, %d exist at the providers, %d definitely refused, %d provider errors on mutations during the outage",
		len(ledger.acked), len(existing), len(ledger.rejected), n.outageMutationErrors.Load())
	for key, why := range ledger.rejected {
		t.Logf("refused %s: %s", key, why)
		break
	}

	for _, p := range ledger.problems {
		t.Error(p)
	}
	if c := n.status5xx.Load(); c > 0 {
		t.Errorf("%d responses with status 5xx", c)
	}
	if c := n.unanswered.Load(); c > 0 {
		t.Errorf("%d requests never got an answer", c)
	}
	if len(ledger.acked) != len(existing) {
		t.Errorf("%d orders acknowledged, %d exist at the providers", len(ledger.acked), len(existing))
	}
	for o := range existing {
		if _, ok := ackedOrders[o]; !ok {
			t.Errorf("order %s exists at its provider but was never acknowledged", o)
		}
	}
	for o, key := range ackedOrders {
		if !existing[o] {
			t.Errorf("order %s acknowledged for key %s does not exist", o, key)
		}
	}
	// A machine with -race and other tests running may not get through
	// every step within the budget; the test still needs traffic on both
	// sides of the restart.
	if done.Load() < total {
		t.Logf("only %d of %d steps ran within %v", done.Load(), total, loadBudget)
	}
	if done.Load()-restartedAt < total/10 {
		t.Errorf("only %d steps after the restart", done.Load()-restartedAt)
	}
	if len(ledger.acked) == 0 {
		t.Error("no orders were placed")
	}
}

// placedID returns the ID of the order a placeGroceryOrder response carries.
func placedID(r *apitest.Response) (string, bool) {
	var d placedOrder
	if err := json.Unmarshal(r.Data, &d); err != nil || d.PlaceGroceryOrder == nil || d.PlaceGroceryOrder.ID == "" {
		return "", false
	}
	return d.PlaceGroceryOrder.ID, true
}

// unknownOutcome reports whether a mutation's error leaves its outcome
// unknown, so the client must retry with the same key.
func unknownOutcome(e apitest.Error) bool {
	switch connectors.Kind(e.Code()) {
	case connectors.KindUnavailable, connectors.KindTimeout, connectors.KindProvider:
		return true
	case connectors.KindConflict:
		return strings.Contains(e.Message, "idempotencyKey")
	}
	return false
}

// deleteKeys removes the test's keys from the shared Redis.
func deleteKeys(tb testing.TB, rdb redis.UniversalClient, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Logf("cleaning up %s*: %v", prefix, err)
	}
}
