package supply

import (
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

// trigramWindows are, for a fuzzy phrase of n trigrams of which a match
// holds at least k (trigramNeed), its runs of n−k+1 neighbouring
// trigrams: a doc that misses at most n−k of them holds one of every run.
// Overlaps (&&) with the doc's city-qualified trigrams, all of them
// conditions of one GIN scan, so the scan yields the city's rows that
// hold a trigram of every run: those with enough of the word's pieces,
// nearly only the rows the phrase matches. (Every subset of n−k+1, not
// only the runs, would yield exactly pg_trgm's own candidates, but a
// nine-letter word has 126 such subsets, and planning 126 conditions took
// longer than checking the few extra rows the runs let through.) Nil
// when the phrase has no trigrams; ok is false when its trigrams are not
// known here (see trigrams).
func trigramWindows(phrase string) (windows [][]string, ok bool) {
	ts, k, ok := trigramNeed(phrase)
	if !ok || len(ts) == 0 {
		return nil, ok
	}
	size := len(ts) - k + 1
	for i := 0; i+size <= len(ts); i++ {
		windows = append(windows, ts[i:i+size])
	}
	return windows, true
}
