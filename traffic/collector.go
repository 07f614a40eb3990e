package traffic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plaza-gateway/plaza/events"
)

// DefaultMaxRows bounds one roll-up in memory: past it, events that would
// add a new row are dropped (and counted), whatever clients send between
// two flushes. 100,000 rows is some 20 MB at worst.
const DefaultMaxRows = 100_000

// maxPending is how many roll-ups that failed to apply are kept to retry,
// with their IDs, so a store that timed out after committing is not
// counted twice. Older ones are dropped (and counted).
const maxPending = 8

// Collector rolls events up in memory and applies the roll-up to a Store
// on Flush. It is safe for concurrent use; Observe never blocks on the
// store. It is built before the store is chosen (the recorder it feeds
// starts first), so Flush and Run take the store.
type Collector struct {
	log      *slog.Logger
	maxRows  int
	low      int
	instance string

	mu      sync.Mutex
	cur     *Rollup
	refused int
	seq     uint64

	// flushMu serialises flushes, which own pending.
	flushMu sync.Mutex
	pending []*Rollup

	dropped atomic.Uint64
}

// CollectorOption configures a Collector.
type CollectorOption func(*Collector)

// WithMaxRows sets the most rows one roll-up holds (DefaultMaxRows).
func WithMaxRows(n int) CollectorOption { return func(c *Collector) { c.maxRows = max(n, 1) } }

// WithLowResults sets the most results a low-result search finds
// (DefaultLowResults).
func WithLowResults(n int) CollectorOption { return func(c *Collector) { c.low = max(n, 1) } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) CollectorOption { return func(c *Collector) { c.log = l } }

// NewCollector returns an empty collector.
func NewCollector(opts ...CollectorOption) *Collector {
	var b [6]byte
	_, _ = rand.Read(b[:])
	c := &Collector{log: slog.Default(), maxRows: DefaultMaxRows, low: DefaultLowResults, instance: hex.EncodeToString(b[:])}
	for _, o := range opts {
		o(c)
	}
	c.cur = c.next()
	return c
}

// next starts the next roll-up; c.mu is held (or c is being built).
func (c *Collector) next() *Rollup {
	c.seq++
	return NewRollup(c.instance + "-" + strconv.FormatUint(c.seq, 10))
}

// Sink is the collector as an events.Sink.
func (c *Collector) Sink() events.Sink { return c.Observe }

// Observe adds evs to the current roll-up.
func (c *Collector) Observe(evs []events.Event) {
	c.mu.Lock()
	a := adder{r: c.cur, max: c.maxRows, low: c.low}
	for _, ev := range evs {
		a.add(ev)
	}
	c.refused += a.refused
	c.mu.Unlock()
}

// Dropped is how many events (or parts of one) were not rolled up: past a
// roll-up's row bound, or in a roll-up the store kept failing.
func (c *Collector) Dropped() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped.Load() + uint64(c.refused)
}

// Flush applies what was observed so far to store, and first any roll-up
// an earlier flush failed to apply (under its own ID, so it counts once).
// It returns the first failure; the failed roll-ups stay pending.
func (c *Collector) Flush(ctx context.Context, store Store) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	if c.cur.Len() > 0 {
		c.pending = append(c.pending, c.cur)
		c.cur = c.next()
	}
	c.mu.Unlock()
	for len(c.pending) > maxPending {
		c.dropped.Add(uint64(c.pending[0].Len()))
		c.log.Warn("traffic: roll-up dropped after repeated failures", "id", c.pending[0].ID, "rows", c.pending[0].Len())
		c.pending = c.pending[1:]
	}
	for len(c.pending) > 0 {
		if _, err := store.Apply(ctx, c.pending[0]); err != nil {
			return err
		}
		c.pending = c.pending[1:]
	}
	return nil
}

// Run flushes to store every interval until ctx is done, then once more
// (with a short deadline of its own).
func (c *Collector) Run(ctx context.Context, store Store, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := c.Flush(ctx, store); err != nil && ctx.Err() == nil {
				c.log.Warn("traffic: roll-up not applied; retried at the next flush", "err", err)
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if err := c.Flush(fctx, store); err != nil {
				c.log.Warn("traffic: last roll-up not applied", "err", err)
			}
			cancel()
			return
		}
	}
}
