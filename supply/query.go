package supply

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/plaza-gateway/plaza/rank"
)

// Field weights of the index score: a match in the name says more than
// one in the category, the tags or the description. Powers of two, so the
// score also says which fields matched.
const (
	weightName        = 8
	weightCategory    = 4
	weightTags        = 2
	weightDescription = 1
)

// plan is a text query analysed into concepts, each a list of phrases
// (normalised terms joined by a space); every concept must match.
type plan struct {
	concepts [][]string
	// fuzzy: the typo pass (corrections, and backends' own fuzzy matching
	// of unknown terms), tried when the exact pass finds nothing.
	fuzzy bool
}

// plans returns the exact pass and, when any concept has corrections or a
// term long enough to carry a typo, the typo pass. Nil for a browse.
// A concept the text repeats is planned once: every concept must match, so
// a repeat matches nothing more or less, while each one costs the backend
// a sub-query per field (and a fuzzy one in the typo pass): 256 characters
// of one repeated phrase cost ~100 ms in Bleve before, one pass of its few
// words after.
func plans(text string) (exact, typo *plan) {
	cs := rank.DefaultLexicon().Expand(text)
	if len(cs) == 0 {
		return nil, nil
	}
	exact, typo = &plan{}, &plan{fuzzy: true}
	seen := make(map[string]bool, len(cs))
	for _, c := range cs {
		if seen[c.Own] {
			continue
		}
		seen[c.Own] = true
		phrases := append([]string{c.Own}, c.Synonyms...)
		exact.concepts = append(exact.concepts, phrases)
		typo.concepts = append(typo.concepts, append(slices.Clone(phrases), c.Corrections...))
	}
	return exact, typo
}

// fuzzyTerm reports whether a phrase is a single term long enough for a
// backend's own typo matching (one edit): below four letters one edit
// turns most words into other words.
func fuzzyTerm(phrase string) bool { return len(phrase) >= 4 && !strings.Contains(phrase, " ") }

// cursor is a position in a query's order: after the hit with this score,
// rating and key. Pass pins the text pass the first page used, so a page
// cannot switch passes when matches appear or disappear underneath.
type cursor struct {
	Query  uint64  `json:"q"`
	Pass   int     `json:"p,omitempty"`
	Score  int     `json:"s"`
	Rating float64 `json:"r"`
	Key    string  `json:"k"`
	// Value is the last hit's sortValue under a non-relevance Sort.
	Value float64 `json:"v,omitempty"`
}

// queryID fingerprints what a cursor is valid for: the text and filters,
// not the page size.
func queryID(q Query) uint64 {
	h := sha256.New()
	fmt.Fprintf(h, "%q|%v|%v|%q|%q", q.Text, q.Verticals, q.Kinds, norm(q.City), norm(q.Category))
	if q.Sort != SortRelevance || q.Near != nil || q.MinPrice != nil || q.MaxPrice != nil {
		// Added only when set, so cursors of plain queries stay valid.
		fmt.Fprintf(h, "|%q|%v|%v|%v", q.Sort, bound(q.MinPrice), bound(q.MaxPrice), q.Near)
	}
	return binary.BigEndian.Uint64(h.Sum(nil))
}

func bound(p *int64) any {
	if p == nil {
		return "-"
	}
	return *p
}

// missing is the sort value of an item without the sorted field: after
// every real one.
const missing = math.MaxFloat64

// earthKm is the mean Earth radius of the haversine distance.
const earthKm = 6371.0

// sortValue is an item's place under a non-relevance sort, ascending:
// price (or its negation), the negated rating, or the distance in km from
// q.Near; missing when the item has no price or no geo.
func sortValue(q Query, it *Item) float64 {
	switch q.Sort {
	case SortPriceAsc, SortPriceDesc:
		if it.Price <= 0 {
			return missing
		}
		if q.Sort == SortPriceDesc {
			return -float64(it.Price)
		}
		return float64(it.Price)
	case SortRating:
		return -it.Rating
	case SortDistance:
		if it.Geo == nil {
			return missing
		}
		return haversineKm(*q.Near, *it.Geo)
	}
	return 0
}

// haversineKm is the great-circle distance between two points, the same
// formula the PostgreSQL backend evaluates (distanceSQL).
func haversineKm(a, b Geo) float64 {
	rad := math.Pi / 180
	dLat, dLon := (b.Lat-a.Lat)*rad/2, (b.Lon-a.Lon)*rad/2
	h := math.Pow(math.Sin(dLat), 2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Pow(math.Sin(dLon), 2)
	return 2 * earthKm * math.Asin(math.Sqrt(h))
}

// priceRange is q's price filter as inclusive bounds over priced items;
// ok is false when q has none.
func priceRange(q Query) (lo, hi int64, ok bool) {
	if q.MinPrice == nil && q.MaxPrice == nil {
		return 0, 0, false
	}
	lo, hi = 1, math.MaxInt64
	if q.MinPrice != nil {
		lo = max(*q.MinPrice, 1)
	}
	if q.MaxPrice != nil {
		hi = *q.MaxPrice
	}
	return lo, hi, true
}

const cursorPrefix = "supply1:"

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(append([]byte(cursorPrefix), b...))
}

// decodeCursor reads q.After; nil when there is none.
func decodeCursor(q Query) (*cursor, error) {
	if q.After == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(q.After)
	if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) {
		return nil, fmt.Errorf("%w: after is not a cursor of this index", ErrBadQuery)
	}
	var c cursor
	if err := json.Unmarshal(raw[len(cursorPrefix):], &c); err != nil || c.Key == "" {
		return nil, fmt.Errorf("%w: after is not a cursor of this index", ErrBadQuery)
	}
	if c.Query != queryID(q) {
		return nil, fmt.Errorf("%w: after is a cursor of another query", ErrBadQuery)
	}
	return &c, nil
}

// nextCursor is the cursor after hit last of pass.
func nextCursor(q Query, pass int, last *Hit) string {
	c := cursor{Query: queryID(q), Pass: pass, Score: last.Score, Rating: last.Item.Rating, Key: last.Item.Ref().Key()}
	if q.Sort != SortRelevance {
		c.Value = last.sortKey
	}
	return encodeCursor(c)
}

// compareHits orders hits: score descending, rating descending, key
// ascending (byte order).
func compareHits(a, b *Hit) int {
	return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.Item.Rating, a.Item.Rating),
		strings.Compare(a.Item.Ref().Key(), b.Item.Ref().Key()))
}

// after reports whether h comes after the cursor position.
func (c *cursor) after(h *Hit) bool {
	return cmp.Or(cmp.Compare(h.Score, c.Score), cmp.Compare(h.Item.Rating, c.Rating), strings.Compare(c.Key, h.Item.Ref().Key())) < 0
}

// pageOf cuts the page of first hits after c from hits, which are in
// order, and sets the next cursor when more follow.
func pageOf(q Query, pass int, hits []Hit, c *cursor) Page {
	if c != nil {
		i, _ := slices.BinarySearchFunc(hits, c, func(h Hit, c *cursor) int {
			if c.after(&h) {
				return 1
			}
			return -1
		})
		hits = hits[i:]
	}
	var p Page
	if len(hits) > q.First {
		hits = hits[:q.First]
		last := hits[len(hits)-1]
		p.NextCursor = nextCursor(q, pass, &last)
	}
	p.Hits = hits
	return p
}

// facetList turns counts into a facet, most first, ties by value, at most
// facetEntries values.
func facetList(counts map[string]int) []FacetCount {
	out := make([]FacetCount, 0, len(counts))
	for v, n := range counts {
		if v == "" {
			continue // items without a category
		}
		out = append(out, FacetCount{Value: v, Count: n})
	}
	slices.SortFunc(out, func(a, b FacetCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
	})
	return out[:min(len(out), facetEntries)]
}
