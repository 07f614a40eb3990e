package cache

import (
	"context"
	"fmt"
	"sync"
	"time"
)

var _ Cache = (*Tiered)(nil)

// Invalidator is an optional capability of an L2 cache: telling every instance which keys were deleted, so each can
// drop them from its L1. *Redis provides it over pub/sub.
type Invalidator interface {
	// PublishInvalidation broadcasts keys to every watcher, this instance included. It is best effort.
	PublishInvalidation(ctx context.Context, keys []string)
	// WatchInvalidations blocks until ctx is done, calling dropped with every broadcast batch of keys. It calls
	// subscribed whenever it starts listening (again): broadcasts made while it was not listening are lost.
	WatchInvalidations(ctx context.Context, subscribed func(), dropped func(keys []string))
}

// Tiered puts a small in-process L1 in front of a shared L2. GetMany answers from L1 where it can and asks L2 once
// for the rest; L1 keeps values for at most WithL1TTL (default 5 s).
//
// If L2 is an Invalidator (as *Redis is), DeleteMany broadcasts the keys and every Tiered drops them from its L1, so
// a deletion reaches other instances within a pub/sub round trip. If a broadcast is lost (Redis down, subscription
// reconnecting), L1 still forgets within its TTL, and L1 is purged whenever the subscription is re-established.
type Tiered struct {
	l1    *Memory
	l2    Cache
	inv   Invalidator
	l1TTL time.Duration

	ready     chan struct{}
	readyOnce sync.Once
	stop      context.CancelFunc
	stopped   chan struct{}
}

// NewTiered returns a Tiered cache over l1 and l2, which the caller keeps owning. If l2 is an Invalidator it starts
// watching invalidations in the background; Ready tells when that is live and Close stops it. Options used:
// WithL1TTL.
func NewTiered(l1 *Memory, l2 Cache, opts ...Option) *Tiered {
	cfg := newConfig(opts)
	ctx, stop := context.WithCancel(context.Background())
	t := &Tiered{
		l1:      l1,
		l2:      l2,
		l1TTL:   cfg.l1TTL,
		ready:   make(chan struct{}),
		stop:    stop,
		stopped: make(chan struct{}),
	}
	inv, ok := l2.(Invalidator)
	if !ok {
		close(t.ready)
		close(t.stopped)
		return t
	}
	t.inv = inv
	go func() {
		defer close(t.stopped)
		inv.WatchInvalidations(ctx, t.resubscribed, t.dropL1)
	}()
	return t
}

// Ready is closed once invalidations from other instances are being received (immediately if L2 cannot broadcast).
func (t *Tiered) Ready() <-chan struct{} { return t.ready }

// Close stops watching invalidations. It does not close L1 or L2.
func (t *Tiered) Close() {
	t.stop()
	<-t.stopped
}

// GetMany implements Cache. An L2 error is returned wrapped; *Redis never returns one.
func (t *Tiered) GetMany(ctx context.Context, keys []string) ([]Entry, error) {
	entries, err := t.l1.GetMany(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("cache: l1: %w", err)
	}
	var missing []int
	for i, e := range entries {
		if !e.Found {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return entries, nil
	}
	missKeys := make([]string, len(missing))
	for j, i := range missing {
		missKeys[j] = keys[i]
	}
	fromL2, err := t.l2.GetMany(ctx, missKeys)
	if err != nil {
		return nil, fmt.Errorf("cache: l2: %w", err)
	}
	var fill []Item
	for j, i := range missing {
		e := fromL2[j]
		entries[i] = e
		// A stale L2 entry stays out of L1 so every instance keeps noticing it needs a refresh.
		if e.Found && !e.Stale {
			fill = append(fill, Item{Key: keys[i], Value: e.Value, TTL: t.l1TTL})
		}
	}
	if err := t.l1.SetMany(ctx, fill); err != nil {
		return nil, fmt.Errorf("cache: l1: %w", err)
	}
	return entries, nil
}

// SetMany implements Cache: the items go to L2 as given and to L1 for min(TTL, L1 TTL) without grace.
func (t *Tiered) SetMany(ctx context.Context, items []Item) error {
	if err := validate(items); err != nil {
		return err
	}
	if err := t.l2.SetMany(ctx, items); err != nil {
		return fmt.Errorf("cache: l2: %w", err)
	}
	local := make([]Item, len(items))
	for i, it := range items {
		local[i] = Item{Key: it.Key, Value: it.Value, TTL: min(it.TTL, t.l1TTL)}
	}
	return t.l1.SetMany(ctx, local)
}

// DeleteMany implements Cache: it deletes from L2, then L1, then tells the other instances. Broadcasting to this
// instance too also drops a value a concurrent GetMany read from L2 just before the delete and put back into L1.
func (t *Tiered) DeleteMany(ctx context.Context, keys []string) error {
	if err := t.l2.DeleteMany(ctx, keys); err != nil {
		return fmt.Errorf("cache: l2: %w", err)
	}
	if err := t.l1.DeleteMany(ctx, keys); err != nil {
		return fmt.Errorf("cache: l1: %w", err)
	}
	if t.inv != nil {
		t.inv.PublishInvalidation(ctx, keys)
	}
	return nil
}

func (t *Tiered) resubscribed() {
	t.l1.Purge()
	t.readyOnce.Do(func() { close(t.ready) })
}

func (t *Tiered) dropL1(keys []string) {
	_ = t.l1.DeleteMany(context.Background(), keys) // Memory.DeleteMany cannot fail
}
