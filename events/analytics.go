package events

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Analytics answers the analysts' questions from a Store's hourly counters.
// Ranges are counted by the hour: from is rounded down to its hour, and an
// hour is included when it starts before to.
type Analytics struct{ store Store }

// NewAnalytics returns analytics over store.
func NewAnalytics(store Store) *Analytics { return &Analytics{store: store} }

// Filter narrows search counters; empty fields match everything. City is
// compared case-insensitively.
type Filter struct {
	Vertical string
	City     string
}

func (f Filter) match(vertical, city string) bool {
	return (f.Vertical == "" || f.Vertical == vertical) && (f.City == "" || strings.EqualFold(f.City, city))
}

// BucketCount is the count of one time bucket.
type BucketCount struct {
	Start time.Time
	Count int64
}

// QueryCount is how often one (normalised) query was searched.
type QueryCount struct {
	Query string
	Count int64
}

// ProviderTraffic is one provider's call volume, failures, latency and
// conversions. P50Ms and P99Ms are nil when there were no calls.
type ProviderTraffic struct {
	Provider    string
	Calls       int64
	Errors      int64
	P50Ms       *float64
	P99Ms       *float64
	Conversions int64
}

// Conversion counts the funnel from search to order.
type Conversion struct {
	Searches      int64
	Clicks        int64
	Views         int64
	Orders        int64
	Bookings      int64
	Consultations int64
	Applications  int64
}

// Converted is orders + bookings + consultations + applications.
func (c Conversion) Converted() int64 {
	return c.Orders + c.Bookings + c.Consultations + c.Applications
}

// Rate is Converted per search; ok is false without searches.
func (c Conversion) Rate() (rate float64, ok bool) {
	if c.Searches == 0 {
		return 0, false
	}
	return float64(c.Converted()) / float64(c.Searches), true
}

// SearchVolume returns the number of searches per bucket of width step
// (a multiple of an hour; days start at midnight UTC), every bucket from
// from to to, empty ones included.
func (a *Analytics) SearchVolume(ctx context.Context, from, to time.Time, step time.Duration, f Filter) ([]BucketCount, error) {
	step = max(step.Truncate(Bucket), Bucket)
	counts, err := a.store.Counts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	per := map[int64]int64{}
	for h, fields := range counts {
		for fl, n := range fields {
			p := splitField(fl)
			if p[0] == famSearch && len(p) == 3 && f.match(p[1], p[2]) {
				per[time.Unix(h, 0).UTC().Truncate(step).Unix()] += n
			}
		}
	}
	var out []BucketCount
	for t := from.UTC().Truncate(step); t.Before(to); t = t.Add(step) {
		out = append(out, BucketCount{Start: t, Count: per[t.Unix()]})
	}
	return out, nil
}

// TopQueries returns the limit most searched queries, most first (ties by
// query text). Queries are in their stored form (NormalizeText). Queries
// first seen in an hour after its distinct cap was reached are counted in
// SearchVolume and Conversion but not ranked here.
func (a *Analytics) TopQueries(ctx context.Context, from, to time.Time, limit int, f Filter) ([]QueryCount, error) {
	return a.queries(ctx, famQuery, from, to, limit, f)
}

// ZeroResultQueries returns the limit queries that most often found
// nothing.
func (a *Analytics) ZeroResultQueries(ctx context.Context, from, to time.Time, limit int, f Filter) ([]QueryCount, error) {
	return a.queries(ctx, famZero, from, to, limit, f)
}

func (a *Analytics) queries(ctx context.Context, fam string, from, to time.Time, limit int, f Filter) ([]QueryCount, error) {
	counts, err := a.store.Counts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	per := map[string]int64{}
	for _, fields := range counts {
		for fl, n := range fields {
			p := splitField(fl)
			// The "other" bucket (queries past an hour's distinct cap)
			// names no query, so it is not ranked.
			if p[0] == fam && len(p) == 4 && p[3] != otherPart && f.match(p[1], p[2]) {
				per[p[3]] += n
			}
		}
	}
	out := make([]QueryCount, 0, len(per))
	for q, n := range per {
		out = append(out, QueryCount{Query: q, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Query < out[j].Query
	})
	return out[:min(len(out), max(limit, 0))], nil
}

// ProviderTraffic returns every provider that was called or converted in
// range, ordered by provider.
func (a *Analytics) ProviderTraffic(ctx context.Context, from, to time.Time) ([]ProviderTraffic, error) {
	counts, err := a.store.Counts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	type acc struct {
		ProviderTraffic
		hist []int64
	}
	per := map[string]*acc{}
	get := func(p string) *acc {
		if per[p] == nil {
			per[p] = &acc{ProviderTraffic: ProviderTraffic{Provider: p}, hist: make([]int64, len(latencyBounds)+1)}
		}
		return per[p]
	}
	for _, fields := range counts {
		for fl, n := range fields {
			p := splitField(fl)
			if slices.Contains(p, otherPart) {
				continue // providers past an hour's distinct cap: no provider to report
			}
			switch {
			case p[0] == famCall && len(p) == 2:
				get(p[1]).Calls += n
			case p[0] == famError && len(p) == 2:
				get(p[1]).Errors += n
			case p[0] == famLat && len(p) == 3:
				if i, err := strconv.Atoi(p[2]); err == nil && i >= 0 && i <= len(latencyBounds) {
					get(p[1]).hist[i] += n
				}
			case p[0] == famKind && len(p) == 3 && Kind(p[1]).Conversion() && p[2] != "":
				get(p[2]).Conversions += n
			}
		}
	}
	out := make([]ProviderTraffic, 0, len(per))
	for _, a := range per {
		a.P50Ms, a.P99Ms = quantile(a.hist, 0.5), quantile(a.hist, 0.99)
		out = append(out, a.ProviderTraffic)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out, nil
}

// quantile estimates the q-quantile (ms) of a latency histogram by linear
// interpolation inside the bucket that holds it; nil for an empty one.
func quantile(hist []int64, q float64) *float64 {
	var total int64
	for _, n := range hist {
		total += n
	}
	if total == 0 {
		return nil
	}
	rank := q * float64(total)
	var seen int64
	for i, n := range hist {
		if n == 0 || float64(seen+n) < rank {
			seen += n
			continue
		}
		lo := 0.0
		if i > 0 {
			lo = latencyBounds[i-1]
		}
		if i == len(latencyBounds) {
			return &lo // unbounded bucket: report its lower bound
		}
		v := lo + (latencyBounds[i]-lo)*(rank-float64(seen))/float64(n)
		return &v
	}
	last := latencyBounds[len(latencyBounds)-1]
	return &last
}

// Conversion returns the funnel counts in range.
func (a *Analytics) Conversion(ctx context.Context, from, to time.Time) (Conversion, error) {
	counts, err := a.store.Counts(ctx, from, to)
	if err != nil {
		return Conversion{}, err
	}
	var c Conversion
	for _, fields := range counts {
		for fl, n := range fields {
			p := splitField(fl)
			if p[0] != famKind || len(p) != 3 {
				continue
			}
			switch Kind(p[1]) {
			case KindSearch:
				c.Searches += n
			case KindClick:
				c.Clicks += n
			case KindView:
				c.Views += n
			case KindOrder:
				c.Orders += n
			case KindBooking:
				c.Bookings += n
			case KindConsultation:
				c.Consultations += n
			case KindApplication:
				c.Applications += n
			}
		}
	}
	return c, nil
}
