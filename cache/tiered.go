package cache

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

var (
	_ Cache    = (*Tiered)(nil)
	_ Memoizer = (*Tiered)(nil)
)

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
// for the rest; L1 keeps values for at most WithL1TTL (default DefaultL1TTL, 100 ms).
//
// # Staleness bound
//
// When DeleteMany returns nil, no instance serves the deleted values more than the L1 TTL after it returned:
//
//   - L2 no longer holds them: DeleteMany returns ErrUnavailable (and the invalidation webhook answers 503) when the
//     L2 delete did not happen, instead of leaving an old value to come back when Redis does.
//   - Every L1 copy expires at most the L1 TTL after the L2 read (or write) that produced it began. Such a read
//     began before the delete, or it would have missed; so the copy is gone within the L1 TTL of the delete, without
//     relying on any message reaching the instance.
//
// If L2 is an Invalidator (as *Redis is), DeleteMany also broadcasts the keys and every Tiered drops them from its L1,
// usually within a millisecond, and L1 is purged whenever the subscription is re-established. That makes the common
// case fast; the bound above does not depend on it, so a lost or late broadcast (Redis restarting, a subscriber
// stalled by GC) costs at most the L1 TTL.
//
// We chose a bound over an acknowledged invalidation (every instance confirms its drop before the 204): an ack needs
// a membership list, and would turn one slow or partitioned instance into failed invalidations for every provider.
//
// The cost is L1 hits: a key read less than once per L1 TTL is read from L2 each time. An L1 hit itself is unchanged
// (no Redis round trip); each key costs at most one L2 read per instance per quarter L1 TTL (GetMany's refresh).
//
// A value fetched from the source before the delete and written back after it (a read that raced the change at the
// provider) is not written if this instance has seen the delete by then (Item.ReadAt, set by Loader): always for a
// delete made here, and for one made elsewhere once its broadcast has arrived. A write-back that beats the broadcast
// of another instance's delete is not covered: it lives for the caller's TTL, as it would without an L1.
type Tiered struct {
	l1    *Memory
	l2    Cache
	inv   Invalidator
	l1TTL time.Duration
	now   func() time.Time

	// drops remembers the keys dropped from L1 within the last L1 TTL (by a broadcast or a local delete), so a fill
	// from an L2 read that began before the drop does not put the old value back after it. fillMu makes "check the
	// drops, then fill" one step against dropL1. Only L1 misses take it; L1 hits do not.
	fillMu sync.Mutex
	drops  recentDrops
	// flights are the L2 reads in progress, by their keys joined (readL2, refresh); under fillMu.
	flights map[string]*l2Read
	// refreshing are the keys a background refresh is reading from L2 (refresh); under fillMu.
	refreshing map[string]time.Time // when the latest refresh of the key began
	refreshes  sync.WaitGroup       // refresh goroutines, which Close waits for

	ready     chan struct{}
	readyOnce sync.Once
	stop      context.CancelFunc
	stopped   chan struct{}
}

// NewTiered returns a Tiered cache over l1 and l2, which the caller keeps owning. If l2 is an Invalidator it starts
// watching invalidations in the background; Ready tells when that is live and Close stops it. Options used:
// WithL1TTL. It reads time from l1's clock.
func NewTiered(l1 *Memory, l2 Cache, opts ...Option) *Tiered {
	cfg := newConfig(opts)
	ctx, stop := context.WithCancel(context.Background())
	t := &Tiered{
		l1:      l1,
		l2:      l2,
		l1TTL:   cfg.l1TTL,
		now:     l1.now,
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

// Close stops watching invalidations and waits for the background refreshes in progress. It does not close L1 or L2.
func (t *Tiered) Close() {
	t.stop()
	<-t.stopped
	t.refreshes.Wait()
}

// GetMany implements Cache. An L2 error is returned wrapped; *Redis never returns one.
//
// L1 copies older than a quarter of the L1 TTL are read from L2 again in the background (refresh), while this and
// later calls keep being answered from L1: a list's copies are filled together and would otherwise expire together,
// and every request then in flight waited for the one L2 read, on a saturated core for as long as the scheduler took
// to run its reader (the cached list of 50's p99 at c=16 was 3× the uncached one's). Three quarters of the TTL leave
// the refresh time to finish on a saturated core; a hot key costs at most one L2 read per quarter TTL.
func (t *Tiered) GetMany(ctx context.Context, keys []string) ([]Entry, error) {
	entries, due := t.l1.lookup(keys, t.l1TTL-t.l1TTL/4, true)
	if len(due) > 0 {
		t.refresh(keys, due)
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
	fromL2, err := t.readL2(ctx, missKeys)
	if err != nil {
		return nil, fmt.Errorf("cache: l2: %w", err)
	}
	for j, i := range missing {
		entries[i] = fromL2[j]
	}
	return entries, nil
}

// readL2 reads keys from L2 and fills L1 with what it found, or joins a read of the same keys in flight: when the L1
// copies of a list's entries expire together, every request in flight then would otherwise read and decode the same
// entries from L2 at once. A read is joined only while it is as good as an L1 copy: it began less than the L1 TTL
// ago and none of the keys was dropped since it began (see the staleness bound). The entries returned are shared
// with the other callers: read only.
func (t *Tiered) readL2(ctx context.Context, keys []string) ([]Entry, error) {
	id := strings.Join(keys, "\x00") // a bucket: a flight is joined only if its keys are equal
	t.fillMu.Lock()
	if f := t.flights[id]; f != nil && slices.Equal(f.keys, keys) && t.now().Sub(f.began) < t.l1TTL &&
		!slices.ContainsFunc(keys, func(k string) bool { return t.drops.since(k, f.began) }) {
		f.joined++
		t.fillMu.Unlock()
		select {
		case <-f.done:
			if f.err == nil {
				return f.entries, nil
			}
			// Its caller's failure (say, its deadline) is not this caller's: read alone.
			return t.readL2Alone(ctx, keys)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &l2Read{keys: keys, began: t.now(), done: make(chan struct{})}
	if t.flights == nil {
		t.flights = map[string]*l2Read{}
	}
	t.flights[id] = f
	t.fillMu.Unlock()
	defer func() {
		t.fillMu.Lock()
		if t.flights[id] == f {
			delete(t.flights, id)
		}
		t.fillMu.Unlock()
		close(f.done)
	}()
	f.entries, f.err = t.readFrom(ctx, f.began, keys)
	return f.entries, f.err
}

// refresh reads the keys at due from L2 in the background and fills L1 with them, as a read of missing keys does (the
// new copies' L1 TTL counted from when it began, keys dropped since left out), so the copies are replaced before
// they expire. A key being refreshed is not read again until that refresh is a quarter of the L1 TTL old: on a
// saturated core a refresh waits for the CPU twice (to send, then to read the answer), tens of milliseconds each, and
// one at a time could not keep a copy fresh; overlapping, a copy lands every quarter TTL (at most four reads in
// flight per key), and an older one landing last does not replace a newer one. A caller that misses L1 for exactly
// these keys while the refresh runs joins it (readL2).
func (t *Tiered) refresh(keys []string, due []int) {
	began := t.now()
	t.fillMu.Lock()
	var todo []string
	for _, i := range due {
		if at, busy := t.refreshing[keys[i]]; !busy || began.Sub(at) >= t.l1TTL/4 {
			if t.refreshing == nil {
				t.refreshing = map[string]time.Time{}
			}
			t.refreshing[keys[i]] = began
			todo = append(todo, keys[i])
		}
	}
	if len(todo) == 0 {
		t.fillMu.Unlock()
		return
	}
	id := strings.Join(todo, "\x00")
	f := &l2Read{keys: todo, began: began, done: make(chan struct{})}
	if t.flights == nil {
		t.flights = map[string]*l2Read{}
	}
	if t.flights[id] == nil {
		t.flights[id] = f
	}
	t.fillMu.Unlock()
	t.refreshes.Add(1)
	go func() {
		defer t.refreshes.Done()
		// Not the caller's context: its request may end first. No request waits for this read, so it may take up to
		// the L1 TTL (patient), past which its copies would be expired when they land.
		ctx, cancel := context.WithTimeout(patient(context.Background()), t.l1TTL)
		f.entries, f.err = t.readFrom(ctx, f.began, todo)
		cancel()
		t.fillMu.Lock()
		if t.flights[id] == f {
			delete(t.flights, id)
		}
		for _, k := range todo {
			if t.refreshing[k].Equal(began) {
				delete(t.refreshing, k)
			}
		}
		t.fillMu.Unlock()
		close(f.done)
	}()
}

func (t *Tiered) readL2Alone(ctx context.Context, keys []string) ([]Entry, error) {
	return t.readFrom(ctx, t.now(), keys)
}

// readFrom reads keys from L2, asked at began, and fills L1 with the fresh entries found, except the keys dropped at
// or after began (see fill). The entries filled are returned as L1 holds them: its copy of the value, with the decoded
// form a reader left there when the value did not change, so that the readers skip decoding it again and can memoize
// their decoding on the copy.
func (t *Tiered) readFrom(ctx context.Context, began time.Time, keys []string) ([]Entry, error) {
	entries, err := t.l2.GetMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	var fill []Item
	var at []int
	t.fillMu.Lock()
	defer t.fillMu.Unlock()
	for i, e := range entries {
		// A stale L2 entry stays out of L1 so every instance keeps noticing it needs a refresh.
		if e.Found && !e.Stale && !t.drops.since(keys[i], began) {
			fill = append(fill, Item{Key: keys[i], Value: e.Value, TTL: t.l1TTL})
			at = append(at, i)
		}
	}
	if len(fill) == 0 {
		return entries, nil
	}
	held := make([]Entry, len(fill))
	t.l1.setFrom(began, fill, true, held)
	for j, i := range at {
		entries[i] = held[j]
	}
	return entries, nil
}

// l2Read is one L2 read that callers asking for the same keys may join (readL2).
type l2Read struct {
	keys    []string
	began   time.Time
	done    chan struct{} // closed when entries and err are set
	entries []Entry
	err     error
	joined  int // callers waiting for it, under fillMu (tests)
}

// SetMany implements Cache: the items go to L2 as given and to L1 for min(TTL, L1 TTL) without grace.
func (t *Tiered) SetMany(ctx context.Context, items []Item) error {
	if err := validate(items); err != nil {
		return err
	}
	written := t.now()
	items = t.notSuperseded(items)
	if len(items) == 0 {
		return nil
	}
	if err := t.l2.SetMany(ctx, items); err != nil {
		return fmt.Errorf("cache: l2: %w", err)
	}
	local := make([]Item, len(items))
	for i, it := range items {
		local[i] = Item{Key: it.Key, Value: it.Value, TTL: min(it.TTL, t.l1TTL)}
	}
	// Counted from before the L2 write, like a fill from L2: a slow L2 call that straddled a delete cannot stretch
	// the staleness bound.
	t.fill(written, local)
	return nil
}

// notSuperseded drops the items read from their source (ReadAt) no later than an invalidation of their key this
// instance saw, by its own delete or a broadcast: a fetch that began before the change at the provider must not
// write the old value back for a whole TTL. A broadcast arriving after the write cannot undo it, so across instances
// this narrows that race to the broadcast's delay rather than closing it.
func (t *Tiered) notSuperseded(items []Item) []Item {
	t.fillMu.Lock()
	defer t.fillMu.Unlock()
	return slices.DeleteFunc(slices.Clone(items), func(it Item) bool {
		return !it.ReadAt.IsZero() && t.drops.since(it.Key, it.ReadAt)
	})
}

// clock is the time Loader stamps ReadAt with, so it compares with the drop times.
func (t *Tiered) clock() time.Time { return t.now() }

// fill puts items written to L2 at since into L1, for the L1 TTL counted from since, except the keys dropped at or
// after since: their value may be the one the drop was about. (readFrom fills L1 the same way from L2 reads.)
func (t *Tiered) fill(since time.Time, items []Item) {
	t.fillMu.Lock()
	defer t.fillMu.Unlock()
	items = slices.DeleteFunc(items, func(it Item) bool { return t.drops.since(it.Key, since) })
	t.l1.setFrom(since, items, false, nil)
}

// DeleteMany implements Cache: it deletes from L2, then L1, then tells the other instances. Broadcasting to this
// instance too also drops a value a concurrent GetMany read from L2 just before the delete and put back into L1.
// If the L2 delete failed (ErrUnavailable), L1 is still cleared but nothing is broadcast (Redis is unreachable) and
// the error is returned: the old value may still be in L2.
func (t *Tiered) DeleteMany(ctx context.Context, keys []string) error {
	l2Err := t.l2.DeleteMany(ctx, keys)
	t.dropL1(keys)
	if l2Err != nil {
		return fmt.Errorf("cache: l2: %w", l2Err)
	}
	if t.inv != nil {
		t.inv.PublishInvalidation(ctx, keys)
	}
	return nil
}

// Memoize implements Memoizer on L1: only a value read from L1 (whose entry holds those very bytes) is memoized, so a
// decoded form lives no longer than the L1 copy, and every invalidation that drops the copy drops it too.
func (t *Tiered) Memoize(key string, value []byte, decoded any) { t.l1.Memoize(key, value, decoded) }

func (t *Tiered) resubscribed() {
	t.l1.Purge()
	t.readyOnce.Do(func() { close(t.ready) })
}

func (t *Tiered) dropL1(keys []string) {
	t.fillMu.Lock()
	defer t.fillMu.Unlock()
	_ = t.l1.DeleteMany(context.Background(), keys) // Memory.DeleteMany cannot fail
	t.drops.add(keys, t.now(), max(t.l1TTL, dropMemory))
}

// dropMemory is how long drops are remembered for notSuperseded: longer than any fetch from a provider (their
// timeouts are seconds), so a fetch that straddled an invalidation is still recognised when it writes back.
const dropMemory = 30 * time.Second

// recentDrops is the set of keys dropped recently (the longer of the L1 TTL and dropMemory), with when. Older drops
// cannot matter: a fill that began before them would have expired by now, and no fetch takes that long. Its size is
// the number of keys invalidated in that time.
type recentDrops struct {
	at    map[string]time.Time
	order []droppedKey // oldest first
}

type droppedKey struct {
	key string
	at  time.Time
}

func (d *recentDrops) add(keys []string, now time.Time, keep time.Duration) {
	if d.at == nil {
		d.at = make(map[string]time.Time)
	}
	n := 0
	for n < len(d.order) && now.Sub(d.order[n].at) > keep {
		if d.at[d.order[n].key].Equal(d.order[n].at) {
			delete(d.at, d.order[n].key)
		}
		n++
	}
	d.order = d.order[n:]
	for _, k := range keys {
		d.at[k] = now
		d.order = append(d.order, droppedKey{k, now})
	}
}

// since reports whether key was dropped at or after t.
func (d *recentDrops) since(key string, t time.Time) bool {
	at, ok := d.at[key]
	return ok && !at.Before(t)
}
