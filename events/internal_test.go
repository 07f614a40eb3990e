package events

import (
	"math/rand/v2"
	"strings"
	"testing"
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
