package main

import (
	"cmp"
	"math/rand/v2"
	"slices"
)

// The baselines a reviewer asks for, each from the training events only.
// The personal ones (top-frequency, recency) fill what the user's own
// history leaves of the ten slots with the global popularity list, as any
// deployed "buy again" row would: an engine has ten slots too, and a
// personal list of three items is not a fair opponent.

// userItem is what one user did with one item before the split.
type userItem struct {
	item  int32
	count int
	last  int64 // latest training event with the item
}

// histories summarises each user's training events per item.
type histories map[int32][]userItem

func newHistories(train []record) histories {
	h := histories{}
	pos := map[[2]int32]int{}
	for _, r := range train {
		k := [2]int32{r.user, r.item}
		i, ok := pos[k]
		if !ok {
			i = len(h[r.user])
			pos[k] = i
			h[r.user] = append(h[r.user], userItem{item: r.item})
		}
		ui := &h[r.user][i]
		ui.count++
		ui.last = max(ui.last, r.t)
	}
	return h
}

// topFrequency is "what you buy most": the user's items by training count,
// ties by the most recent, then by item ID.
func topFrequency(ds *dataset, h histories, fill []int32) func(*testCase) []int32 {
	return func(tc *testCase) []int32 {
		items := slices.Clone(h[tc.user])
		slices.SortFunc(items, func(a, b userItem) int {
			return cmp.Or(cmp.Compare(b.count, a.count), cmp.Compare(b.last, a.last), cmp.Compare(ds.items.names[a.item], ds.items.names[b.item]))
		})
		return firstItems(items, fill)
	}
}

// recency is "the last basket again": the user's items by their latest
// training event, so the last day's basket comes first and earlier days
// fill what it leaves; ties by count, then item ID.
func recency(ds *dataset, h histories, fill []int32) func(*testCase) []int32 {
	return func(tc *testCase) []int32 {
		items := slices.Clone(h[tc.user])
		slices.SortFunc(items, func(a, b userItem) int {
			return cmp.Or(cmp.Compare(b.last, a.last), cmp.Compare(b.count, a.count), cmp.Compare(ds.items.names[a.item], ds.items.names[b.item]))
		})
		return firstItems(items, fill)
	}
}

// firstItems takes the first listLen items, then fill's items not taken.
func firstItems(items []userItem, fill []int32) []int32 {
	out := make([]int32, 0, listLen)
	for _, it := range items[:min(listLen, len(items))] {
		out = append(out, it.item)
	}
	for _, x := range fill {
		if len(out) == listLen {
			break
		}
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// popularityTop is the global top-10 by training count, ties by item ID.
func popularityTop(ds *dataset, recs []record) []int32 {
	counts := make([]int, len(ds.items.names))
	for _, r := range recs {
		counts[r.item]++
	}
	idx := make([]int32, 0, len(counts))
	for i, c := range counts {
		if c > 0 {
			idx = append(idx, int32(i))
		}
	}
	slices.SortFunc(idx, func(a, b int32) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(ds.items.names[a], ds.items.names[b]))
	})
	return idx[:min(listLen, len(idx))]
}

// randomRecommender draws 10 distinct catalogue items, seeded per user so
// the result does not depend on worker scheduling.
func randomRecommender(seed uint64, catalogueSize int) func(tc *testCase) []int32 {
	return func(tc *testCase) []int32 {
		rng := rand.New(rand.NewPCG(seed, uint64(tc.user)))
		n := min(listLen, catalogueSize)
		out := make([]int32, 0, n)
		for len(out) < n {
			x := int32(rng.IntN(catalogueSize))
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
		return out
	}
}
