package events_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/events"
)

func TestNormalizeText(t *testing.T) {
	long := strings.Repeat("ab ", 2000) // 6,000 bytes
	wide := strings.Repeat("é", 300)    // 600 bytes, 2 bytes a character
	for _, tc := range []struct {
		name, in, want string
	}{
		{"trims and lower-cases", "  Milk ", "milk"},
		{"collapses inner whitespace of every kind", "oat\t\n  MILK\u00a0 1l", "oat milk 1l"},
		{"case-folds beyond ASCII", "STRASSE Straße", "strasse strasse"},
		{"treats control characters, the counters' separator among them, as spaces", "mi\x1flk\x00", "mi lk"},
		{"keeps an empty text empty", "   ", ""},
		{"cuts long text to 256 bytes without a trailing space", long, strings.TrimSpace(long[:256])},
		{"cuts on a character boundary", wide, strings.Repeat("é", 128)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := events.NormalizeText(tc.in)
			if got != tc.want {
				t.Fatalf("NormalizeText(%.40q…) = %.60q…, want %.60q…", tc.in, got, tc.want)
			}
			if len(got) > events.MaxText || !utf8.ValidString(got) {
				t.Fatalf("got %d bytes (valid UTF-8: %v), want at most %d", len(got), utf8.ValidString(got), events.MaxText)
			}
			if again := events.NormalizeText(got); again != got {
				t.Fatalf("not idempotent: %q then %q", got, again)
			}
		})
	}
}

// TestStoredEventsAreBounded records events whose texts are far longer than
// anything real, the way an abusive client would send them, and reads them
// back from each store: only the bounded form was kept.
func TestStoredEventsAreBounded(t *testing.T) {
	ctx := context.Background()
	huge := strings.Repeat("Long Text ", 500) // 5,000 characters
	for name, store := range stores(t, newClock(), events.DefaultRetention) {
		t.Run(name+" keeps only the normalised query and clipped texts", func(t *testing.T) {
			rec := startRecorder(t, store)
			rec.Record(events.Event{User: "u1", Kind: events.KindSearch, Query: huge, City: "  HANGZHOU " + huge})
			rec.Record(events.Event{User: "u1", Kind: events.KindClick, Query: huge, Item: strings.Repeat("x", 600), Name: huge})
			items := make([]string, 500)
			for i := range items {
				items[i] = fmt.Sprintf("p%d", i)
			}
			rec.Record(events.Event{User: "u1", Kind: events.KindOrder, Item: "store", Items: items})
			mustFlush(t, rec)
			hist, err := store.History(ctx, "u1", 10)
			if err != nil || len(hist) != 3 {
				t.Fatalf("history %d events, %v; want 3", len(hist), err)
			}
			order, click, search := hist[0], hist[1], hist[2]
			if want := events.NormalizeText(huge); search.Query != want || click.Query != want || len(want) > events.MaxText {
				t.Fatalf("stored queries of %d and %d bytes, want the %d-byte normalised form", len(search.Query), len(click.Query), len(want))
			}
			if !strings.HasPrefix(search.City, "hangzhou long text") || len(search.City) > events.MaxText {
				t.Fatalf("stored city %.40q… (%d bytes), want it normalised and at most %d bytes", search.City, len(search.City), events.MaxText)
			}
			if click.Item != "" || len(click.Name) > events.MaxText || !strings.HasPrefix(click.Name, "Long Text") {
				t.Fatalf("click stored item %.20q… and name %.20q… (%d bytes): an ID past MaxID is dropped, a name clipped with its case kept", click.Item, click.Name, len(click.Name))
			}
			if len(order.Items) != events.MaxItems {
				t.Fatalf("order stored %d items, want %d", len(order.Items), events.MaxItems)
			}
		})
		t.Run(name+" bounds what Append is given directly, not through a recorder", func(t *testing.T) {
			if err := store.Append(ctx, []events.Event{{User: "u2", Kind: events.KindClick, Query: huge, Name: huge, Time: newClock().Now()}}); err != nil {
				t.Fatal(err)
			}
			hist, err := store.History(ctx, "u2", 1)
			if err != nil || len(hist) != 1 {
				t.Fatalf("history %d events, %v; want 1", len(hist), err)
			}
			if len(hist[0].Query) > events.MaxText || len(hist[0].Name) > events.MaxText {
				t.Fatalf("stored query of %d bytes and name of %d, want at most %d", len(hist[0].Query), len(hist[0].Name), events.MaxText)
			}
		})
	}
}

// TestCountersCapDistinctFieldsPerHour sends more distinct queries in one
// hour than the cap: the first ones are ranked, the rest are counted in the
// volume but ranked nowhere, and a query seen before the cap keeps counting.
func TestCountersCapDistinctFieldsPerHour(t *testing.T) {
	ctx := context.Background()
	const limit = 20
	clk := newClock()
	rs, err := events.NewRedisStore(cachetest.Redis(t), events.RedisConfig{Prefix: cachetest.Prefix(t), Now: clk.Now, Distinct: limit})
	if err != nil {
		t.Fatal(err)
	}
	for name, store := range map[string]events.Store{
		"memory": events.NewMemoryStore(events.MemoryConfig{Now: clk.Now, Distinct: limit}),
		"redis":  rs,
	} {
		t.Run(name, func(t *testing.T) {
			rec := startRecorder(t, store, events.WithClock(clk.Now))
			for i := range 3 * limit {
				rec.Record(events.Event{Kind: events.KindSearch, Query: fmt.Sprintf("query %03d", i), City: fmt.Sprintf("city %d", i)})
				rec.Record(events.Event{Kind: events.KindClick, Query: "q", Item: fmt.Sprintf("item-%d", i), Provider: fmt.Sprintf("provider-%d", i)})
				mustFlush(t, rec) // one batch per event: the cap holds across batches
			}
			rec.Record(events.Event{Kind: events.KindSearch, Query: "Query  000 ", City: "city 0"}) // seen before the cap
			mustFlush(t, rec)

			an := events.NewAnalytics(store)
			from, to := clk.Now().Add(-time.Hour), clk.Now().Add(time.Hour)
			top, err := an.TopQueries(ctx, from, to, 1000, events.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(top) != limit {
				t.Fatalf("ranked %d distinct queries, want the %d first", len(top), limit)
			}
			if top[0].Query != "query 000" || top[0].Count != 2 {
				t.Fatalf("top query %+v, want query 000 counted twice", top[0])
			}
			vol, err := an.SearchVolume(ctx, from, to, time.Hour, events.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			for _, b := range vol {
				total += b.Count
			}
			if total != 3*limit+1 {
				t.Fatalf("search volume %d, want every search counted: %d", total, 3*limit+1)
			}
			c, err := an.Conversion(ctx, from, to)
			if err != nil || c.Clicks != 3*limit {
				t.Fatalf("conversion counted %d clicks (%v), want %d", c.Clicks, err, 3*limit)
			}
			counts, err := store.Counts(ctx, from, to)
			if err != nil {
				t.Fatal(err)
			}
			for h, fields := range counts {
				// Per capped family: limit fields, an "other" field and a
				// distinct counter; plus the few bounded families.
				if max := 6*(limit+2) + 10; len(fields) > max {
					t.Fatalf("hour %d holds %d fields, want at most %d", h, len(fields), max)
				}
			}
		})
	}
}

// TestMemoryCountersAreBoundedInAll fills the memory store's counters past
// its total: the oldest hours go first, the newest stay.
func TestMemoryCountersAreBoundedInAll(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := events.NewMemoryStore(events.MemoryConfig{Now: clk.Now, Fields: 100})
	rec := startRecorder(t, store, events.WithClock(clk.Now))
	start := clk.Now()
	for h := range 10 {
		for i := range 30 {
			rec.Record(events.Event{Kind: events.KindSearch, Query: fmt.Sprintf("q%d-%d", h, i)})
		}
		mustFlush(t, rec)
		clk.Add(time.Hour)
	}
	counts, err := store.Counts(ctx, start.Add(-time.Hour), clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	fields := 0
	for _, fs := range counts {
		fields += len(fs)
	}
	if fields > 100+70 { // the newest hour is kept whole (about 70 fields)
		t.Fatalf("memory store holds %d counter fields, want about 100", fields)
	}
	if _, ok := counts[start.Add(9*time.Hour).Truncate(time.Hour).Unix()]; !ok {
		t.Fatalf("the newest hour was dropped; hours kept: %d", len(counts))
	}
	if _, ok := counts[start.Truncate(time.Hour).Unix()]; ok {
		t.Fatal("the oldest hour was kept past the bound")
	}
}

// TestRedisHourIsBoundedAtWorst fills one hour with more distinct
// longest-possible queries, cities, items and providers than the cap, and
// measures the hour's counters (MEMORY USAGE of its hash): the most one
// hour can cost, whatever clients send and however many instances count.
func TestRedisHourIsBoundedAtWorst(t *testing.T) {
	ctx := context.Background()
	rdb := cachetest.Redis(t)
	if err := rdb.Do(ctx, "MEMORY", "USAGE", "plaza:test:none").Err(); err != nil && err != redis.Nil {
		t.Skipf("this Redis cannot measure memory (MEMORY USAGE: %v)", err)
	}
	prefix := cachetest.Prefix(t)
	clk := newClock()
	store, err := events.NewRedisStore(rdb, events.RedisConfig{Prefix: prefix, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	rec := startRecorder(t, store, events.WithClock(clk.Now))
	longest := func(i int) string { // 256 bytes, unique to i
		s := fmt.Sprintf("%06d", i)
		return s + strings.Repeat("x", events.MaxText-len(s))
	}
	const n = events.DefaultDistinct + events.DefaultDistinct/5 // past the cap in every family
	for i := range n {
		rec.Record(events.Event{Kind: events.KindSearch, Query: longest(i), City: longest(i + n), Vertical: "GROCERY"})
		rec.Record(events.Event{Kind: events.KindClick, Query: longest(i), Item: longest(i) + longest(i), Provider: longest(i)})
		rec.ObserveCall(connectors.VerticalGrocery, longest(i), "Search", 1, time.Millisecond, fmt.Errorf("down"))
	}
	flushCtx, cancel := context.WithTimeout(ctx, time.Minute) // 3,600 entries: generous on a loaded machine
	defer cancel()
	if err := rec.Flush(flushCtx); err != nil {
		t.Fatal(err)
	}
	if rec.Dropped() != 0 || rec.Failed() != 0 {
		t.Fatalf("dropped %d, failed %d: the figure would understate", rec.Dropped(), rec.Failed())
	}
	hour := fmt.Sprintf("%sh:%d", prefix, clk.Now().Truncate(time.Hour).Unix())
	bytes, err := rdb.MemoryUsage(ctx, hour, 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	fields, _ := rdb.HLen(ctx, hour).Result()
	t.Logf("one hour of %d distinct longest searches, clicks and failing providers: %d fields, %d bytes (%.2f MB) of counters",
		n, fields, bytes, float64(bytes)/1e6)
	if bytes > 5_000_000 {
		t.Fatalf("one hour's counters take %d bytes, want at most 5 MB", bytes)
	}
}
