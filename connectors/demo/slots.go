package demo

import (
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"
)

// upcoming copies the slots that start after now.
func upcoming[S any](slots []*S, now time.Time, start func(*S) time.Time) []S {
	out := make([]S, 0, len(slots))
	for _, s := range slots {
		if start(s).After(now) {
			out = append(out, *s)
		}
	}
	return out
}

// randomFree returns a random slot that free accepts, or nil when none does.
// History generation uses it to book real upcoming slots.
func randomFree[S any](rng *rand.Rand, slots []*S, free func(*S) bool) *S {
	for _, i := range rng.Perm(len(slots)) {
		if free(slots[i]) {
			return slots[i]
		}
	}
	return nil
}

// keepPassed is how long a slot stays in memory after it ended: long
// enough for "my orders" to show a recent visit's slot, short enough that a
// provider running for months holds a week or so of slots per owner.
const keepPassed = 24 * time.Hour

// calendar rolls a provider's slots forward with its clock, so every store,
// doctor or office always offers the next days, however long the provider
// has run. The caller holds the provider's lock around due and prune.
type calendar struct {
	days    int
	through time.Time // the last day that has slots
}

// newCalendar is a calendar of days days generated up to day0+days (the
// days the provider generated when it was built on day0).
func newCalendar(day0 time.Time, days int) calendar {
	return calendar{days: days, through: day0.AddDate(0, 0, days)}
}

// behind reports whether now needs days that have no slots yet.
func (c *calendar) behind(now time.Time) bool {
	return startOfDay(now).AddDate(0, 0, c.days).After(c.through)
}

// due returns the days now needs that have no slots yet, and counts them
// as generated.
func (c *calendar) due(now time.Time) []time.Time {
	last := startOfDay(now).AddDate(0, 0, c.days)
	var out []time.Time
	for d := c.through.AddDate(0, 0, 1); !d.After(last); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
	}
	if len(out) > 0 {
		c.through = last
	}
	return out
}

// prune drops the slots of one owner that ended keepPassed before now from
// its list (ordered by start) and from byID.
func prune[S any](list []*S, byID map[string]*S, now time.Time, id func(*S) string, end func(*S) time.Time) []*S {
	n := 0
	for n < len(list) && end(list[n]).Add(keepPassed).Before(now) {
		delete(byID, id(list[n]))
		n++
	}
	return list[n:]
}

// roll brings a provider's slots up to now under mu: a read lock when
// nothing is due (the common case), else the write lock to add each due
// day's slots (add) and prune each owner's passed ones (pruneAll).
func roll(mu *sync.RWMutex, cal *calendar, now time.Time, add func(day time.Time), pruneAll func()) {
	mu.RLock()
	behind := cal.behind(now)
	mu.RUnlock()
	if !behind {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	for _, day := range cal.due(now) {
		add(day)
	}
	pruneAll()
}

// capacityOf is a slot's capacity from its ID, 10 to 30: rolled slots take
// nothing from the provider's random stream, so the data generated at start
// stays as it was.
func capacityOf(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return 10 + int(h.Sum32()%21)
}
