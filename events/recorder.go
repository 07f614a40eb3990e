package events

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// Consent tells whether a user allows their events to be recorded.
type Consent interface {
	Personalization(ctx context.Context, user string) (bool, error)
}

// Sink receives every batch of events, in the writer goroutine (the
// recommendation engine learns from it there, never in a request). Events
// of users who opted out come with no user id. evs is the writer's buffer,
// reused for the next batch: a sink copies what it keeps.
type Sink func(evs []Event)

// Recorder buffers events and provider calls and writes them in the
// background. Record and ObserveCall never block and never fail: when the
// buffer is full the entry is dropped and counted (Dropped).
type Recorder struct {
	store   Store
	consent Consent
	sinks   []Sink
	log     *slog.Logger
	now     func() time.Time
	batch   int

	ch      chan entry
	flushes chan chan struct{}
	// evs is the writer's buffer of a batch's events (write), reused: a
	// batch of 2,048 events is half a megabyte.
	evs []Event
	// queued counts the events and calls waiting in ch, which holds up to
	// cap(ch) of them however they are grouped into entries.
	queued  atomic.Int64
	dropped atomic.Uint64
	failed  atomic.Uint64
}

// entry is one offer to the writer: an event, the events of one request
// (RecordMany), or a provider call.
type entry struct {
	ev   Event
	evs  []Event
	call *Call
}

// weight is how many events or calls e holds.
func (e entry) weight() int { return max(len(e.evs), 1) }

// RecorderOption configures a Recorder.
type RecorderOption func(*Recorder)

// WithBuffer sets the buffer size (default 4096 events and calls): the
// burst the writer can fall behind by before entries are dropped.
func WithBuffer(n int) RecorderOption {
	return func(r *Recorder) { r.ch = make(chan entry, max(n, 1)) }
}

// WithBatch sets how many events and calls the writer stores per round trip
// (default 2048; a request's events are never split). The writer's pace is
// its round trips, not its CPU: on a gateway saturating its one core, each
// waits milliseconds for the scheduler, and with 256 events per round trip
// the writer dropped some 70% of a cached list of 50's views at c=16 (18
// Redis commands per query where writing them all takes 90).
func WithBatch(n int) RecorderOption { return func(r *Recorder) { r.batch = max(n, 1) } }

// WithConsent strips the user id from the events of users who opted out
// (they are counted, not logged). Without it every event is recorded as
// it comes.
func WithConsent(c Consent) RecorderOption { return func(r *Recorder) { r.consent = c } }

// WithSink adds a consumer of stored events.
func WithSink(s Sink) RecorderOption { return func(r *Recorder) { r.sinks = append(r.sinks, s) } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) RecorderOption { return func(r *Recorder) { r.log = l } }

// WithClock sets the clock that stamps events recorded without a time.
func WithClock(now func() time.Time) RecorderOption { return func(r *Recorder) { r.now = now } }

// NewRecorder returns a Recorder over store. Call Run to start writing.
func NewRecorder(store Store, opts ...RecorderOption) *Recorder {
	r := &Recorder{store: store, log: slog.Default(), now: time.Now, batch: 2048,
		ch: make(chan entry, 4096), flushes: make(chan chan struct{})}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Record queues ev with its texts bounded (NormalizeText for the search
// text, MaxText for the others), so the buffer, the log and the counters
// hold only the bounded form. It never blocks: if the buffer is full, ev
// is dropped and counted.
func (r *Recorder) Record(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = r.now()
	}
	r.offer(entry{ev: ev.bounded()})
}

// RecordMany queues evs, bounded as Record bounds each, in one offer to the
// writer: what one request did (a view of each of the 50 items of a list)
// costs one channel operation, not one per event. It never blocks: if the
// buffer is full, all of evs are dropped and counted. It keeps evs, which
// the caller must not modify afterwards.
func (r *Recorder) RecordMany(evs []Event) {
	if len(evs) == 0 {
		return
	}
	var now time.Time
	for i := range evs {
		if evs[i].Time.IsZero() {
			if now.IsZero() {
				now = r.now()
			}
			evs[i].Time = now
		}
		evs[i] = evs[i].bounded()
	}
	r.offer(entry{evs: evs})
}

// ObserveCall queues one provider call for the traffic counters
// (gateway.Observer): this is where per-provider traffic is kept, since
// metrics are labelled by vertical only. It never blocks.
func (r *Recorder) ObserveCall(_ connectors.Vertical, provider, op string, _ int, d time.Duration, err error) {
	r.offer(entry{call: &Call{Provider: provider, Op: op, Duration: d, Failed: err != nil, Time: r.now()}})
}

func (r *Recorder) offer(e entry) {
	n := int64(e.weight())
	if r.queued.Add(n) <= int64(cap(r.ch)) {
		select {
		case r.ch <- e:
			return
		default:
		}
	}
	r.queued.Add(-n)
	r.dropped.Add(uint64(n))
}

// take accounts for e leaving the buffer.
func (r *Recorder) take(e entry) entry {
	r.queued.Add(-int64(e.weight()))
	return e
}

// Dropped is how many events and calls were dropped because the buffer was
// full.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// Failed is how many entries were lost because the store failed.
func (r *Recorder) Failed() uint64 { return r.failed.Load() }

// Flush waits until everything queued before the call is stored (tests,
// shutdown). It returns ctx's error if the writer does not get to it.
func (r *Recorder) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case r.flushes <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run writes queued entries until ctx is done, then stores what is still
// buffered (with a short deadline of its own) and returns.
func (r *Recorder) Run(ctx context.Context) error {
	buf := make([]entry, 0, r.batch)
	for {
		select {
		case e := <-r.ch:
			buf = r.drain(append(buf[:0], r.take(e)), r.batch)
			r.write(ctx, buf)
		case done := <-r.flushes:
			for len(r.ch) > 0 {
				buf = r.drain(buf[:0], r.batch)
				r.write(ctx, buf)
			}
			close(done)
		case <-ctx.Done():
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			for len(r.ch) > 0 && wctx.Err() == nil {
				buf = r.drain(buf[:0], r.batch)
				r.write(wctx, buf)
			}
			cancel()
			return nil
		}
	}
}

// drain appends queued entries to buf without waiting, until buf holds n
// events and calls or more.
func (r *Recorder) drain(buf []entry, n int) []entry {
	held := 0
	for _, e := range buf {
		held += e.weight()
	}
	for held < n {
		select {
		case e := <-r.ch:
			buf = append(buf, r.take(e))
			held += e.weight()
		default:
			return buf
		}
	}
	return buf
}

// write stores one batch. Consent first: an opted-out user's events (or a
// user whose setting cannot be read: not knowing is not consent) lose their
// user id and go to the counters and sinks only, never to the raw log or a
// history. Then log, counters and sinks.
func (r *Recorder) write(ctx context.Context, batch []entry) {
	n := 0
	for _, e := range batch {
		n += len(e.evs)
	}
	evs := slices.Grow(r.evs[:0], n+len(batch))
	var anon []Event
	var calls []Call
	allowed := map[string]bool{}
	keep := func(ev Event) {
		if ev.User == "" || r.consent == nil {
			evs = append(evs, ev)
			return
		}
		ok, seen := allowed[ev.User]
		if !seen {
			var err error
			ok, err = r.consent.Personalization(ctx, ev.User)
			if err != nil {
				r.log.Warn("events: consent lookup failed; event counted without its user", "err", err)
				ok = false
			}
			allowed[ev.User] = ok
		}
		if ok {
			evs = append(evs, ev)
			return
		}
		ev.User = ""
		anon = append(anon, ev)
	}
	for _, e := range batch {
		switch {
		case e.call != nil:
			calls = append(calls, *e.call)
		case e.evs != nil:
			for _, ev := range e.evs {
				keep(ev)
			}
		default:
			keep(e.ev)
		}
	}
	if logged := unshown(evs); len(logged) > 0 {
		if err := r.append(ctx, logged); err != nil {
			r.failed.Add(uint64(len(logged)))
			r.log.Warn("events: append failed", "events", len(logged), "err", err)
		}
	}
	all := append(evs, anon...)
	runtime.Gosched()
	if c := tally(all, calls); len(c) > 0 {
		if err := r.store.Add(ctx, c); err != nil {
			r.log.Warn("events: counters failed", "err", err)
		}
	}
	// The sinks get the batch in parts, the core yielded between them: the
	// writer runs beside the requests on a gateway's core, and must not hold
	// it for a whole batch's learning and roll-ups at once.
	for part := range slices.Chunk(all, sinkPart) {
		for _, s := range r.sinks {
			runtime.Gosched()
			s(part)
		}
	}
	clear(all) // holds no texts until the next batch overwrites them
	r.evs = all[:0]
}

// boundedAppender is an optional capability of a Store: Append of events
// that were bounded already, as Record and RecordMany bound every event
// they queue. Both stores have it: bounding each event again cost the
// writer a pass over every text of every event.
type boundedAppender interface {
	appendBounded(ctx context.Context, evs []Event) error
}

// append stores evs, which Record or RecordMany bounded, in the raw log.
func (r *Recorder) append(ctx context.Context, evs []Event) error {
	if s, ok := r.store.(boundedAppender); ok {
		return s.appendBounded(ctx, evs)
	}
	return r.store.Append(ctx, evs)
}

// sinkPart is how many events a sink is given at once.
const sinkPart = 256

// unshown returns evs without their impressions (a copy only when one has
// some): the raw log keeps what happened, the roll-ups what was shown.
func unshown(evs []Event) []Event {
	for i := range evs {
		if len(evs[i].Shown) > 0 {
			out := slices.Clone(evs)
			for j := range out {
				out[j].Shown = nil
			}
			return out
		}
	}
	return evs
}
