package events

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAppendJSONIsJSONMarshal: the writer's encoder writes every event as
// json.Marshal does (the raw log's format), plain texts by itself and the
// rest through json.Marshal.
func TestAppendJSONIsJSONMarshal(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
	paris := time.FixedZone("CET", 3600)
	texts := []string{"", "a", "Organic whole milk 1 l", `say "hi"`, `back\\slash`, "<b>x</b> & y", "crème fraîche",
		"tab\there", "line\nbreak", "\x00\x1f\x7f", "bad \xff utf-8", "sep\u2028\u2029", "UHJvZHVjdDpmcmVzaGNhcnQ6cHJvZC0wMDE"}
	evs := []Event{
		{},
		{Kind: KindView, Time: t0},
		{Kind: KindView, Item: "UHJvZHVjdDpmcmVzaGNhcnQ6cHJvZC0wMDE", Provider: "freshcart", Name: "Organic whole milk 1 l",
			Category: "dairy", Vertical: "GROCERY", Time: t0},
		{User: "u1", Kind: KindOrder, Items: []string{"p1", "p2"}, Value: 1250, Currency: "EUR", Time: t0.In(paris)},
		{Kind: KindSearch, Query: "milk", City: "lyon", Vertical: "GROCERY", Results: 3, Time: t0.Truncate(time.Second),
			Shown: []Impression{{Item: "a", Provider: "p", Rank: 1}, {Item: "b", Provider: "q", Rank: 2}}},
		{Kind: KindSearch, Results: -1, Value: -5, Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Kind: KindView, Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Kind: KindView, Time: time.Now()}, // with a monotonic reading
		{Kind: KindView, Time: t0.In(time.FixedZone("odd", 5*3600+30*60+7))},
	}
	for i, s := range texts {
		evs = append(evs,
			Event{User: s, Kind: Kind(s), Item: s, Query: s, Vertical: s, City: s, Provider: s, Name: s, Category: s, Currency: s, Time: t0},
			Event{Kind: KindOrder, Items: []string{"p", s}, Time: t0},
			Event{Kind: KindHome, Shown: []Impression{{Item: s, Provider: "p", Rank: i}, {Item: "i", Provider: s}}, Time: t0},
		)
	}
	// Each event encoded alone, then again after the one before it with the
	// text of the last time kept (as Append encodes a batch).
	var times timeText
	for i, ev := range evs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			want, wantErr := json.Marshal(ev)
			for _, tt := range []*timeText{nil, &times, &times} {
				got, err := appendJSON([]byte("prefix"), &ev, tt)
				if (err != nil) != (wantErr != nil) {
					t.Fatalf("error %v, json.Marshal's %v", err, wantErr)
				}
				if err != nil {
					return
				}
				if g, ok := strings.CutPrefix(string(got), "prefix"); !ok || g != string(want) {
					t.Errorf("got  %s\nwant %s", got, want)
				}
			}
		})
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	ev := Event{Kind: KindView, Item: "UHJvZHVjdDpmcmVzaGNhcnQ6cHJvZC0wMDE", Provider: "freshcart", Name: "Organic whole milk 1 l",
		Category: "dairy", Vertical: "GROCERY", Time: time.Now()}
	b.Run("appendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = appendJSON(buf[:0], &ev, nil)
		}
	})
	b.Run("appendJSON, the time repeated", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		var times timeText
		for b.Loop() {
			buf, _ = appendJSON(buf[:0], &ev, &times)
		}
	})
	b.Run("json.Encoder", func(b *testing.B) {
		b.ReportAllocs()
		var sb strings.Builder
		enc := json.NewEncoder(&sb)
		for b.Loop() {
			sb.Reset()
			_ = enc.Encode(ev)
		}
	})
}
