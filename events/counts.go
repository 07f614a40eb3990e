package events

import (
	"strconv"
	"strings"
	"time"
)

// Counts are counter values per hourly bucket: hour start (Unix seconds,
// UTC) -> field -> count. A field names one counter; fields are built by
// the helpers below and never parsed outside this package.
type Counts map[int64]map[string]int64

// Bucket is the counters' resolution.
const Bucket = time.Hour

func hourOf(t time.Time) int64 { return t.Truncate(Bucket).Unix() }

func (c Counts) add(t time.Time, field string, n int64) {
	h := hourOf(t)
	m := c[h]
	if m == nil {
		m = map[string]int64{}
		c[h] = m
	}
	m[field] += n
}

// merge adds o into c.
func (c Counts) merge(o Counts) {
	for h, fields := range o {
		for f, n := range fields {
			c.add(time.Unix(h, 0), f, n)
		}
	}
}

// sep joins the parts of a field. It cannot occur in a normalised query
// (NormalizeQuery splits on whitespace, and the unit separator is not
// whitespace, so it is stripped explicitly in field).
const sep = "\x1f"

// Field families. Each is the first part of a field.
const (
	famSearch = "s" // s, vertical, city: searches
	famQuery  = "q" // q, vertical, city, query: searches of one query
	famZero   = "z" // z, vertical, city, query: searches that found nothing
	famKind   = "k" // k, kind, provider: events of one kind
	famItem   = "i" // i, kind, item: events of one kind about one item
	famCall   = "c" // c, provider: provider calls
	famError  = "e" // e, provider: failed provider calls
	famLat    = "l" // l, provider, bucket index: call latency histogram
)

func field(parts ...string) string {
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, sep, "")
	}
	return strings.Join(parts, sep)
}

func splitField(f string) []string { return strings.Split(f, sep) }

// latencyBounds are the upper bounds (ms) of the latency histogram's
// buckets; the last bucket is unbounded. Quantiles are interpolated inside a
// bucket, so p50/p99 are approximate: good to within one bucket's width.
var latencyBounds = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000}

func latencyBucket(d time.Duration) int {
	ms := float64(d) / float64(time.Millisecond)
	for i, b := range latencyBounds {
		if ms <= b {
			return i
		}
	}
	return len(latencyBounds)
}

// tally turns events and calls into counter deltas. It is the only place
// that decides what is counted, so every Store counts the same way.
func tally(evs []Event, calls []Call) Counts {
	c := Counts{}
	for _, ev := range evs {
		provider := ev.Provider
		c.add(ev.Time, field(famKind, string(ev.Kind), provider), 1)
		switch ev.Kind {
		case KindSearch:
			q := NormalizeQuery(ev.Query)
			c.add(ev.Time, field(famSearch, ev.Vertical, ev.City), 1)
			c.add(ev.Time, field(famQuery, ev.Vertical, ev.City, q), 1)
			if ev.Results == 0 {
				c.add(ev.Time, field(famZero, ev.Vertical, ev.City, q), 1)
			}
		default:
			if ev.Item != "" {
				c.add(ev.Time, field(famItem, string(ev.Kind), ev.Item), 1)
			}
			for _, it := range ev.Items {
				c.add(ev.Time, field(famItem, string(ev.Kind), it), 1)
			}
		}
	}
	for _, call := range calls {
		c.add(call.Time, field(famCall, call.Provider), 1)
		if call.Failed {
			c.add(call.Time, field(famError, call.Provider), 1)
		}
		c.add(call.Time, field(famLat, call.Provider, strconv.Itoa(latencyBucket(call.Duration))), 1)
	}
	return c
}
