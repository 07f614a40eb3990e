package rank

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDiversifyByMatchesGroupScan checks the walk of sorted against the
// rule as first written: compare every group's next item for each place
// (best: the smallest; free: the smallest of a group with places left).
// Random lists of few and of many groups, scores with ties and gaps, every
// block size and cap the config allows.
func TestDiversifyByMatchesGroupScan(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 15))
	for trial := range 3000 {
		n := 1 + r.IntN(120)
		groups := 1 + r.IntN([]int{3, 12, 200}[trial%3])
		docs := make([]Doc, n)
		sorted := make([]Result, n)
		score := 10.0
		for i := range n {
			docs[i] = Doc{Provider: fmt.Sprint(r.IntN(groups))}
			if r.IntN(3) > 0 {
				score -= r.Float64() * 2
			}
			sorted[i] = Result{Index: n - 1 - i, Score: score}
		}
		slices.Reverse(docs) // sorted's Index points anywhere in docs
		page := 1 + r.IntN(12)
		maxPer := 1 + r.IntN(page)
		fair := r.IntN(2) == 0
		floor := []float64{0, 0.25, 0.5, 0.9, 1}[r.IntN(5)]
		group := func(d *Doc) string { return d.Provider }
		want := diversifyByGroupScan(slices.Clone(sorted), docs, group, page, maxPer, fair, floor)
		got := diversifyBy(slices.Clone(sorted), docs, group, page, maxPer, fair, floor)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d (n %d, groups %d, page %d, maxPer %d, fair %v, floor %v):\n got %v\nwant %v",
				trial, n, groups, page, maxPer, fair, floor, indexes(got), indexes(want))
		}
		// With a spare buffer (Rank's two passes): the same order, and
		// the input, when it was reordered, handed back as the spare.
		for _, room := range []int{0, n} { // a spare too small, and one large enough
			in, spare := slices.Clone(sorted), make([]Result, 0, room)
			got = diversifyInto(&spare, in, docs, group, page, maxPer, fair, floor)
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d with a spare of %d: got %v want %v", trial, room, indexes(got), indexes(want))
			}
			if &got[0] != &in[0] && (len(spare) == 0 || &spare[0] != &in[0]) {
				t.Fatalf("trial %d: the input was not handed back as the spare", trial)
			}
		}
	}
}

func indexes(rs []Result) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.Index
	}
	return out
}

// diversifyByGroupScan is diversifyBy as first written, O(n·groups): the
// reference the walk must agree with.
func diversifyByGroupScan(sorted []Result, docs []Doc, group func(*Doc) string, page, maxPer int, fair bool, floor float64) []Result {
	if page <= 0 || maxPer <= 0 || maxPer >= page || len(sorted) <= maxPer {
		return sorted
	}
	providers := map[string]int{}
	var queues [][]int
	for pos, r := range sorted {
		p := group(&docs[r.Index])
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

// BenchmarkDiversify400: the index's 400 candidates at 10^6 providers, as
// many providers as candidates, over four verticals: both diversity
// passes Rank makes.
func BenchmarkDiversify400(b *testing.B) {
	const n = 400
	docs := make([]Doc, n)
	sorted := make([]Result, n)
	for i := range docs {
		docs[i] = Doc{Provider: fmt.Sprintf("provider-%06d", i*7919%1000003), Group: fmt.Sprint("vertical-", i%4)}
		sorted[i] = Result{Index: i, Score: float64(n - i)}
	}
	cfg := DefaultConfig()
	b.ReportAllocs()
	for b.Loop() {
		out := diversify(slices.Clone(sorted), docs, cfg.DiversityPage, cfg.MaxPerProvider, cfg.DiversityFloor)
		diversifyBy(out, docs, groupOf, cfg.DiversityPage, cfg.MaxPerGroup, true, cfg.GroupFloor)
	}
}
