// Package supply is Plaza's supply index: the catalogue items providers
// publish (products, stores, doctors, lawyers, government services,
// offices), searchable without calling any provider.
//
// One interface, Index, has two backends run by one contract test suite:
// Bleve in memory (NewMemory, the default for `go run .`) and PostgreSQL
// (NewPostgres, shared by every instance). Both take batches of upserts and
// deletes in which every item carries a version (an older version never
// overwrites a newer one, and a delete leaves a tombstone so a late upsert
// cannot bring an item back), and both answer a Query with filters on
// vertical, kind, city and category, facets with counts, the synonyms and
// typo corrections of rank.DefaultLexicon, and a keyset cursor.
//
// The index retrieves; it does not rank for the user. Its order is a
// stable, item-local one (which fields matched, then rating, then key) so
// that a cursor stays valid while the index changes underneath; Plaza
// re-ranks the top candidates with its own signals (package rank).
package supply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind is the kind of a catalogue item, as the catalogue contract names it.
type Kind string

// The kinds of item a provider may publish.
const (
	KindProduct    Kind = "product"
	KindStore      Kind = "store"
	KindDoctor     Kind = "doctor"
	KindLawyer     Kind = "lawyer"
	KindGovService Kind = "govService"
	KindOffice     Kind = "office"
)

// Vertical is a line of business, as connectors.Vertical spells it.
type Vertical string

// verticalOf maps each kind to its vertical; the vertical filter follows.
var verticalOf = map[Kind]Vertical{
	KindProduct: "GROCERY", KindStore: "GROCERY",
	KindDoctor:     "MEDICAL",
	KindLawyer:     "LEGAL",
	KindGovService: "PUBLIC_SERVICE", KindOffice: "PUBLIC_SERVICE",
}

// VerticalOf returns the vertical of kind k ("" for an unknown kind).
func VerticalOf(k Kind) Vertical { return verticalOf[k] }

// Geo is a point in WGS 84 degrees.
type Geo struct {
	Lat, Lon float64
}

// Item is one catalogue entry as a provider publishes it. Provider, Kind
// and ID identify it. Fields that do not change between pushes (a name, a
// city) are served from the index; price and availability here are what
// the provider last published, and the page Plaza shows completes them
// live from the provider.
type Item struct {
	Provider string
	Kind     Kind
	ID       string
	Name     string
	// Description is everything else worth matching: a description, a
	// bio, an address.
	Description string
	// Category is what the item is: a product's aisle, a doctor's
	// specialty, a lawyer's main practice area, a service's category.
	Category string
	Tags     []string
	// Cities the item is in or serves (a store, doctor or lawyer has one;
	// a government service is offered in several).
	Cities []string
	Geo    *Geo
	// Price in minor units (fen, cents) of Currency; 0 when not priced.
	Price    int64
	Currency string
	// Available: in stock, or with free slots.
	Available bool
	// Rating on the usual 0-5 scale; browsing without text shows the best
	// rated first.
	Rating float64
	// Version orders the provider's changes to this item: a change applies
	// only over a lower version. UpdatedAt stands for it (in microseconds)
	// when Version is 0.
	Version   int64
	UpdatedAt time.Time
}

// Ref identifies an item, and for a delete the version it deletes at.
type Ref struct {
	Provider string
	Kind     Kind
	ID       string
	Version  int64
}

// Key is the item's identity as one string: provider/kind/id.
func (r Ref) Key() string { return r.Provider + "/" + string(r.Kind) + "/" + r.ID }

// Ref returns the item's identity at its version.
func (it *Item) Ref() Ref {
	return Ref{Provider: it.Provider, Kind: it.Kind, ID: it.ID, Version: it.version()}
}

func (it *Item) version() int64 {
	if it.Version == 0 && !it.UpdatedAt.IsZero() {
		return it.UpdatedAt.UnixMicro()
	}
	return it.Version
}

// Batch is one push: items to insert or replace, and items to delete.
type Batch struct {
	Upserts []Item
	Deletes []Ref
}

// Outcome is what the index did with one item of a batch.
type Outcome string

const (
	// Indexed: the change is applied and searchable.
	Indexed Outcome = "indexed"
	// Superseded: the index already holds this version or a newer one (or
	// a newer delete); nothing changed. Pushing the same batch twice
	// reports every item Superseded the second time.
	Superseded Outcome = "superseded"
	// Rejected: the item is malformed (Result.Err says why); nothing
	// changed for it.
	Rejected Outcome = "rejected"
)

// Result is the outcome of one item, in batch order: upserts first, then
// deletes.
type Result struct {
	Ref     Ref
	Outcome Outcome
	Err     error
}

// Ack acknowledges a batch item by item. A malformed item is rejected on
// its own: the rest of the batch is applied.
type Ack struct {
	Results []Result
}

// Count returns how many items had outcome o.
func (a Ack) Count(o Outcome) int {
	n := 0
	for _, r := range a.Results {
		if r.Outcome == o {
			n++
		}
	}
	return n
}

// Query selects items. Text is matched against name, category, tags and
// description, with synonyms; when nothing matches the words as written,
// typo corrections are tried. Empty Text browses: everything that passes
// the filters, best rated first.
type Query struct {
	Text      string
	Verticals []Vertical
	Kinds     []Kind
	City      string
	Category  string
	// First is how many items to return: DefaultFirst when 0, at most
	// MaxFirst (the candidates of two-stage ranking are a few hundred).
	First int
	// After is the NextCursor of the previous page of the same query.
	After string
	// Facets asks for counts over every match (not only this page).
	Facets bool
	// Sort is the page's order: SortRelevance (the index's own order, for
	// two-stage re-ranking) unless asked otherwise.
	Sort Sort
	// Near is the point SortDistance measures from (required by it).
	Near *Geo
	// MinPrice and MaxPrice keep only priced items (Price > 0) whose Price
	// lies in the range, bounds included; nil is no bound.
	MinPrice, MaxPrice *int64
}

// Sort is an order of a query's matches. Every order but SortRelevance
// ends with the item key, so it is total and a cursor stays valid while
// the index changes underneath; items without the sorted value (no price,
// no geo) come last.
type Sort string

const (
	SortRelevance Sort = ""
	SortPriceAsc  Sort = "price_asc"
	SortPriceDesc Sort = "price_desc"
	// SortRating: best rated first.
	SortRating Sort = "rating"
	// SortDistance: nearest to Query.Near first, by great-circle distance.
	SortDistance Sort = "distance"
)

const (
	DefaultFirst = 20
	MaxFirst     = 1000
	// MaxMatches bounds how many matches of a text query are put in the
	// index's order (the rest are not returned) and Total: beyond it,
	// Total says MaxMatches ("at least"), since counting every match of a
	// common word reads as many rows as there are matches. Facets count
	// them all.
	MaxMatches = 1000
	// MaxCandidates bounds how many of a text query's matches the
	// PostgreSQL index scores when it orders by relevance: the first in
	// the rank-tier order (best rated first, see Postgres), across the
	// country or in the query's city, so one common word reads a few
	// thousand rows rather than every match. Past it, the pages are the
	// best of those candidates.
	// It equals MaxMatches, so Total is counted over the same rows, in the
	// same statement. The embedded index scores every match.
	MaxCandidates = MaxMatches
)

// Hit is one item found, with its index score: which fields matched
// (name 8, category 4, tags 2, description 1, summed over the fields that
// matched any of the query's concepts). It depends only on the item and
// the query, never on the rest of the index, so a cursor past it stays
// valid while other items change. Its item's slices (Tags, Cities) and
// Geo may be shared with the index: read them, never change them.
type Hit struct {
	Item  Item
	Score int
	// sortKey is the hit's place in a non-relevance Sort (sortValue), as
	// the backend computed it: the next page's cursor starts from it.
	sortKey float64
}

// Page is one page of matches in the index's order: score descending,
// rating descending, key ascending.
type Page struct {
	Hits []Hit
	// Total is how many items match (beyond MaxMatches: MaxMatches).
	Total int
	// NextCursor is empty on the last page.
	NextCursor string
	Facets     Facets
}

// FacetCount is how many matches share one value.
type FacetCount struct {
	Value string
	Count int
}

// Facets count every match of a query per value, most first, ties by value.
type Facets struct {
	Verticals, Kinds, Cities, Categories, Providers []FacetCount
}

// Index is the supply index. Implementations are safe for concurrent use.
type Index interface {
	// Apply applies a batch and acknowledges each item. It returns an
	// error (and applies nothing more) only when the index itself fails;
	// malformed items are Rejected in the Ack.
	Apply(ctx context.Context, b Batch) (Ack, error)
	// Search returns one page of q's matches. A cursor this index did not
	// produce for this query is an ErrBadQuery.
	Search(ctx context.Context, q Query) (Page, error)
	Close() error
}

// ErrBadQuery is a query the index refuses (a bad cursor, a page size out
// of range, an unknown kind or vertical). Callers show it as bad input.
var ErrBadQuery = errors.New("bad query")

// ErrBadItem is wrapped by the Err of a Rejected result.
var ErrBadItem = errors.New("bad item")

// Limits of one item, so one push cannot bloat the index.
const (
	maxIDLen     = 128
	maxNameLen   = 300
	maxDescLen   = 4000
	maxTags      = 32
	maxCities    = 64
	maxFieldLen  = 100
	facetEntries = 50
)

func badItem(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadItem, fmt.Sprintf(format, args...))
}

// checkRef reports what is wrong with a ref, nil if nothing.
func checkRef(r Ref) error {
	switch {
	case r.Provider == "":
		return badItem("missing provider")
	case r.ID == "":
		return badItem("missing id")
	case len(r.ID) > maxIDLen:
		return badItem("id longer than %d bytes", maxIDLen)
	case verticalOf[r.Kind] == "":
		return badItem("unknown kind %q", r.Kind)
	case r.Version <= 0:
		return badItem("missing version (a positive version or updatedAt)")
	}
	return nil
}

// checkItem reports what is wrong with an item, nil if nothing.
func checkItem(it *Item) error {
	if err := checkRef(it.Ref()); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(it.Name) == "":
		return badItem("missing name")
	case len(it.Name) > maxNameLen:
		return badItem("name longer than %d bytes", maxNameLen)
	case len(it.Description) > maxDescLen:
		return badItem("description longer than %d bytes", maxDescLen)
	case len(it.Category) > maxFieldLen:
		return badItem("category longer than %d bytes", maxFieldLen)
	case len(it.Tags) > maxTags:
		return badItem("more than %d tags", maxTags)
	case len(it.Cities) == 0:
		return badItem("no city")
	case len(it.Cities) > maxCities:
		return badItem("more than %d cities", maxCities)
	case slices.ContainsFunc(it.Cities, func(c string) bool { return strings.TrimSpace(c) == "" || len(c) > maxFieldLen }):
		return badItem("empty or overlong city")
	case slices.ContainsFunc(it.Tags, func(t string) bool { return len(t) > maxFieldLen }):
		return badItem("tag longer than %d bytes", maxFieldLen)
	case it.Rating < 0 || it.Rating > 5:
		return badItem("rating %v outside 0..5", it.Rating)
	case it.Price < 0:
		return badItem("negative price")
	case it.Geo != nil && (it.Geo.Lat < -90 || it.Geo.Lat > 90 || it.Geo.Lon < -180 || it.Geo.Lon > 180):
		return badItem("geo outside the globe")
	}
	return nil
}

// norm is the form cities and categories are filtered and faceted by.
func norm(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// checkQuery validates q and fills its defaults.
func checkQuery(q Query) (Query, error) {
	switch {
	case q.First < 0 || q.First > MaxFirst:
		return q, fmt.Errorf("%w: first %d outside 0..%d", ErrBadQuery, q.First, MaxFirst)
	case q.First == 0:
		q.First = DefaultFirst
	}
	for _, k := range q.Kinds {
		if verticalOf[k] == "" {
			return q, fmt.Errorf("%w: unknown kind %q", ErrBadQuery, k)
		}
	}
	for _, v := range q.Verticals {
		if !knownVertical[v] {
			return q, fmt.Errorf("%w: unknown vertical %q", ErrBadQuery, v)
		}
	}
	switch {
	case !knownSort[q.Sort]:
		return q, fmt.Errorf("%w: unknown sort %q", ErrBadQuery, q.Sort)
	case q.Sort == SortDistance && q.Near == nil:
		return q, fmt.Errorf("%w: sorting by distance needs a point to measure from", ErrBadQuery)
	case q.Near != nil && (q.Near.Lat < -90 || q.Near.Lat > 90 || q.Near.Lon < -180 || q.Near.Lon > 180):
		return q, fmt.Errorf("%w: near is outside the globe", ErrBadQuery)
	case q.MinPrice != nil && *q.MinPrice < 0, q.MaxPrice != nil && *q.MaxPrice < 0:
		return q, fmt.Errorf("%w: a price bound is negative", ErrBadQuery)
	case q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice:
		return q, fmt.Errorf("%w: minPrice %d is above maxPrice %d", ErrBadQuery, *q.MinPrice, *q.MaxPrice)
	}
	return q, nil
}

var knownSort = map[Sort]bool{SortRelevance: true, SortPriceAsc: true, SortPriceDesc: true, SortRating: true, SortDistance: true}

var knownVertical = map[Vertical]bool{"GROCERY": true, "MEDICAL": true, "LEGAL": true, "PUBLIC_SERVICE": true}

// kindsOf is the kinds q may return: its Kinds within its Verticals.
func kindsOf(q Query) []Kind {
	var out []Kind
	for _, k := range []Kind{KindProduct, KindStore, KindDoctor, KindLawyer, KindGovService, KindOffice} {
		if (len(q.Kinds) == 0 || slices.Contains(q.Kinds, k)) && (len(q.Verticals) == 0 || slices.Contains(q.Verticals, verticalOf[k])) {
			out = append(out, k)
		}
	}
	return out
}
