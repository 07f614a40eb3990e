package events

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCleanTextIsKeptAsItIs checks the shortcut of clip and NormalizeText
// against the full rune-by-rune path: whenever cleanASCII lets a text through
// unchanged, the full path would have returned exactly that text, and texts
// the full path changes are never let through.
func TestCleanTextIsKeptAsItIs(t *testing.T) {
	cases := []string{"", "milk", "Organic Wheat Noodles", "oat milk 1l", " milk", "milk ", "oat  milk", "oat\tmilk",
		"mi\x1flk", "caf\u00e9", "del\x7f", strings.Repeat("a", MaxText), strings.Repeat("a", MaxText+1), "a b c"}
	// Random ASCII texts over an alphabet rich in the characters that matter.
	const alphabet = "aZ 0\t~\x00\x7f"
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		for _, n := range []int{4, 8, MaxText} {
			if got, full := clip(s, n), clipRunes(s, n); got != full {
				t.Fatalf("clip(%q, %d) = %q, the full path gives %q", s, n, got, full)
			}
			if cleanASCII(s, n, false) != (clipRunes(s, n) == s && isASCII(s)) {
				t.Fatalf("cleanASCII(%q, %d) = %v, but the full path returns %q", s, n, cleanASCII(s, n, false), clipRunes(s, n))
			}
		}
		if got, full := NormalizeText(s), clipRunes(fold.String(clipRunes(s, 4*MaxText)), MaxText); got != full {
			t.Fatalf("NormalizeText(%q) = %q, the full path gives %q", s, got, full)
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// TestEventRingKeepsTheLastEventsInOrder fills rings of several capacities
// (within one chunk, a chunk and a part) past their capacity and reads them
// back: the last cap events, oldest first.
func TestEventRingKeepsTheLastEventsInOrder(t *testing.T) {
	for _, tc := range []struct{ capacity, added int }{
		{1, 3}, {5, 3}, {5, 5}, {5, 12}, {ringChunk, ringChunk + 7}, {ringChunk + 3, 3*ringChunk + 1}, {2*ringChunk + 5, ringChunk},
	} {
		r := newEventRing(tc.capacity)
		for i := range tc.added {
			r.add(Event{Results: i})
		}
		want := min(tc.added, tc.capacity)
		if r.size != want {
			t.Fatalf("cap %d, %d added: holds %d, want %d", tc.capacity, tc.added, r.size, want)
		}
		for i := range r.size {
			if got, w := r.at(i).Results, tc.added-want+i; got != w {
				t.Fatalf("cap %d, %d added: event %d is #%d, want #%d", tc.capacity, tc.added, i, got, w)
			}
		}
	}
}

// TestTallySumsAsCountingEachEvent: tally, which sums repeated counters
// before building their fields, gives the counts of counting every event on
// its own (tallyEach, tally as it was), for batches with repeated items,
// several hours, texts that clip to one field, orders and searches.
func TestTallySumsAsCountingEachEvent(t *testing.T) {
	hour := time.Date(2030, 1, 2, 3, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	for _, n := range []int{0, 1, 50, 2048} {
		evs := make([]Event, n)
		for i := range evs {
			evs[i] = Event{
				Kind:     Kind(pick(string(KindView), string(KindClick), string(KindSearch), string(KindOrder))),
				Item:     pick("", "UHJvZHVjdDpmcmVzaGNhcnQ6MQ", "UHJvZHVjdDpmcmVzaGNhcnQ6Mg", "oat  milk", "oat milk"),
				Provider: pick("freshcart", "fresh\tcart", "fresh cart", ""),
				Vertical: pick("GROCERY", "MEDICAL"),
				City:     pick("", "Hangzhou", "hangzhou "),
				Query:    pick("milk", "MILK", " milk"),
				Results:  r.IntN(2),
				Time:     hour.Add(time.Duration(r.IntN(3*60)) * time.Minute),
			}
			if evs[i].Kind == KindOrder {
				evs[i].Items = []string{pick("a", "b"), pick("a", "c")}
			}
		}
		calls := []Call{{Provider: "freshcart", Duration: time.Millisecond, Time: hour}, {Provider: "freshcart", Failed: true, Time: hour}}
		if got, want := tally(evs, calls), tallyEach(evs, calls); !reflect.DeepEqual(got, want) {
			t.Fatalf("%d events: tally\n%v\nwant\n%v", n, got, want)
		}
	}
}

// tallyEach is tally counting every event on its own.
func tallyEach(evs []Event, calls []Call) Counts {
	c := Counts{}
	for _, ev := range evs {
		c.add(ev.Time, field(famKind, string(ev.Kind), ev.Provider), 1)
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
