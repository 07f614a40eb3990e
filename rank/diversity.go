package rank

import "slices"

// diversify reorders sorted (best first) so that in every block of page
// positions (0..page-1, page..2·page-1, ...) no provider takes more than
// maxPer places while another provider still has an item worth showing: one
// scoring at least floor times the item it would displace. Within those
// limits it keeps the sorted order, so it is a deterministic function of
// sorted and visits every item exactly once.
//
// Blocks are fixed positions of the whole list, not of a client's page, so
// the order does not depend on `first`: a client paging by 7 sees the same
// sequence as one asking for 100. Cost is O(n·blocks) for n items, whatever
// the number of providers (see diversifyBy).
func diversify(sorted []Result, docs []Doc, page, maxPer int, floor float64) []Result {
	return diversifyBy(sorted, docs, providerOf, page, maxPer, false, floor)
}

// diversifyBy is diversify over any grouping of the documents (provider,
// vertical). With fair, a group's places in a block are also capped at its
// fair share: the block's size divided by the number of groups that still
// have items at the block's start, rounded up. Four verticals then get at
// most three places each in a block of ten, so each of them shows at least
// once (if its best item clears the floor); a fixed cap alone would let
// the two most popular verticals fill the block. Providers are not grouped
// fairly: with hundreds of them a fair share would be a single place.
//
// Each place goes to the first item not yet placed (the best), unless its
// group has used its places in the block: then to the first item of a
// group that has not (the free one), if it clears the floor. Both are
// found by walking sorted, not the groups: the best is the first item not
// placed, and within a block the free one never moves back (items are only
// placed and groups only fill), so a block costs one walk of sorted at
// most. Comparing every group's next item instead cost O(n·groups): with
// 400 candidates of as many providers (the index's candidates at 10^6
// providers) that was 160,000 steps a search.
func diversifyBy(sorted []Result, docs []Doc, group func(*Doc) string, page, maxPer int, fair bool, floor float64) []Result {
	return diversifyInto(nil, sorted, docs, group, page, maxPer, fair, floor)
}

// diversifyInto is diversifyBy writing its reordering into *spare when
// that is large enough (and leaving sorted, no longer needed, in *spare
// for the next pass): Rank's two passes share one buffer.
func diversifyInto(spare *[]Result, sorted []Result, docs []Doc, group func(*Doc) string, page, maxPer int, fair bool, floor float64) []Result {
	if page <= 0 || maxPer <= 0 || maxPer >= page || len(sorted) <= maxPer {
		return sorted
	}
	// Sized for a group per item at once: 400 candidates of as many
	// providers grew it eight times a search, most of what diversity cost.
	ids := make(map[string]int32, len(sorted))
	of := make([]int32, len(sorted)) // the group of each position
	var left []int                   // per group, its items not yet placed
	for pos, r := range sorted {
		g := group(&docs[r.Index])
		k, ok := ids[g]
		if !ok {
			k = int32(len(left))
			ids[g] = k
			left = append(left, 0)
		}
		of[pos] = k
		left[k]++
	}
	if len(left) == 1 {
		return sorted
	}
	// A block's limit is at its least at the start, with every group
	// active (fewer groups only raise the fair share). If no group has
	// more items than that, none ever uses its places up and the order
	// stays: at 10^6 providers, where a search's candidates come from as
	// many providers, the provider pass ends here.
	limit := maxPer
	if fair {
		limit = min(maxPer, (page+len(left)-1)/len(left))
	}
	if slices.Max(left) <= limit {
		return sorted
	}
	placed := make([]bool, len(sorted))
	used := make([]int, len(left))
	active := len(left) // groups with items left
	var out []Result
	if spare != nil && cap(*spare) >= len(sorted) {
		out = (*spare)[:0]
	} else {
		out = make([]Result, 0, len(sorted))
	}
	if spare != nil {
		*spare = sorted
	}
	// best is the first position not placed; free is at or before the
	// first position not placed whose group has places left in the block.
	best, free := 0, 0
	for len(out) < len(sorted) {
		for placed[best] {
			best++
		}
		if len(out)%page == 0 {
			clear(used)
			if fair {
				limit = min(maxPer, (page+active-1)/active)
			}
			free = best
		}
		free = max(free, best)
		for free < len(sorted) && (placed[free] || used[of[free]] >= limit) {
			free++
		}
		pick := best
		if used[of[best]] >= limit && free < len(sorted) && sorted[free].Score >= floor*sorted[best].Score {
			pick = free
		}
		out = append(out, sorted[pick])
		placed[pick] = true
		k := of[pick]
		used[k]++
		if left[k]--; left[k] == 0 {
			active--
		}
	}
	return out
}
