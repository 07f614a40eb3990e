package events

import (
	"runtime"
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

func (c Counts) add(t time.Time, field string, n int64) { c.addHour(hourOf(t), field, n) }

// addHour adds n to field in the bucket of the hour starting at h.
func (c Counts) addHour(h int64, field string, n int64) {
	m := c[h]
	if m == nil {
		m = map[string]int64{}
		c[h] = m
	}
	m[field] += n
}

// sep joins the parts of a field. It cannot occur in a part: field clips
// every part, which drops control characters.
const sep = "\x1f"

// otherPart replaces the free parts (query, city, item, provider) of a new
// field once its family holds DefaultDistinct (or the configured number of)
// distinct fields in its hour: the count is kept, under "other". It cannot
// occur in a clipped part, so it never names a real query or provider.
const otherPart = "\x00"

// DefaultDistinct is how many distinct fields each counter family keeps per
// hour by default: the 1,000 first distinct queries (or items, cities,
// providers) of an hour are counted one by one, later new ones together
// under "other". It bounds what one hour can cost whatever clients send:
// some 8,000 fields, 3.8 MB of Redis at worst (every text at its longest;
// TestRedisHourIsBoundedAtWorst), so at most about 8 GB over a 90-day
// retention of sustained worst-case abuse, and far less in practice.
const DefaultDistinct = 1000

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
	// famDistinct fields count the distinct fields of one family in the
	// hour (n, family); Analytics ignores them.
	famDistinct = "n"
)

// field joins parts, each clipped (so no part holds sep or otherPart and
// none is longer than an ID).
func field(parts ...string) string {
	for i, p := range parts {
		parts[i] = clip(p, MaxID)
	}
	return strings.Join(parts, sep)
}

func splitField(f string) []string { return strings.Split(f, sep) }

// freeParts are, per family, the indexes of the parts a client or the
// registry can vary without bound; the other parts (family, kind, vertical,
// latency bucket) take a few values each.
func freeParts(fam string) []int {
	switch fam {
	case famSearch, famKind, famItem:
		return []int{2}
	case famQuery, famZero:
		return []int{2, 3}
	case famCall, famError, famLat:
		return []int{1}
	}
	return nil
}

// overflow returns the field that counts f once f's family is full in an
// hour (f with its free parts replaced by otherPart), and the field that
// counts the family's distinct fields. A field of no capped family (such as
// famDistinct) has no distinct field and is its own overflow.
func overflow(f string) (other, distinct string) {
	p := splitField(f)
	free := freeParts(p[0])
	if len(free) == 0 {
		return f, ""
	}
	for _, i := range free {
		if i < len(p) {
			p[i] = otherPart
		}
	}
	return strings.Join(p, sep), famDistinct + sep + p[0]
}

// addCapped adds n to field f of bucket h, or to f's overflow field when
// f is new and its family already has limit distinct fields in h. It
// returns how many fields it created. It is the MemoryStore's form of the
// RedisStore's script: both count the same way.
func (c Counts) addCapped(h int64, f string, n int64, limit int) (created int) {
	m := c[h]
	if m == nil {
		m = map[string]int64{}
		c[h] = m
	}
	if _, ok := m[f]; !ok {
		if other, distinct := overflow(f); distinct != "" {
			if m[distinct] >= int64(limit) {
				f = other
			} else {
				if _, ok := m[distinct]; !ok {
					created++
				}
				m[distinct]++
			}
		}
	}
	if _, ok := m[f]; !ok {
		created++
	}
	m[f] += n
	return created
}

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
//
// The kind and item counters are summed per hour and raw parts first, and
// their fields built once per distinct counter: a batch is mostly the same
// items viewed again (every cached list of 50 shows the same 50), and
// building a field (clipping its parts, joining them: an allocation) for
// each of a batch's thousands of events was most of the writer's counting.
func tally(evs []Event, calls []Call) Counts {
	c := Counts{}
	type kindKey struct {
		hour           int64
		kind, provider string
	}
	type itemKey struct {
		hour       int64
		kind, item string
	}
	kinds := map[kindKey]int64{}
	items := map[itemKey]int64{}
	for i, ev := range evs {
		if i%yieldEvery == yieldEvery-1 {
			runtime.Gosched() // the writer shares the requests' core (RedisStore.Append)
		}
		h := hourOf(ev.Time)
		kinds[kindKey{h, string(ev.Kind), ev.Provider}]++
		switch ev.Kind {
		case KindSearch:
			q := NormalizeText(ev.Query)
			c.add(ev.Time, field(famSearch, ev.Vertical, ev.City), 1)
			c.add(ev.Time, field(famQuery, ev.Vertical, ev.City, q), 1)
			if ev.Results == 0 {
				c.add(ev.Time, field(famZero, ev.Vertical, ev.City, q), 1)
			}
		default:
			if ev.Item != "" {
				items[itemKey{h, string(ev.Kind), ev.Item}]++
			}
			for _, it := range ev.Items {
				items[itemKey{h, string(ev.Kind), it}]++
			}
		}
	}
	for k, n := range kinds {
		c.addHour(k.hour, field(famKind, k.kind, k.provider), n)
	}
	for k, n := range items {
		c.addHour(k.hour, field(famItem, k.kind, k.item), n)
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
