package traffic

import (
	"cmp"
	"slices"
	"time"

	"github.com/plaza-gateway/plaza/events"
)

// DailyKey names a Row: a provider's day (days since 1970-01-01 UTC) in a
// city.
type DailyKey struct {
	Day            int32
	Provider, City string
}

// QueryKey names a provider's QueryCounts on one day, city and query.
type QueryKey struct {
	Day                   int32
	Provider, City, Query string
}

// DemandKey names the DemandCounts of one day, vertical, city and query.
type DemandKey struct {
	Day                   int32
	Vertical, City, Query string
}

// Rollup is a batch of deltas, applied by a Store at once and once by ID.
type Rollup struct {
	ID      string
	Daily   map[DailyKey]Counts
	Queries map[QueryKey]QueryCounts
	Demand  map[DemandKey]DemandCounts
}

// NewRollup returns an empty roll-up named id.
func NewRollup(id string) *Rollup {
	return &Rollup{ID: id, Daily: map[DailyKey]Counts{}, Queries: map[QueryKey]QueryCounts{}, Demand: map[DemandKey]DemandCounts{}}
}

// Len is how many rows r holds.
func (r *Rollup) Len() int { return len(r.Daily) + len(r.Queries) + len(r.Demand) }

// DayNumber is t's day since 1970-01-01 UTC.
func DayNumber(t time.Time) int32 { return int32(t.UTC().Unix() / 86400) }

// DayTime is the midnight UTC of day number d.
func DayTime(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// adder adds events to a roll-up, refusing new rows past max (existing
// rows still count); it reports what it refused.
type adder struct {
	r       *Rollup
	max     int
	low     int
	refused int
}

func (a *adder) room() bool {
	if a.r.Len() < a.max {
		return true
	}
	a.refused++
	return false
}

func (a *adder) daily(k DailyKey, c Counts)         { addTo(a, a.r.Daily, k, c) }
func (a *adder) query(k QueryKey, c QueryCounts)    { addTo(a, a.r.Queries, k, c) }
func (a *adder) demand(k DemandKey, c DemandCounts) { addTo(a, a.r.Demand, k, c) }

// addTo adds c to m[k]; a key new to the roll-up only while it has room.
func addTo[K comparable, V any, P interface {
	*V
	add(V)
}](a *adder, m map[K]V, k K, c V) {
	v, ok := m[k]
	if !ok && !a.room() {
		return
	}
	P(&v).add(c)
	m[k] = v
}

// add rolls one event up: impressions per provider (and, for a search
// with text, per query), the search's demand, clicks, orders with their
// value, bookings. Other kinds (views) add nothing.
func (a *adder) add(ev events.Event) {
	day := DayNumber(ev.Time)
	city := NormalizeCity(ev.City)
	query := NormalizeQuery(ev.Query)
	switch ev.Kind {
	case events.KindSearch:
		for _, im := range ev.Shown {
			if im.Provider == "" {
				continue
			}
			a.daily(DailyKey{day, im.Provider, city}, Counts{SearchImpressions: 1})
			if query != "" {
				a.query(QueryKey{day, im.Provider, city, query}, QueryCounts{Impressions: 1, RankSum: int64(im.Rank), BestRank: im.Rank})
			}
		}
		if query != "" {
			d := DemandCounts{Searches: 1}
			switch {
			case ev.Results == 0:
				d.ZeroResults = 1
			case ev.Results <= a.low:
				d.LowResults = 1
			}
			a.demand(DemandKey{day, ev.Vertical, city, query}, d)
		}
	case events.KindHome:
		for _, im := range ev.Shown {
			if im.Provider != "" {
				a.daily(DailyKey{day, im.Provider, city}, Counts{HomeImpressions: 1})
			}
		}
	case events.KindClick:
		if ev.Provider == "" {
			return
		}
		a.daily(DailyKey{day, ev.Provider, city}, Counts{Clicks: 1})
		if query != "" {
			a.query(QueryKey{day, ev.Provider, city, query}, QueryCounts{Clicks: 1})
		}
	case events.KindOrder:
		if ev.Provider != "" {
			a.daily(DailyKey{day, ev.Provider, city}, Counts{Orders: 1, GMV: ev.Value})
		}
	case events.KindBooking, events.KindConsultation, events.KindApplication:
		if ev.Provider != "" {
			a.daily(DailyKey{day, ev.Provider, city}, Counts{Bookings: 1})
		}
	}
}

// sortedDaily returns r's daily rows in key order: every writer takes row
// locks in this order, so two instances applying at once cannot deadlock.
func (r *Rollup) sortedDaily() []DailyKey {
	keys := make([]DailyKey, 0, len(r.Daily))
	for k := range r.Daily {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b DailyKey) int {
		return cmp.Or(cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Day, b.Day), cmp.Compare(a.City, b.City))
	})
	return keys
}

func (r *Rollup) sortedQueries() []QueryKey {
	keys := make([]QueryKey, 0, len(r.Queries))
	for k := range r.Queries {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b QueryKey) int {
		return cmp.Or(cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Day, b.Day), cmp.Compare(a.City, b.City), cmp.Compare(a.Query, b.Query))
	})
	return keys
}

func (r *Rollup) sortedDemand() []DemandKey {
	keys := make([]DemandKey, 0, len(r.Demand))
	for k := range r.Demand {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b DemandKey) int {
		return cmp.Or(cmp.Compare(a.Vertical, b.Vertical), cmp.Compare(a.Day, b.Day), cmp.Compare(a.City, b.City), cmp.Compare(a.Query, b.Query))
	})
	return keys
}

// checkLimit clamps a list's limit to [1, MaxLimit].
func checkLimit(n int) int { return min(max(n, 1), MaxLimit) }
