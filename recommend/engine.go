package recommend

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plaza-gateway/plaza/citytz"
)

// Engine learns from interaction events and answers recommendation requests.
// Observe and Recommend may be called concurrently: learned state sits
// behind a read-write lock, requests only read it, and all heavy work
// (co-occurrence, periodicity, trends) is done incrementally in Observe.
//
// State is bounded: at most HistoryCap events per user, 2*TopK neighbour
// counters per item, city counters pruned once they decay below MinCounter,
// users dropped after UserTTL without events. The item table grows with the
// catalogue (items are interned, never forgotten).
type Engine struct {
	cfg   Config
	kindW [numKinds]float64
	now   func() time.Time
	// params are swapped whole by SetParams; requests load them once.
	params atomic.Pointer[Params]

	mu       sync.RWMutex
	ids      map[string]int32
	items    []itemState
	users    map[string]*userState
	cities   map[string]*cityState
	trend    forwardDecay
	pop      forwardDecay
	popTotal float64 // sum of every item's pop, the denominator of popularity shares
	popTotH  popHistory
	started  bool
	latest   int64 // latest event time seen, the clock pruning runs on
	sincePrn int
}

type itemState struct {
	Item
	pop  float64    // global popularity, PopularityHalfLife decay
	popH popHistory // pop by day, for requests dated in the past
	// occ counts "new in the user's window" occurrences; the denominator that
	// turns co-occurrence counts into a cosine similarity.
	occ   float64
	neigh map[int32]float32
	// kind is the latest substantial kind of interaction with the item, the
	// verb reasons use for it.
	kind EventKind
	// Repeat-gap statistics across users, in log-days.
	gapN     int
	gapSum   float64
	gapSumSq float64
}

type obs struct {
	item int32
	kind EventKind
	t    int64
}

type userState struct {
	hist     []obs // oldest first, at most HistoryCap
	lastSeen int64
	city     string
}

type cityState struct {
	items    map[int32]*trendCounter
	popTotal float64 // sum of the items' pop
	popTotH  popHistory
}

type trendCounter struct {
	all     float64
	bucket  [numBuckets]float64
	weekday [7]float64
	pop     float64
	popH    popHistory
}

// Option customises an Engine.
type Option func(*Engine)

// WithClock sets the clock used when a Request carries no Now.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// New returns an empty engine. Zero or negative sizes in cfg fall back to
// DefaultConfig's.
func New(cfg Config, opts ...Option) *Engine {
	cfg = cfg.withDefaults()
	e := &Engine{
		cfg:    cfg,
		now:    time.Now,
		ids:    make(map[string]int32),
		users:  make(map[string]*userState),
		cities: make(map[string]*cityState),
		trend:  newForwardDecay(cfg.HalfLife),
		pop:    newForwardDecay(cfg.PopularityHalfLife),
	}
	for k := range e.kindW {
		e.kindW[k] = 1
	}
	for k, w := range cfg.KindWeights {
		if k < numKinds {
			e.kindW[k] = w
		}
	}
	p := cfg.DefaultParams()
	e.params.Store(&p)
	for _, o := range opts {
		o(e)
	}
	return e
}

// Config returns the engine's effective configuration.
func (e *Engine) Config() Config { return e.cfg }

// AddItems registers or updates item metadata. Metadata set here wins over
// the Category and City carried by events.
func (e *Engine) AddItems(items ...Item) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, it := range items {
		idx := e.intern(it.ID)
		st := &e.items[idx]
		st.Item = it
		st.Tags = slices.Clone(it.Tags)
	}
}

func (e *Engine) intern(id string) int32 {
	if idx, ok := e.ids[id]; ok {
		return idx
	}
	idx := int32(len(e.items))
	e.ids[id] = idx
	e.items = append(e.items, itemState{Item: Item{ID: id}})
	return idx
}

// Consume observes events from ch until it is closed or ctx is done.
func (e *Engine) Consume(ctx context.Context, ch <-chan Event) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-ch:
			if !ok {
				return nil
			}
			e.Observe(ev)
		}
	}
}

// Forget drops everything the engine holds about one user's own history
// (for an opt-out or erasure request). Aggregates already learned from the
// user's events (co-occurrence, trends) are anonymous counts and stay.
func (e *Engine) Forget(userID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.users, userID)
}

// Observe learns from events. Events should arrive roughly in time order;
// late events are accepted and counted, but do not produce repeat gaps.
// Events without a user or item are ignored.
func (e *Engine) Observe(events ...Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range events {
		e.observe(&events[i])
	}
}

func (e *Engine) observe(ev *Event) {
	if ev.UserID == "" || ev.ItemID == "" {
		return
	}
	t := ev.Time.Unix()
	if !e.started {
		e.started = true
		e.trend.landmark, e.pop.landmark = t, t
	}
	e.shiftLandmarks(t)
	if t > e.latest {
		e.latest = t
	}
	kind := ev.Kind
	if kind >= numKinds {
		kind = Unknown
	}
	kw := e.kindW[kind]
	idx := e.intern(ev.ItemID)
	it := &e.items[idx]
	if it.Category == "" {
		it.Category = ev.Category
	}
	if it.City == "" {
		it.City = ev.City
	}
	pw := kw * e.pop.weight(t)
	it.pop += pw
	e.popTotal += pw
	if keep := e.cfg.PopularityDays; keep > 0 {
		it.popH.add(unixDay(t), pw, keep)
		e.popTotH.add(unixDay(t), pw, keep)
	}
	if kw >= substantial || it.kind == Unknown {
		it.kind = kind
	}

	u := e.users[ev.UserID]
	if u == nil {
		u = &userState{hist: make([]obs, 0, min(e.cfg.HistoryCap, 16))}
		e.users[ev.UserID] = u
	}
	if ev.City != "" {
		u.city = ev.City
		e.observeCity(ev, idx, kw, t)
	}
	e.learnPairs(u, idx, kw, t)
	if len(u.hist) == e.cfg.HistoryCap {
		// Drop the oldest quarter at once so appends stay amortised O(1).
		n := copy(u.hist, u.hist[len(u.hist)/4:])
		u.hist = u.hist[:n]
	}
	u.hist = append(u.hist, obs{item: idx, kind: kind, t: t})
	if t > u.lastSeen {
		u.lastSeen = t
	}

	e.sincePrn++
	if e.sincePrn >= e.cfg.PruneEvery {
		e.prune()
	}
}

func (e *Engine) observeCity(ev *Event, idx int32, kw float64, t int64) {
	c := e.cities[ev.City]
	if c == nil {
		c = &cityState{items: make(map[int32]*trendCounter)}
		e.cities[ev.City] = c
	}
	tc := c.items[idx]
	if tc == nil {
		tc = &trendCounter{}
		c.items[idx] = tc
	}
	w := kw * e.trend.weight(t)
	tc.all += w
	// Time of day and weekday as the city lives them, whatever zone the
	// event was stamped in.
	local := citytz.In(ev.Time, ev.City)
	tc.bucket[timeBucket(local)] += w
	tc.weekday[local.Weekday()] += w
	pw := kw * e.pop.weight(t)
	tc.pop += pw
	c.popTotal += pw
	if keep := e.cfg.PopularityDays; keep > 0 {
		tc.popH.add(unixDay(t), pw, keep)
		c.popTotH.add(unixDay(t), pw, keep)
	}
}

// substantial is the kind weight from which an interaction counts as doing
// the thing (ordering, booking) rather than browsing.
const substantial = 0.5

// maxPairItems bounds the distinct items of a user's window that a new
// event is paired with, which bounds the cost of one Observe.
const maxPairItems = 30

// learnPairs updates co-occurrence and repeat gaps for a new event of u on
// item b at t, before the event joins u's history.
func (e *Engine) learnPairs(u *userState, b int32, kw float64, t int64) {
	window := int64(e.cfg.CoWindow / time.Second)
	var recent [maxPairItems]int32
	var recentW [maxPairItems]float64
	n := 0
	inWindow := false
	gapFound := false
	for i := len(u.hist) - 1; i >= 0; i-- {
		o := u.hist[i]
		if !gapFound && o.item == b && kw >= substantial && e.kindW[o.kind] >= substantial {
			gapFound = true
			if gap := float64(t-o.t) / 86400; gap >= 1 {
				l := math.Log(gap)
				it := &e.items[b]
				it.gapN++
				it.gapSum += l
				it.gapSumSq += l * l
			}
		}
		if t-o.t > window || t < o.t {
			continue
		}
		if o.item == b {
			inWindow = true
			continue
		}
		if n < maxPairItems && !slices.Contains(recent[:n], o.item) {
			recent[n], recentW[n] = o.item, e.kindW[o.kind]
			n++
		}
	}
	if inWindow {
		return
	}
	e.items[b].occ += kw
	for i := range n {
		w := float32(min(kw, recentW[i]))
		if w <= 0 {
			continue
		}
		e.addNeighbour(b, recent[i], w)
		e.addNeighbour(recent[i], b, w)
	}
}

func (e *Engine) addNeighbour(a, b int32, w float32) {
	it := &e.items[a]
	if it.neigh == nil {
		it.neigh = make(map[int32]float32)
	}
	it.neigh[b] += w
	if len(it.neigh) > 2*e.cfg.TopK {
		keepTop(it.neigh, e.cfg.TopK)
	}
}

// keepTop deletes all but the k strongest entries (ties kept by lower index,
// so pruning is deterministic).
func keepTop(m map[int32]float32, k int) {
	type kv struct {
		k int32
		v float32
	}
	all := make([]kv, 0, len(m))
	for key, v := range m {
		all = append(all, kv{key, v})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if a.v != b.v {
			if a.v > b.v {
				return -1
			}
			return 1
		}
		return int(a.k - b.k)
	})
	for _, x := range all[k:] {
		delete(m, x.k)
	}
}

func (e *Engine) shiftLandmarks(t int64) {
	if f, ok := e.trend.needsShift(t); ok {
		e.trend.landmark = t
		for _, c := range e.cities {
			for _, tc := range c.items {
				tc.all *= f
				for i := range tc.bucket {
					tc.bucket[i] *= f
				}
				for i := range tc.weekday {
					tc.weekday[i] *= f
				}
			}
		}
	}
	if f, ok := e.pop.needsShift(t); ok {
		e.pop.landmark = t
		e.popTotal *= f
		e.popTotH.scale(f)
		for i := range e.items {
			e.items[i].pop *= f
			e.items[i].popH.scale(f)
		}
		for _, c := range e.cities {
			c.popTotal *= f
			c.popTotH.scale(f)
			for _, tc := range c.items {
				tc.pop *= f
				tc.popH.scale(f)
			}
		}
	}
}

// prune drops decayed city counters and idle users, on the event clock so
// the outcome does not depend on when the process happens to run.
func (e *Engine) prune() {
	e.sincePrn = 0
	now := e.latest
	for name, c := range e.cities {
		for idx, tc := range c.items {
			if e.trend.at(tc.all, now) < e.cfg.MinCounter && e.pop.at(tc.pop, now) < e.cfg.MinCounter {
				delete(c.items, idx)
			}
		}
		if len(c.items) == 0 {
			delete(e.cities, name)
		}
	}
	if e.cfg.UserTTL > 0 {
		cutoff := now - int64(e.cfg.UserTTL/time.Second)
		for id, u := range e.users {
			if u.lastSeen < cutoff {
				delete(e.users, id)
			}
		}
	}
}

// Stats describes the size of the learned state.
type Stats struct {
	Items         int
	Users         int
	Cities        int
	CityCounters  int
	MaxNeighbours int // largest neighbour list of any item
	MaxHistory    int // longest per-user history
}

// Stats reports the size of the learned state.
func (e *Engine) Stats() Stats {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s := Stats{Items: len(e.items), Users: len(e.users), Cities: len(e.cities)}
	for _, c := range e.cities {
		s.CityCounters += len(c.items)
	}
	for i := range e.items {
		s.MaxNeighbours = max(s.MaxNeighbours, len(e.items[i].neigh))
	}
	for _, u := range e.users {
		s.MaxHistory = max(s.MaxHistory, len(u.hist))
	}
	return s
}

// popHistory is a running total of forward-decayed popularity at the end
// of each day with events, so a request dated in the past (an offline
// evaluation, a backfill) reads popularity as of its own day instead of a
// future it could not have known. It is kept only with
// Config.PopularityDays, for that many days with events.
type popHistory struct {
	days    []dayTotal
	trimmed bool // older days were dropped: earlier days are unknown
}

type dayTotal struct {
	day int32
	cum float64 // every weight up to and including day
}

func unixDay(t int64) int32 {
	if t < 0 {
		return int32((t - 86399) / 86400)
	}
	return int32(t / 86400)
}

// add counts w on day; a late event counts on the latest day kept.
func (h *popHistory) add(day int32, w float64, keep int) {
	n := len(h.days)
	if n > 0 && h.days[n-1].day >= day {
		h.days[n-1].cum += w
		return
	}
	cum := w
	if n > 0 {
		cum += h.days[n-1].cum
	}
	if n >= keep {
		// Drop the oldest quarter at once so appends stay amortised O(1).
		m := copy(h.days, h.days[max(1, n/4):])
		h.days = h.days[:m]
		h.trimmed = true
	}
	h.days = append(h.days, dayTotal{day: day, cum: cum})
}

// before returns the total of the days strictly before day; ok is false
// when the history does not reach back that far.
func (h *popHistory) before(day int32) (v float64, ok bool) {
	i, _ := slices.BinarySearchFunc(h.days, day, func(d dayTotal, day int32) int { return int(d.day - day) })
	if i == 0 {
		return 0, !h.trimmed
	}
	return h.days[i-1].cum, true
}

func (h *popHistory) scale(f float64) {
	for i := range h.days {
		h.days[i].cum *= f
	}
}
