package traffic

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// appliedTTL is how long a store remembers an applied roll-up's ID: far
// longer than a Collector retries one (maxPending flushes).
const appliedTTL = 7 * 24 * time.Hour

// MemoryStore keeps roll-ups in process: the embedded default. Rows are
// grouped by provider (and demand by vertical), so a read walks the rows of
// one provider only.
type MemoryStore struct {
	now func() time.Time

	mu      sync.RWMutex
	daily   map[string]map[DailyKey]Counts
	queries map[string]map[QueryKey]QueryCounts
	demand  map[string]map[DemandKey]DemandCounts
	applied map[string]time.Time
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store; now may be nil (time.Now).
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, daily: map[string]map[DailyKey]Counts{}, queries: map[string]map[QueryKey]QueryCounts{},
		demand: map[string]map[DemandKey]DemandCounts{}, applied: map[string]time.Time{}}
}

func group[K comparable, V any](m map[string]map[K]V, g string) map[K]V {
	inner := m[g]
	if inner == nil {
		inner = map[K]V{}
		m[g] = inner
	}
	return inner
}

// Apply implements Store.
func (s *MemoryStore) Apply(_ context.Context, r *Rollup) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, done := s.applied[r.ID]; done {
		return false, nil
	}
	s.applied[r.ID] = s.now()
	for k, c := range r.Daily {
		m := group(s.daily, k.Provider)
		v := m[k]
		v.add(c)
		m[k] = v
	}
	for k, c := range r.Queries {
		m := group(s.queries, k.Provider)
		v := m[k]
		v.add(c)
		m[k] = v
	}
	for k, c := range r.Demand {
		m := group(s.demand, k.Vertical)
		v := m[k]
		v.add(c)
		m[k] = v
	}
	return true, nil
}

func span(r Range) (from, to int32, err error) {
	f, t, err := r.Days()
	return DayNumber(f), DayNumber(t), err
}

// Daily implements Store.
func (s *MemoryStore) Daily(_ context.Context, provider string, r Range, city string) ([]Row, error) {
	from, to, err := span(r)
	if err != nil {
		return nil, err
	}
	city = NormalizeCity(city)
	s.mu.RLock()
	var out []Row
	for k, c := range s.daily[provider] {
		if k.Day >= from && k.Day < to && (city == "" || k.City == city) {
			out = append(out, Row{Day: DayTime(k.Day), City: k.City, Counts: c})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Row) int { return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.City, b.City)) })
	return out, nil
}

// TopQueries implements Store.
func (s *MemoryStore) TopQueries(_ context.Context, provider string, r Range, city string, limit int) ([]QueryRow, error) {
	from, to, err := span(r)
	if err != nil {
		return nil, err
	}
	city = NormalizeCity(city)
	type qc struct{ query, city string }
	per := map[qc]QueryCounts{}
	s.mu.RLock()
	for k, c := range s.queries[provider] {
		if k.Day >= from && k.Day < to && (city == "" || k.City == city) {
			v := per[qc{k.Query, k.City}]
			v.add(c)
			per[qc{k.Query, k.City}] = v
		}
	}
	s.mu.RUnlock()
	out := make([]QueryRow, 0, len(per))
	for k, c := range per {
		out = append(out, QueryRow{Query: k.query, City: k.city, QueryCounts: c})
	}
	slices.SortFunc(out, func(a, b QueryRow) int {
		return cmp.Or(cmp.Compare(b.Impressions, a.Impressions), cmp.Compare(a.Query, b.Query), cmp.Compare(a.City, b.City))
	})
	return out[:min(len(out), checkLimit(limit))], nil
}

// Demand implements Store.
func (s *MemoryStore) Demand(_ context.Context, verticals, cities []string, r Range, limit int) ([]DemandRow, error) {
	from, to, err := span(r)
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, c := range cities {
		in[NormalizeCity(c)] = true
	}
	type qc struct{ query, city string }
	per := map[qc]DemandCounts{}
	s.mu.RLock()
	for _, v := range slices.Compact(slices.Sorted(slices.Values(verticals))) {
		for k, c := range s.demand[v] {
			if k.Day >= from && k.Day < to && in[k.City] {
				d := per[qc{k.Query, k.City}]
				d.add(c)
				per[qc{k.Query, k.City}] = d
			}
		}
	}
	s.mu.RUnlock()
	out := make([]DemandRow, 0, len(per))
	for k, d := range per {
		if d.ZeroResults+d.LowResults > 0 {
			out = append(out, DemandRow{Query: k.query, City: k.city, DemandCounts: d})
		}
	}
	sortDemand(out)
	return out[:min(len(out), checkLimit(limit))], nil
}

// sortDemand orders demand by unserved searches (zero + low), most first,
// then by query and city.
func sortDemand(out []DemandRow) {
	slices.SortFunc(out, func(a, b DemandRow) int {
		return cmp.Or(cmp.Compare(b.ZeroResults+b.LowResults, a.ZeroResults+a.LowResults), cmp.Compare(a.Query, b.Query), cmp.Compare(a.City, b.City))
	})
}

// Prune implements Store: rows of days before before are dropped, and
// applied IDs older than appliedTTL forgotten.
func (s *MemoryStore) Prune(_ context.Context, before time.Time) error {
	cut := DayNumber(dayOf(before))
	s.mu.Lock()
	defer s.mu.Unlock()
	pruneGroups(s.daily, func(k DailyKey) bool { return k.Day < cut })
	pruneGroups(s.queries, func(k QueryKey) bool { return k.Day < cut })
	pruneGroups(s.demand, func(k DemandKey) bool { return k.Day < cut })
	for id, at := range s.applied {
		if s.now().Sub(at) > appliedTTL {
			delete(s.applied, id)
		}
	}
	return nil
}

func pruneGroups[K comparable, V any](m map[string]map[K]V, old func(K) bool) {
	for g, inner := range m {
		for k := range inner {
			if old(k) {
				delete(inner, k)
			}
		}
		if len(inner) == 0 {
			delete(m, g)
		}
	}
}
