package supply

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The typo pass of the PostgreSQL index expands each fuzzy term to the
// indexed words one edit away (Levenshtein distance 1, what the embedded
// backend's Bleve FuzzyQuery matches) and runs them as phrases of the
// term's concept through the exact pass's machinery (migration 00006).
// The vocabulary is every word of every item's doc: supply_words, and
// supply_word_variants, each word's variants (the word and each of its
// one-letter deletions, SymSpell): two words one edit apart share a
// variant, so a term's variants looked up exactly yield every word one
// edit away, and a few two edits away, which expansions filters out.

// maxVocabularyWord is the longest word (in characters) the vocabulary
// holds: a longer run is a code, a URL or a joined-up string more likely
// than a word a user mistypes, and each word costs as many variants as
// its length. supply_doc_words (migration 00006) has the same bound.
const maxVocabularyWord = 32

// maxExpansions is how many words one term expands to at most: each is
// another phrase of the concept, so another tsquery alternative and
// another city or rank-tier key condition to plan and read. A short term
// in a large vocabulary has dozens of neighbours ("tean": team, teal,
// tear, tern, then, …), and a page's worth of them says as much as all.
// The first in byte order are kept, so every page of a query expands
// alike.
const maxExpansions = 16

// wordRune reports whether r belongs to a word: an ASCII letter or digit,
// or any character outside ASCII. Not unicode.IsLetter (tsTerm's rule):
// PostgreSQL classifies characters outside ASCII by the database's locale,
// and supply_doc_words must split a doc exactly as docWords does, so the
// rule is one a regular expression states whatever the locale. A doc is
// lower-cased already (itemRow); upper-case ASCII splits a word here and
// in SQL alike.
func wordRune(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 0x80 }

// docWords are the words of a lower-cased doc, in order, repeats
// included, each at most maxVocabularyWord characters (longer runs are
// left out): what supply_doc_words (migration 00006) returns.
func docWords(doc string) []string {
	var out []string
	eachWord(doc, func(w string) { out = append(out, w) })
	return out
}

// eachWord calls f with each of docWords(doc), allocating nothing itself.
func eachWord(doc string, f func(string)) {
	start, n := -1, 0 // the current word's first byte and length in characters
	for i, r := range doc {
		switch {
		case wordRune(r):
			if start < 0 {
				start, n = i, 0
			}
			n++
		case start >= 0:
			if n <= maxVocabularyWord {
				f(doc[start:i])
			}
			start = -1
		}
	}
	if start >= 0 && n <= maxVocabularyWord {
		f(doc[start:])
	}
}

// variants are a word and each of its one-letter deletions, distinct, in
// order: what supply_variants (migration 00006) returns.
func variants(w string) []string {
	rs := []rune(w)
	out := []string{w}
	for i := range rs {
		v := string(rs[:i]) + string(rs[i+1:])
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// withinOneEdit reports whether a and b are at most one insertion,
// deletion or substitution apart (Levenshtein distance ≤ 1), counted in
// characters as Bleve does.
func withinOneEdit(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	if len(ra)-len(rb) > 1 {
		return false
	}
	i := 0
	for i < len(rb) && ra[i] == rb[i] {
		i++
	}
	if len(ra) == len(rb) {
		// One substitution at i, then the same.
		return i == len(ra) || slices.Equal(ra[i+1:], rb[i+1:])
	}
	// One deletion from the longer at i, then the same.
	return slices.Equal(ra[i+1:], rb[i:])
}

// fuzzyWord is the vocabulary word a fuzzy phrase looks up: the phrase
// lower-cased when it is one word by docWords' rule; "" otherwise (a
// term with punctuation inside is several words of a doc).
func fuzzyWord(phrase string) string {
	if !fuzzyTerm(phrase) {
		return ""
	}
	ws := docWords(strings.ToLower(phrase))
	if len(ws) != 1 {
		return ""
	}
	return ws[0]
}

// expansions are the vocabulary's words one edit from term (never term
// itself), given the rows (variant, word) of supply_word_variants for
// term's variants: at most maxExpansions, in byte order.
func expansions(term string, found map[string][]string) []string {
	var out []string
	for _, v := range variants(term) {
		for _, w := range found[v] {
			if w != term && withinOneEdit(term, w) && !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	slices.Sort(out)
	return out[:min(len(out), maxExpansions)]
}

// expand is the typo pass pl with each fuzzy phrase's expansions added to
// its concept as phrases, read from the vocabulary in one round trip.
func (p *Postgres) expand(ctx context.Context, pl *plan) (*plan, error) {
	var terms, vs []string
	for _, phrases := range pl.concepts {
		for _, ph := range phrases {
			if w := fuzzyWord(ph); w != "" && !slices.Contains(terms, w) {
				terms = append(terms, w)
				vs = append(vs, variants(w)...)
			}
		}
	}
	if len(terms) == 0 {
		return pl, nil
	}
	rows, err := p.pool.Query(ctx, `SELECT variant, word FROM supply_word_variants WHERE variant = ANY($1)`, vs)
	if err != nil {
		return nil, p.fail(ctx, err)
	}
	found := map[string][]string{}
	var v, w string
	if _, err := pgx.ForEachRow(rows, []any{&v, &w}, func() error { found[v] = append(found[v], w); return nil }); err != nil {
		return nil, p.fail(ctx, err)
	}
	out := &plan{fuzzy: pl.fuzzy}
	for _, phrases := range pl.concepts {
		phrases = slices.Clone(phrases)
		for _, ph := range phrases {
			if w := fuzzyWord(ph); w != "" {
				for _, e := range expansions(w, found) {
					if !slices.Contains(phrases, e) {
						phrases = append(phrases, e)
					}
				}
			}
		}
		out.concepts = append(out.concepts, phrases)
	}
	return out, nil
}

// addWordsSQL records words (distinct, sorted) in the vocabulary: the new
// ones and their variants. Sorted, so two transactions insert shared
// words in the same order and never wait on each other crosswise; only
// the transaction that inserts a word inserts its variants.
const addWordsSQL = `WITH new AS (INSERT INTO supply_words SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING word)
INSERT INTO supply_word_variants SELECT v, word FROM new, supply_variants(word) AS v ON CONFLICT DO NOTHING`

// wordSet collects the distinct words of docs.
type wordSet map[string]struct{}

func (s wordSet) add(doc string) {
	eachWord(doc, func(w string) {
		if _, ok := s[w]; !ok {
			s[strings.Clone(w)] = struct{}{} // not the doc's memory
		}
	})
}

func (s wordSet) sorted() []string { return slices.Sorted(maps.Keys(s)) }
