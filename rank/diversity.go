package rank

// diversify reorders sorted (best first) so that in every block of page
// positions (0..page-1, page..2·page-1, ...) no provider takes more than
// maxPer places while another provider still has an item worth showing: one
// scoring at least floor times the item it would displace. Within those
// limits it keeps the sorted order, so it is a deterministic function of
// sorted and visits every item exactly once.
//
// Blocks are fixed positions of the whole list, not of a client's page, so
// the order does not depend on `first`: a client paging by 7 sees the same
// sequence as one asking for 100. Cost is O(n·providers).
func diversify(sorted []Result, docs []Doc, page, maxPer int, floor float64) []Result {
	return diversifyBy(sorted, docs, func(d Doc) string { return d.Provider }, page, maxPer, false, floor)
}

// diversifyBy is diversify over any grouping of the documents (provider,
// vertical). With fair, a group's places in a block are also capped at its
// fair share: the block's size divided by the number of groups that still
// have items at the block's start, rounded up. Four verticals then get at
// most three places each in a block of ten, so each of them shows at least
// once (if its best item clears the floor); a fixed cap alone would let
// the two most popular verticals fill the block. Providers are not grouped
// fairly: with hundreds of them a fair share would be a single place.
func diversifyBy(sorted []Result, docs []Doc, group func(Doc) string, page, maxPer int, fair bool, floor float64) []Result {
	if page <= 0 || maxPer <= 0 || maxPer >= page || len(sorted) <= maxPer {
		return sorted
	}
	providers := map[string]int{}
	var queues [][]int // per provider, positions in sorted, best first
	for pos, r := range sorted {
		p := group(docs[r.Index])
		k, ok := providers[p]
		if !ok {
			k = len(queues)
			providers[p] = k
			queues = append(queues, nil)
		}
		queues[k] = append(queues[k], pos)
	}
	if len(queues) == 1 {
		return sorted
	}
	heads := make([]int, len(queues))
	used := make([]int, len(queues))
	head := func(k int) int { return queues[k][heads[k]] }
	out := make([]Result, 0, len(sorted))
	limit := maxPer
	for len(out) < len(sorted) {
		if len(out)%page == 0 {
			clear(used)
			if fair {
				active := 0
				for k := range queues {
					if heads[k] < len(queues[k]) {
						active++
					}
				}
				limit = min(maxPer, (page+active-1)/active)
			}
		}
		best, free := -1, -1
		for k := range queues {
			if heads[k] == len(queues[k]) {
				continue
			}
			if best < 0 || head(k) < head(best) {
				best = k
			}
			if used[k] < limit && (free < 0 || head(k) < head(free)) {
				free = k
			}
		}
		pick := best
		if used[best] >= limit && free >= 0 && sorted[head(free)].Score >= floor*sorted[head(best)].Score {
			pick = free
		}
		out = append(out, sorted[head(pick)])
		heads[pick]++
		used[pick]++
	}
	return out
}
