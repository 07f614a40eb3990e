package supply

import (
	"strings"
)

// cityKeysExpr is the expression of the city-qualified GIN index
// (migration 00003): a condition is read from an expression index only
// when it is written as the index is.
const cityKeysExpr = "supply_city_keys(cities, tsv, category_key, kind)"

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
