package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/events"
)

// clock is an injectable, movable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Hour).Add(30 * time.Minute)} }

// stores returns each Store implementation over clk, with retention.
func stores(t *testing.T, clk *clock, retention time.Duration) map[string]events.Store {
	t.Helper()
	rs, err := events.NewRedisStore(cachetest.Redis(t), events.RedisConfig{Prefix: cachetest.Prefix(t), Retention: retention, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]events.Store{
		"memory": events.NewMemoryStore(events.MemoryConfig{Retention: retention, Now: clk.Now}),
		"redis":  rs,
	}
}

// startRecorder runs a recorder over store until the test ends.
func startRecorder(t *testing.T, store events.Store, opts ...events.RecorderOption) *events.Recorder {
	t.Helper()
	rec := events.NewRecorder(store, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = rec.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return rec
}

func mustFlush(t *testing.T, rec *events.Recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rec.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

func TestRecorderDropsWhenTheBufferIsFull(t *testing.T) {
	store := events.NewMemoryStore(events.MemoryConfig{})
	rec := events.NewRecorder(store, events.WithBuffer(3)) // no writer running: nothing drains
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10; i++ {
			rec.Record(events.Event{Kind: events.KindSearch, Query: "milk"})
		}
		rec.ObserveCall(connectors.VerticalGrocery, "freshcart", "Products", 1, time.Millisecond, nil)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Record blocked on a full buffer")
	}
	if got := rec.Dropped(); got != 8 {
		t.Fatalf("Dropped() = %d, want 8 (11 offered, buffer of 3)", got)
	}

	t.Run("the buffered entries are still written once the writer runs", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _ = rec.Run(ctx) }()
		defer cancel()
		mustFlush(t, rec)
		log, _ := store.Log(context.Background(), time.Time{}, time.Now().Add(time.Hour))
		if len(log) != 3 {
			t.Fatalf("stored %d events, want 3", len(log))
		}
	})
}

// TestRecordManyCountsEveryEventAgainstTheBuffer: a request's events go to
// the writer in one offer, but the buffer bounds events, not offers, and a
// batch that does not fit is dropped whole.
func TestRecordManyCountsEveryEventAgainstTheBuffer(t *testing.T) {
	store := events.NewMemoryStore(events.MemoryConfig{})
	rec := events.NewRecorder(store, events.WithBuffer(5)) // no writer running yet
	views := func(n int) []events.Event {
		evs := make([]events.Event, n)
		for i := range evs {
			evs[i] = events.Event{Kind: events.KindView, Item: fmt.Sprintf("item-%d", i), Name: "  Oat   Milk "}
		}
		return evs
	}
	rec.RecordMany(views(3)) // 3 of 5
	rec.RecordMany(views(3)) // would make 6: dropped whole
	rec.Record(events.Event{Kind: events.KindSearch, Query: "milk"})
	rec.RecordMany(views(1)) // 5 of 5
	rec.RecordMany(views(1)) // dropped
	if got := rec.Dropped(); got != 4 {
		t.Fatalf("Dropped() = %d, want 4 (a batch of 3 and one of 1)", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = rec.Run(ctx) }()
	mustFlush(t, rec)
	log, _ := store.Log(context.Background(), time.Time{}, time.Now().Add(time.Hour))
	if len(log) != 5 {
		t.Fatalf("stored %d events, want 5", len(log))
	}
	for _, ev := range log {
		if ev.Kind == events.KindView && (ev.Name != "Oat Milk" || ev.Time.IsZero()) {
			t.Fatalf("stored %+v: want the name bounded and the time set", ev)
		}
	}
	t.Run("and the buffer has room again once written", func(t *testing.T) {
		rec.RecordMany(views(5))
		mustFlush(t, rec)
		if got := rec.Dropped(); got != 4 {
			t.Fatalf("Dropped() = %d after the writer caught up, want still 4", got)
		}
	})
}

// failingConsent cannot say whether anyone consents.
type failingConsent struct{}

func (failingConsent) Personalization(context.Context, string) (bool, error) {
	return false, fmt.Errorf("settings store down")
}

func TestRecorderHonoursConsent(t *testing.T) {
	ctx := context.Background()
	settings := events.NewMemorySettings()
	if err := settings.SetPersonalization(ctx, "out", false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		consent events.Consent
		// logged are the raw log's queries; anonymous the queries the sink
		// gets without their user.
		logged, anonymous []string
	}{
		{"an opted-out user is counted without a user id, not logged", settings, []string{"bread", "milk"}, []string{"bread", "secret"}},
		{"a consent that cannot be read counts everyone without a user id", failingConsent{}, []string{"bread"}, []string{"bread", "milk", "secret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := events.NewMemoryStore(events.MemoryConfig{})
			var sunk []events.Event
			rec := startRecorder(t, store, events.WithConsent(tc.consent), events.WithSink(func(evs []events.Event) { sunk = append(sunk, evs...) }))
			rec.Record(events.Event{User: "out", Kind: events.KindSearch, Query: "secret",
				Shown: []events.Impression{{Item: "p1", Provider: "freshcart", Rank: 1}}})
			rec.Record(events.Event{User: "in", Kind: events.KindSearch, Query: "milk"})
			rec.Record(events.Event{Kind: events.KindSearch, Query: "bread"})
			mustFlush(t, rec)

			log, _ := store.Log(ctx, time.Time{}, time.Now().Add(time.Hour))
			var queries []string
			for _, ev := range log {
				queries = append(queries, ev.Query)
				if len(ev.Shown) > 0 {
					t.Errorf("the raw log kept impressions: %+v", ev)
				}
			}
			sort.Strings(queries)
			if fmt.Sprint(queries) != fmt.Sprint(tc.logged) {
				t.Fatalf("raw log holds %v, want %v", queries, tc.logged)
			}
			if h, _ := store.History(ctx, "out", 10); len(h) != 0 {
				t.Fatalf("opted-out user has history %v", h)
			}
			var anon []string
			for _, ev := range sunk {
				if ev.User == "" {
					anon = append(anon, ev.Query)
				}
				if ev.Query == "secret" && (len(ev.Shown) != 1 || ev.Shown[0].Provider != "freshcart") {
					t.Errorf("the opted-out search reached the sink without its impressions: %+v", ev)
				}
			}
			sort.Strings(anon)
			if len(sunk) != 3 || fmt.Sprint(anon) != fmt.Sprint(tc.anonymous) {
				t.Fatalf("sink got %d events, anonymous %v; want 3, anonymous %v", len(sunk), anon, tc.anonymous)
			}
			c, _ := events.NewAnalytics(store).Conversion(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
			if c.Searches != 3 {
				t.Fatalf("counted %d searches, want 3: every search counts, opted out or not", c.Searches)
			}
		})
	}
}

func TestStores(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	for name, store := range stores(t, clk, 48*time.Hour) {
		t.Run(name+" keeps the log in time order and the newest history first", func(t *testing.T) {
			t0 := clk.Now()
			evs := []events.Event{
				{User: "u1", Kind: events.KindView, Item: "a", Time: t0.Add(-2 * time.Minute)},
				{User: "u1", Kind: events.KindOrder, Item: "b", Items: []string{"p1", "p2"}, Time: t0.Add(-time.Minute)},
				{Kind: events.KindSearch, Query: "milk", Time: t0},
			}
			if err := store.Append(ctx, evs); err != nil {
				t.Fatal(err)
			}
			log, err := store.Log(ctx, t0.Add(-time.Hour), t0.Add(time.Second))
			if err != nil || len(log) != 3 || log[0].Item != "a" || log[2].Query != "milk" || len(log[1].Items) != 2 {
				t.Fatalf("log = %+v, %v", log, err)
			}
			h, err := store.History(ctx, "u1", 10)
			if err != nil || len(h) != 2 || h[0].Item != "b" {
				t.Fatalf("history = %+v, %v", h, err)
			}
			if err := store.Forget(ctx, "u1"); err != nil {
				t.Fatal(err)
			}
			if h, _ := store.History(ctx, "u1", 10); len(h) != 0 {
				t.Fatalf("history after Forget = %+v", h)
			}
		})
	}
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	const retention = 48 * time.Hour
	for name := range stores(t, newClock(), retention) {
		t.Run(name+" forgets events and counters older than retention", func(t *testing.T) {
			clk := newClock()
			store := stores(t, clk, retention)[name]
			rec := startRecorder(t, store, events.WithClock(clk.Now))
			rec.Record(events.Event{User: "u1", Kind: events.KindSearch, Query: "old"})
			mustFlush(t, rec)
			an := events.NewAnalytics(store)
			wide := func() (time.Time, time.Time) { return clk.Now().Add(-100 * 24 * time.Hour), clk.Now().Add(time.Hour) }
			if c, _ := an.Conversion(ctx, clk.Now().Add(-time.Hour), clk.Now().Add(time.Hour)); c.Searches != 1 {
				t.Fatalf("searches before expiry = %d, want 1", c.Searches)
			}

			clk.Add(retention + 2*time.Hour)
			rec.Record(events.Event{User: "u1", Kind: events.KindSearch, Query: "new"})
			mustFlush(t, rec)
			from, to := wide()
			log, _ := store.Log(ctx, from, to)
			if len(log) != 1 || log[0].Query != "new" {
				t.Fatalf("log after retention = %+v, want only the new search", log)
			}
			if c, _ := an.Conversion(ctx, from, to); c.Searches != 1 {
				t.Fatalf("searches after retention = %d, want 1 (the old bucket is gone)", c.Searches)
			}
			if h, _ := store.History(ctx, "u1", 10); len(h) != 1 || h[0].Query != "new" {
				t.Fatalf("history after retention = %+v", h)
			}
		})
	}

	t.Run("redis sets TTLs from retention on every key", func(t *testing.T) {
		clk := newClock()
		rdb := cachetest.Redis(t)
		prefix := cachetest.Prefix(t)
		store, err := events.NewRedisStore(rdb, events.RedisConfig{Prefix: prefix, Retention: retention, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		rec := startRecorder(t, store, events.WithClock(clk.Now))
		rec.Record(events.Event{User: "u1", Kind: events.KindSearch, Query: "milk"})
		rec.ObserveCall(connectors.VerticalGrocery, "freshcart", "Products", 3, 4*time.Millisecond, nil)
		mustFlush(t, rec)
		hour := clk.Now().Truncate(time.Hour)
		wantBucket := hour.Add(time.Hour + retention).Sub(clk.Now())
		for key, want := range map[string]time.Duration{
			prefix + "h:" + strconv.FormatInt(hour.Unix(), 10): wantBucket,
			prefix + "u:u1": retention,
			prefix + "log":  retention,
		} {
			ttl, err := rdb.TTL(ctx, key).Result()
			if err != nil || ttl <= 0 || ttl > want || ttl < want-time.Minute {
				t.Errorf("TTL(%s) = %v (%v), want about %v", key, ttl, err, want)
			}
		}
	})

	t.Run("a prefix outside plaza: is refused", func(t *testing.T) {
		if _, err := events.NewRedisStore(cachetest.Redis(t), events.RedisConfig{Prefix: "other:"}); err == nil {
			t.Fatal("want an error")
		}
	})
}

// TestRedisLogHasOneEntryPerEvent checks the raw log's format, which
// Append writes in one script run per batch: each event its own stream
// entry, in order, with one field "e" holding the event's JSON as
// json.Marshal writes it, and the stream capped near LogCap.
func TestRedisLogHasOneEntryPerEvent(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	rdb := cachetest.Redis(t)
	prefix := cachetest.Prefix(t)
	const logCap = 10
	store, err := events.NewRedisStore(rdb, events.RedisConfig{Prefix: prefix, LogCap: logCap, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t0 := clk.Now().UTC()
	evs := []events.Event{
		{Kind: events.KindView, Item: "a", Name: "a \"view\" of <b>x</b> & y", Time: t0},
		{User: "u1", Kind: events.KindOrder, Items: []string{"p1", "p2"}, Name: "crème fraîche", Time: t0},
		{Kind: events.KindView, Item: "c", Time: t0},
	}
	if err := store.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	msgs, err := rdb.XRange(ctx, prefix+"log", "-", "+").Result()
	if err != nil || len(msgs) != len(evs) {
		t.Fatalf("log entries = %d (%v), want %d", len(msgs), err, len(evs))
	}
	for i, m := range msgs {
		want, err := json.Marshal(evs[i])
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Values) != 1 || m.Values["e"] != string(want) {
			t.Errorf("entry %d = %v, want e=%s", i, m.Values, want)
		}
	}
	if h, err := store.History(ctx, "u1", 10); err != nil || len(h) != 1 || h[0].Name != evs[1].Name {
		t.Errorf("history = %+v (%v), want the order", h, err)
	}

	// A batch past one script run's share (appendChunk, 256) goes as several,
	// in order.
	many := make([]events.Event, 600)
	for i := range many {
		many[i] = events.Event{Kind: events.KindView, Item: strconv.Itoa(i), Time: t0}
	}
	uncapped, err := events.NewRedisStore(rdb, events.RedisConfig{Prefix: prefix + "all:", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := uncapped.Append(ctx, many); err != nil {
		t.Fatal(err)
	}
	log, err := uncapped.Log(ctx, t0.Add(-time.Minute), t0.Add(time.Minute))
	if err != nil || len(log) != len(many) {
		t.Fatalf("log of %d events = %d entries (%v)", len(many), len(log), err)
	}
	for i, ev := range log {
		if ev.Item != many[i].Item {
			t.Fatalf("entry %d is item %s, want %s", i, ev.Item, many[i].Item)
		}
	}

	if err := store.Append(ctx, many); err != nil {
		t.Fatal(err)
	}
	// MAXLEN ~ trims whole stream nodes (100 entries by default), so the
	// log keeps a little more than LogCap, never the 603 appended.
	if n, err := rdb.XLen(ctx, prefix+"log").Result(); err != nil || n < logCap || n > 200 {
		t.Errorf("log length after 603 events with LogCap %d = %d (%v)", logCap, n, err)
	}
}
