package demo

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/plaza-gateway/plaza/connectors"
)

const (
	defaultPageSize = 20
	maxPageSize     = 1000
)

// Field weights for the text score: a hit in the name says more than a hit in
// a bio. The gateway re-ranks across providers; these only need to be sensible
// and deterministic.
const (
	weightName     = 4
	weightCategory = 3
	weightTag      = 2
	weightBody     = 1
)

// searchDoc is the immutable, lower-cased search view of one object.
type searchDoc struct {
	id       string
	rating   float64
	name     string
	category string
	tags     string
	body     string
	// cities and categories back the City and Category filters.
	cities     []string
	categories []string
	storeID    string
}

// index holds a provider's searchable objects in browse order (rating
// descending, then ID), with docs[i] describing items[i].
type index[T any] struct {
	docs  []searchDoc
	items []*T
}

func newIndex[T any](items []*T, doc func(*T) searchDoc) *index[T] {
	ix := &index[T]{docs: make([]searchDoc, len(items)), items: slices.Clone(items)}
	for i, it := range ix.items {
		ix.docs[i] = doc(it)
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return browseOrder(&ix.docs[a], &ix.docs[b]) })
	docs, sorted := make([]searchDoc, len(order)), make([]*T, len(order))
	for i, j := range order {
		docs[i], sorted[i] = ix.docs[j], ix.items[j]
	}
	ix.docs, ix.items = docs, sorted
	return ix
}

func browseOrder(a, b *searchDoc) int {
	switch {
	case a.rating > b.rating:
		return -1
	case a.rating < b.rating:
		return 1
	}
	return strings.Compare(a.id, b.id)
}

type hit struct {
	pos   int
	score int
}

// search pages through the matches of q, best first. The caller holds the
// provider's read lock, since clone may read mutable fields such as stock.
// Returns KindInvalid for a cursor this index did not produce.
func (ix *index[T]) search(q connectors.Query, clone func(*T) T) (connectors.Page[T], error) {
	offset, err := decodeCursor(q.After)
	if err != nil {
		return connectors.Page[T]{}, err
	}
	first := q.First
	if first <= 0 {
		first = defaultPageSize
	}
	first = min(first, maxPageSize)

	terms := tokenize(q.Text)
	city, category, store := strings.ToLower(strings.TrimSpace(q.City)), strings.ToLower(strings.TrimSpace(q.Category)), q.StoreID
	hits := make([]hit, 0, 64)
	for i := range ix.docs {
		d := &ix.docs[i]
		if city != "" && !slices.Contains(d.cities, city) ||
			category != "" && !slices.Contains(d.categories, category) ||
			store != "" && d.storeID != store {
			continue
		}
		score, ok := d.score(terms)
		if !ok {
			continue
		}
		hits = append(hits, hit{pos: i, score: score})
	}
	// Docs are already in browse order, so a stable sort by score keeps
	// rating and ID as tie-breakers and the order is total.
	slices.SortStableFunc(hits, func(a, b hit) int { return b.score - a.score })

	page := connectors.Page[T]{Total: len(hits)}
	if offset >= len(hits) {
		return page, nil
	}
	end := min(offset+first, len(hits))
	page.Items = make([]T, 0, end-offset)
	for _, h := range hits[offset:end] {
		page.Items = append(page.Items, clone(ix.items[h.pos]))
	}
	if end < len(hits) {
		page.NextCursor = encodeCursor(end)
	}
	return page, nil
}

// score returns the doc's text score for terms; every term must match some
// field. No terms is a browse: everything matches with score 0.
func (d *searchDoc) score(terms []string) (int, bool) {
	total := 0
	for _, t := range terms {
		w := 0
		switch {
		case containsTerm(d.name, t):
			w = weightName
		case containsTerm(d.category, t):
			w = weightCategory
		case containsTerm(d.tags, t):
			w = weightTag
		case containsTerm(d.body, t):
			w = weightBody
		default:
			return 0, false
		}
		total += w
	}
	return total, true
}

// containsTerm matches t as a substring, and a plural query against a singular
// text ("eggs" finds "egg").
func containsTerm(s, t string) bool {
	if strings.Contains(s, t) {
		return true
	}
	if len(t) > 3 && strings.HasSuffix(t, "s") {
		return strings.Contains(s, t[:len(t)-1])
	}
	return false
}

var stopWords = map[string]bool{"a": true, "an": true, "and": true, "the": true, "for": true, "of": true, "with": true, "in": true, "to": true, "or": true}

// tokenize lower-cases text and splits it into words, dropping stop words.
func tokenize(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := words[:0]
	for _, w := range words {
		if !stopWords[w] {
			out = append(out, w)
		}
	}
	return out
}

// lower joins parts into one lower-cased haystack.
func lower(parts ...string) string { return strings.ToLower(strings.Join(parts, " | ")) }

func lowerAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToLower(v)
	}
	return out
}

// Cursors are opaque to clients; inside they are a versioned offset into the
// deterministic ranking, which is stable because ranking fields never change.
const cursorPrefix = "demo1:"

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && strings.HasPrefix(string(raw), cursorPrefix) {
		n, convErr := strconv.Atoi(strings.TrimPrefix(string(raw), cursorPrefix))
		if convErr == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, connectors.Errorf(connectors.KindInvalid, "invalid cursor %q", c)
}
