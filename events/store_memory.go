package events

import (
	"context"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// MemoryConfig bounds a MemoryStore.
type MemoryConfig struct {
	// Retention is how long events and counters are kept (default
	// DefaultRetention).
	Retention time.Duration
	// LogCap is how many raw events are kept (default 20,000). Every event
	// held is live heap, which the collector's goal triples (GOGC=200, see
	// gctune): 100,000 events (some 25 MB) took the shipped binary without
	// Redis past its 80 MiB soft memory limit on one core, and its p99 on
	// the cached list of 50 to a second. A gateway that needs a longer log
	// keeps it in Redis (RedisStore).
	LogCap int
	// HistoryCap is how many events are kept per user (default 200).
	HistoryCap int
	// Users is how many users' histories are kept, least recently active
	// dropped first (default 100,000).
	Users int
	// Distinct is how many distinct fields each counter family keeps per
	// hour; later new ones are counted under "other" (default
	// DefaultDistinct).
	Distinct int
	// Fields bounds the counter fields of all hours together (default
	// 200,000, some 60 MB at worst): past it the oldest hours are dropped
	// before their retention ends, so a flood of distinct queries costs
	// history, never unbounded memory.
	Fields int
	// Now is the clock that decides what is past retention (default
	// time.Now).
	Now func() time.Time
}

// MemoryStore is the in-process Store, for a single gateway instance or
// development. It is bounded in every dimension: events are bounded in size
// (Event texts are cut to MaxText), the log in length, histories in length
// and number, counters per family and hour and in all.
type MemoryStore struct {
	cfg     MemoryConfig
	mu      sync.Mutex
	log     eventRing
	counts  Counts
	fields  int // counter fields in counts
	history *lru.Cache[string, []Event]
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty in-process store.
func NewMemoryStore(cfg MemoryConfig) *MemoryStore {
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.LogCap <= 0 {
		cfg.LogCap = 20_000
	}
	if cfg.HistoryCap <= 0 {
		cfg.HistoryCap = 200
	}
	if cfg.Users <= 0 {
		cfg.Users = 100_000
	}
	if cfg.Distinct <= 0 {
		cfg.Distinct = DefaultDistinct
	}
	if cfg.Fields <= 0 {
		cfg.Fields = 200_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h, _ := lru.New[string, []Event](cfg.Users) // only fails for a size <= 0
	return &MemoryStore{cfg: cfg, counts: Counts{}, history: h, log: newEventRing(cfg.LogCap)}
}

func (m *MemoryStore) cutoff() time.Time { return m.cfg.Now().Add(-m.cfg.Retention) }

// Append implements Store.
func (m *MemoryStore) Append(_ context.Context, evs []Event) error { return m.appendEvents(evs, true) }

// appendBounded is Append of events the Recorder bounded when they were
// queued (boundedAppender).
func (m *MemoryStore) appendBounded(_ context.Context, evs []Event) error {
	return m.appendEvents(evs, false)
}

func (m *MemoryStore) appendEvents(evs []Event, bound bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ev := range evs {
		if bound {
			ev = ev.bounded()
		}
		m.log.add(ev)
		if ev.User == "" {
			continue
		}
		h, _ := m.history.Get(ev.User)
		h = append([]Event{ev}, h[:min(len(h), m.cfg.HistoryCap-1)]...)
		m.history.Add(ev.User, h)
	}
	return nil
}

// Add implements Store. Buckets past retention are dropped here, and the
// oldest ones too while the fields of all buckets exceed cfg.Fields.
func (m *MemoryStore) Add(_ context.Context, c Counts) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for h, fields := range c {
		for f, n := range fields {
			m.fields += m.counts.addCapped(h, f, n, m.cfg.Distinct)
		}
	}
	oldest := hourOf(m.cutoff())
	for h, fields := range m.counts {
		if h < oldest {
			m.fields -= len(fields)
			delete(m.counts, h)
		}
	}
	for m.fields > m.cfg.Fields && len(m.counts) > 1 {
		h := slices.Min(slices.Collect(maps.Keys(m.counts)))
		m.fields -= len(m.counts[h])
		delete(m.counts, h)
	}
	return nil
}

// Counts implements Store.
func (m *MemoryStore) Counts(_ context.Context, from, to time.Time) (Counts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := Counts{}
	lo, hi := hourOf(maxTime(from, m.cutoff())), to.Unix()
	for h, fields := range m.counts {
		if h >= lo && h < hi {
			cp := make(map[string]int64, len(fields))
			for f, n := range fields {
				cp[f] = n
			}
			out[h] = cp
		}
	}
	return out, nil
}

// Log implements Store.
func (m *MemoryStore) Log(_ context.Context, from, to time.Time) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	from = maxTime(from, m.cutoff())
	var out []Event
	for i := range m.log.size {
		ev := *m.log.at(i)
		if !ev.Time.Before(from) && ev.Time.Before(to) {
			out = append(out, ev)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// History implements Store.
func (m *MemoryStore) History(_ context.Context, user string, n int) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, _ := m.history.Peek(user)
	cut := m.cutoff()
	var out []Event
	for _, ev := range h {
		if len(out) == n {
			break
		}
		if !ev.Time.Before(cut) {
			out = append(out, ev)
		}
	}
	return out, nil
}

// Forget implements Store.
func (m *MemoryStore) Forget(_ context.Context, user string) error {
	m.history.Remove(user)
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// eventRing is the raw log: the last cap events, oldest overwritten first. It
// grows a chunk at a time up to cap and never moves what it holds: growing
// one slice of tens of thousands of events by doubling copied megabytes and left the old
// arrays to the collector while the log filled, at the rate requests record.
type eventRing struct {
	chunks [][]Event
	cap    int
	size   int // events held, up to cap
	next   int // the oldest event, overwritten next, once size == cap
}

// ringChunk is how many events one chunk holds (some 240 KB).
const ringChunk = 1024

func newEventRing(capacity int) eventRing {
	return eventRing{chunks: make([][]Event, (capacity+ringChunk-1)/ringChunk), cap: capacity}
}

func (r *eventRing) add(ev Event) {
	i := r.next
	if r.size < r.cap {
		i = r.size
		r.size++
	} else {
		r.next = (r.next + 1) % r.cap
	}
	c := i / ringChunk
	if r.chunks[c] == nil {
		r.chunks[c] = make([]Event, min(ringChunk, r.cap-c*ringChunk))
	}
	r.chunks[c][i%ringChunk] = ev
}

// at returns the i-th oldest event held (0 <= i < size).
func (r *eventRing) at(i int) *Event {
	j := (r.next + i) % r.cap
	return &r.chunks[j/ringChunk][j%ringChunk]
}
