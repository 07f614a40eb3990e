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

// trigramGroups splits the trigrams of a fuzzy phrase into groups such
// that every doc the phrase matches (phrase <% doc) holds every trigram of
// at least one group: such a doc holds at least k of the phrase's n
// trigrams, k/n ≥ trigramThreshold (pg_trgm's own index tests that much),
// so at most n−k are missing, and of n−k+1 disjoint groups one misses
// none. Groups of neighbouring trigrams are pieces of the word, so each is
// as rare in the index as a piece of the word is in the catalogue. ok is
// false when the phrase's trigrams are not known here (see trigrams).
func trigramGroups(phrase string) (groups [][]string, ok bool) {
	ts, ok := trigrams(phrase)
	if !ok || len(ts) == 0 {
		// No trigrams: pg_trgm matches nothing, and neither do no groups.
		return nil, ok
	}
	n := len(ts)
	k := 1
	// The same float4 division as pg_trgm's index.
	for float64(float32(k)/float32(n)) < trigramThreshold {
		k++
	}
	g := n - k + 1
	for i := range g {
		groups = append(groups, ts[i*n/g:(i+1)*n/g])
	}
	return groups, true
}
