package supply

import (
	"slices"
	"strings"
)

// The expressions of the city-qualified GIN indexes (migration 00003): a
// condition is read from an expression index only when it is written as
// the index is.
const (
	cityKeysExpr     = "supply_city_keys(cities, tsv, category_key, kind)"
	cityTrigramsExpr = "supply_city_trigrams(cities, doc)"
)

// trigramThreshold is pg_trgm.word_similarity_threshold as every search
// sets it (pg_trgm's default): trigramGroups relies on it.
const trigramThreshold = 0.6

// tsWords is a phrase's terms as tsQuery writes them, separated by spaces:
// to_tsvector makes of it the lexemes to_tsquery makes of the phrase.
func tsWords(phrase string) string {
	var ws []string
	for _, t := range strings.Fields(phrase) {
		if t = tsTerm(t); t != "" {
			ws = append(ws, t)
		}
	}
	return strings.Join(ws, " ")
}

// trigrams are the distinct trigrams pg_trgm makes of s (show_trgm), in
// the order they occur; ok is false when s holds a byte outside ASCII,
// whose trigrams pg_trgm may hash (then the caller does without them).
func trigrams(s string) (out []string, ok bool) {
	seen := map[string]bool{}
	word := func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return nil, false
		}
	}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !word(r) }) {
		padded := "  " + w + " "
		for i := 0; i+3 <= len(padded); i++ {
			if t := padded[i : i+3]; !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out, true
}

// trigramNeed is the trigrams pg_trgm makes of a fuzzy phrase and how
// many of them a doc the phrase matches (phrase <% doc) holds at least:
// k of n with k/n ≥ trigramThreshold, in the float4 arithmetic of
// pg_trgm's own index, which tests that much. ok is false when the
// phrase's trigrams are not known here (see trigrams).
func trigramNeed(phrase string) (ts []string, k int, ok bool) {
	ts, ok = trigrams(phrase)
	if !ok || len(ts) == 0 {
		return ts, 0, ok
	}
	n := len(ts)
	k = 1
	for float64(float32(k)/float32(n)) < trigramThreshold {
		k++
	}
	return ts, k, true
}

// maxTrigramSubsets bounds trigramSubsets: the subsets are conditions of
// one index scan, each planned and checked per row.
const maxTrigramSubsets = 128

// trigramSubsets is, for a fuzzy phrase of n trigrams of which a match
// holds at least k, every subset of n−k+1 of them: a doc holds one of each
// subset exactly when it holds at least k (it misses at most n−k), so the
// subsets, each an overlap (&&) with the doc's city-qualified trigrams and
// all of them conditions of one GIN scan, yield what pg_trgm's own index
// would, within the city. Nil when there would be more than
// maxTrigramSubsets (then trigramGroups), or no trigrams.
func trigramSubsets(phrase string) (subsets [][]string, ok bool) {
	ts, k, ok := trigramNeed(phrase)
	if !ok || len(ts) == 0 {
		return nil, ok
	}
	n, size := len(ts), len(ts)-k+1
	if binomial(n, size) > maxTrigramSubsets {
		return nil, true
	}
	var pick func(from int, cur []string)
	pick = func(from int, cur []string) {
		if len(cur) == size {
			subsets = append(subsets, slices.Clone(cur))
			return
		}
		for i := from; i <= n-(size-len(cur)); i++ {
			pick(i+1, append(cur, ts[i]))
		}
	}
	pick(0, nil)
	return subsets, true
}

// binomial is n choose k, saturating past 1<<20.
func binomial(n, k int) int {
	c := 1
	for i := range k {
		c = c * (n - i) / (i + 1)
		if c > 1<<20 {
			return 1 << 20
		}
	}
	return c
}

// trigramGroups splits the trigrams of a fuzzy phrase into groups such
// that every doc the phrase matches holds every trigram of at least one
// group: such a doc misses at most n−k of the phrase's n trigrams
// (trigramNeed), so of n−k+1 disjoint groups one misses none. Looser than
// trigramSubsets (a group's rows are checked one by one), for phrases too
// long for those. Groups of neighbouring trigrams are pieces of the word,
// so each is as rare in the index as a piece of the word is in the
// catalogue. ok is false when the phrase's trigrams are not known here.
func trigramGroups(phrase string) (groups [][]string, ok bool) {
	ts, k, ok := trigramNeed(phrase)
	if !ok || len(ts) == 0 {
		// No trigrams: pg_trgm matches nothing, and neither do no groups.
		return nil, ok
	}
	n := len(ts)
	g := n - k + 1
	// A trigram with a space pads a word's start or end ("  c", " ch",
	// "ar "): most docs hold one, so a group of those alone would read
	// much of the city (a tenth of it for "chedar"'s " ch"). Each group
	// gets a run of the word's inner trigrams, the padding spread over
	// them; the groups stay disjoint, which is all the bound needs.
	var inner, pad []string
	for _, t := range ts {
		if strings.Contains(t, " ") {
			pad = append(pad, t)
		} else {
			inner = append(inner, t)
		}
	}
	if len(inner) < g {
		inner, pad = ts, nil
	}
	m := len(inner)
	for i := range g {
		groups = append(groups, slices.Clone(inner[i*m/g:(i+1)*m/g]))
	}
	for i, t := range pad {
		groups[i%g] = append(groups[i%g], t)
	}
	return groups, true
}
