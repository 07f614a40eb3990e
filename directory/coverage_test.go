package directory

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// coverageIDs are ids that exercise the keys: short ones, ones sharing far
// more than the 16 bytes a key holds, and prefixes of one another (some
// ending in zero bytes, which a key pads with).
func coverageIDs(n int) []string {
	ids := make([]string, 0, n)
	for k := 0; len(ids) < n; k++ {
		switch k % 4 {
		case 0:
			ids = append(ids, fmt.Sprintf("p-%06d", k))
		case 1:
			ids = append(ids, fmt.Sprintf("hangzhou-grocery-market-%06d", k))
		case 2:
			ids = append(ids, fmt.Sprintf("q%d", k))
		default:
			ids = append(ids, fmt.Sprintf("q%d\x00", k-1))
		}
	}
	return ids
}

func listIDs(t *testing.T, s *Snapshot, l *covList, after string) []string {
	t.Helper()
	var got []string
	c := l.after(s, after)
	for {
		i, key, ok := c.next()
		if !ok {
			return got
		}
		if key != keyOf(s.id(i)) {
			t.Fatalf("entry %s carries the key of another id", s.id(i))
		}
		got = append(got, s.id(i))
		c.advance()
	}
}

func modelAfter(m map[string]bool, after string) []string {
	var out []string
	for id, in := range m {
		if in && id > after {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func TestCoverageListFollowsChangesAndKeepsOldVersions(t *testing.T) {
	const n = 20_000 // 150+ leaves: the tree is three levels high at times
	ids := coverageIDs(n)
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(ids), func(a, b int) { ids[a], ids[b] = ids[b], ids[a] })
	b := newBuild(n)
	for _, id := range ids {
		b.upsert(record{ID: id, Lifecycle: Pending})
	}
	s := b.finish(1)

	r := rand.New(rand.NewPCG(1, 2))
	var l *covList
	m := map[string]bool{}
	type kept struct {
		l *covList
		m map[string]bool
	}
	var history []kept
	maxHeight := 0
	for op := 1; op <= 80_000; op++ {
		i := int32(r.IntN(n))
		// Mostly adds first, then mostly removals, so the list grows
		// tall and shrinks back.
		add := r.IntN(100) < 80
		if op > 50_000 {
			add = r.IntN(100) < 20
		}
		if m[s.id(i)] == add {
			continue // with takes only real changes (its caller knows)
		}
		l = l.with(s, i, add)
		m[s.id(i)] = add
		maxHeight = max(maxHeight, l.height())
		if op%10_000 == 0 {
			want := modelAfter(m, "")
			if got := listIDs(t, s, l, ""); !slices.Equal(got, want) {
				t.Fatalf("op %d: list of %d entries differs from the model's %d", op, len(got), len(want))
			}
			if l.len() != len(want) {
				t.Fatalf("op %d: len %d, want %d", op, l.len(), len(want))
			}
			for range 20 {
				after := ids[r.IntN(n)]
				if r.IntN(2) == 0 {
					after += "-between"
				}
				if got, want := listIDs(t, s, l, after), modelAfter(m, after); !slices.Equal(got, want) {
					t.Fatalf("op %d: after %q: %d entries, want %d", op, after, len(got), len(want))
				}
			}
			cp := make(map[string]bool, len(m))
			for k, v := range m {
				cp[k] = v
			}
			history = append(history, kept{l, cp})
		}
	}
	if maxHeight < 2 {
		t.Fatalf("the list never grew past height %d: the test does not reach inner splits", maxHeight)
	}
	for k, h := range history {
		if got, want := listIDs(t, s, h.l, ""), modelAfter(h.m, ""); !slices.Equal(got, want) {
			t.Fatalf("version %d changed after later edits: %d entries, want %d", k, len(got), len(want))
		}
	}
	// Removing everything leaves the empty list.
	for i := range int32(n) {
		if m[s.id(i)] {
			l = l.with(s, i, false)
		}
	}
	if l.len() != 0 || len(listIDs(t, s, l, "")) != 0 {
		t.Fatalf("emptied list still holds %d entries", l.len())
	}
}

func TestCoverageListBuiltInBulk(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		unsorted bool
	}{
		{"one leaf", 5, false},
		{"exactly one full leaf", covLeafMax, false},
		{"two levels", covLeafMax*3 + 1, false},
		{"three levels, unsorted input", covLeafMax*covInnerMax*2 + 7, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids := coverageIDs(tc.n)
			slices.Sort(ids)
			if tc.unsorted {
				rand.New(rand.NewPCG(3, 3)).Shuffle(len(ids), func(a, b int) { ids[a], ids[b] = ids[b], ids[a] })
			}
			b := newBuild(tc.n)
			l := &covList{}
			for k, id := range ids {
				b.upsert(record{ID: id, Lifecycle: Pending})
				l.appendOwned(int32(k))
			}
			s := b.finish(1)
			l.sealOwned(s, tc.unsorted)
			want := slices.Sorted(slices.Values(ids))
			if got := listIDs(t, s, l, ""); !slices.Equal(got, want) {
				t.Fatalf("%d entries, want %d", len(got), len(want))
			}
			// A built list takes changes like any other.
			mid := want[len(want)/2]
			e, _ := s.Lookup(mid)
			l2 := l.with(s, e.i, false)
			if got := listIDs(t, s, l2, ""); slices.Contains(got, mid) || len(got) != len(want)-1 {
				t.Fatalf("removing %s: %d entries", mid, len(got))
			}
			if got := listIDs(t, s, l2.with(s, e.i, true), ""); !slices.Equal(got, want) {
				t.Fatalf("adding %s back: %d entries, want %d", mid, len(got), len(want))
			}
		})
	}
}

func TestCoverageKeysOrderAsIDs(t *testing.T) {
	ids := []string{"", "a", "a\x00", "a\x00\x00", "a\x01", "ab", strings.Repeat("z", 16), strings.Repeat("z", 16) + "a",
		strings.Repeat("z", 15) + "\xff", "\xff\xff"}
	for _, a := range ids {
		for _, b := range ids {
			ka, kb := keyOf(a), keyOf(b)
			if ka != kb && (a < b) != (ka.hi < kb.hi || (ka.hi == kb.hi && ka.lo < kb.lo)) {
				t.Errorf("keys of %q and %q order differently from the ids", a, b)
			}
		}
	}
}

// TestCoverageDeltaMergesWithTheTree checks the list after every change, so
// the delta is seen at every fill, just before and after each flush.
func TestCoverageDeltaMergesWithTheTree(t *testing.T) {
	const n = 600 // about twenty leaves: flushes split and drop leaves
	ids := coverageIDs(n)
	b := newBuild(n)
	for _, id := range ids {
		b.upsert(record{ID: id, Lifecycle: Pending})
	}
	s := b.finish(1)
	r := rand.New(rand.NewPCG(4, 4))
	var l *covList
	m := map[string]bool{}
	for op := 1; op <= 6000; op++ {
		i := int32(r.IntN(n))
		id := s.id(i)
		// Mostly adds, then mostly removals, then even.
		add := r.IntN(100) < []int{85, 15, 50}[op*3/6001]
		if m[id] == add {
			continue
		}
		l = l.with(s, i, add)
		m[id] = add
		want := modelAfter(m, "")
		if got := listIDs(t, s, l, ""); !slices.Equal(got, want) || l.len() != len(want) {
			t.Fatalf("op %d: %d entries (len %d), want %d", op, len(got), l.len(), len(want))
		}
		after := ids[r.IntN(n)]
		if got, want := listIDs(t, s, l, after), modelAfter(m, after); !slices.Equal(got, want) {
			t.Fatalf("op %d: after %q: %d entries, want %d", op, after, len(got), len(want))
		}
	}
}
