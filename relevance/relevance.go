// Package relevance holds Plaza's hand-labelled relevance judgments for the
// demo catalogue and measures a ranking against them with NDCG@10.
//
// The judgments (judgments.json) were written by reading the demo
// catalogue's templates (connectors/demo/catalog_*.go), not by looking at
// any ranking's results, and were committed before the supply index
// existed, so they cannot have been fitted to its results. The demo
// catalogue generates thousands of items from a few hundred templates
// (product lines and their variants, medical specialties, practice areas,
// government services), so a judgment grades a kind of item — "a product
// whose name says Whole Milk", "a lawyer practising Family law" — rather
// than one generated ID; every item of the corpus gets the grade of the
// first judgment of the query that it matches, and 0 when none does.
//
// The package knows nothing about GraphQL, the gateway or the index: a
// ranking is anything that answers a Query with a list of Items.
package relevance

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Kinds that may be judged: the kinds search returns, as gid names them.
var kinds = []string{"Product", "Store", "Doctor", "Lawyer", "GovService", "Provider"}

// Verticals a query may be restricted to, as connectors names them.
var verticals = []string{"GROCERY", "MEDICAL", "LEGAL", "PUBLIC_SERVICE"}

// MaxGrade is the best grade: 3 a perfect answer, 2 a good one, 1 related,
// 0 not relevant.
const MaxGrade = 3

// K is the depth NDCG is measured at: the first page of the search box.
const K = 10

// Set is a list of judged queries.
type Set struct {
	Queries []Query `json:"queries"`
}

// Query is one judged request: what the user typed and the filters they
// chose, as the search and list fields take them.
type Query struct {
	// ID names the query in reports; unique within a set.
	ID   string `json:"id"`
	Text string `json:"text,omitempty"`
	// Vertical, Kinds, City and Category are filters: an item outside
	// them is never relevant, whatever it is.
	Vertical string   `json:"vertical,omitempty"`
	Kinds    []string `json:"kinds,omitempty"`
	City     string   `json:"city,omitempty"`
	Category string   `json:"category,omitempty"`
	// Note says why the judgments are what they are.
	Note      string     `json:"note,omitempty"`
	Judgments []Judgment `json:"judgments"`
}

// Judgment grades the items it matches. All of its set conditions must
// hold; a list condition holds when any of its values does. Text matches
// ignore case.
type Judgment struct {
	Grade int `json:"grade"`
	// Kind is the item's kind; empty matches every kind.
	Kind string `json:"kind,omitempty"`
	// Name: the item's name contains one of these.
	Name []string `json:"name,omitempty"`
	// Category: one of the item's categories (a product's category, a
	// doctor's specialty, a lawyer's practice areas, a service's category)
	// equals one of these.
	Category []string `json:"category,omitempty"`
	// Tag: one of the item's tags equals one of these.
	Tag []string `json:"tag,omitempty"`
	// ID: the item's ID is one of these (government services have stable,
	// readable IDs such as "passport-renewal").
	ID []string `json:"id,omitempty"`
	// MinRating: the item is rated at least this (browsing without text
	// asks for the best of what is there).
	MinRating float64 `json:"minRating,omitempty"`
}

// Item is what a judgment looks at in a result.
type Item struct {
	Kind, Vertical, Provider, ID, Name string
	Categories, Tags, Cities           []string
	Rating                             float64
}

// Key identifies an item within a corpus.
func (it Item) Key() string { return it.Kind + "/" + it.Provider + "/" + it.ID }

//go:embed judgments.json
var demoJSON []byte

// Demo returns the judgments for the demo catalogue (connectors/demo with
// its default seed and scale).
func Demo() (Set, error) { return Parse(demoJSON) }

// Parse reads and checks a set: unique non-empty IDs, known kinds and
// verticals, grades within 0..MaxGrade, at least one judgment per query.
func Parse(data []byte) (Set, error) {
	var s Set
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Set{}, fmt.Errorf("relevance: %w", err)
	}
	seen := map[string]bool{}
	for i, q := range s.Queries {
		switch {
		case q.ID == "":
			return Set{}, fmt.Errorf("relevance: query %d: empty id", i)
		case seen[q.ID]:
			return Set{}, fmt.Errorf("relevance: query %q: duplicate id", q.ID)
		case q.Vertical != "" && !slices.Contains(verticals, q.Vertical):
			return Set{}, fmt.Errorf("relevance: query %q: unknown vertical %q", q.ID, q.Vertical)
		case len(q.Judgments) == 0:
			return Set{}, fmt.Errorf("relevance: query %q: no judgments", q.ID)
		}
		seen[q.ID] = true
		for _, k := range q.Kinds {
			if !slices.Contains(kinds, k) {
				return Set{}, fmt.Errorf("relevance: query %q: unknown kind %q", q.ID, k)
			}
		}
		for j, jd := range q.Judgments {
			if jd.Grade < 0 || jd.Grade > MaxGrade {
				return Set{}, fmt.Errorf("relevance: query %q judgment %d: grade %d outside 0..%d", q.ID, j, jd.Grade, MaxGrade)
			}
			if jd.Kind != "" && !slices.Contains(kinds, jd.Kind) {
				return Set{}, fmt.Errorf("relevance: query %q judgment %d: unknown kind %q", q.ID, j, jd.Kind)
			}
		}
	}
	return s, nil
}

// Grade is the grade q gives it: 0 outside q's filters, else the grade of
// the first judgment it matches, else 0.
func (q Query) Grade(it Item) int {
	if !q.admits(it) {
		return 0
	}
	for _, j := range q.Judgments {
		if j.matches(it) {
			return j.Grade
		}
	}
	return 0
}

func (q Query) admits(it Item) bool {
	return (q.Vertical == "" || q.Vertical == it.Vertical) &&
		(len(q.Kinds) == 0 || slices.Contains(q.Kinds, it.Kind)) &&
		(q.City == "" || containsFold(it.Cities, q.City)) &&
		(q.Category == "" || containsFold(it.Categories, q.Category))
}

func (j Judgment) matches(it Item) bool {
	return (j.Kind == "" || j.Kind == it.Kind) &&
		(len(j.Name) == 0 || slices.ContainsFunc(j.Name, func(n string) bool {
			return strings.Contains(strings.ToLower(it.Name), strings.ToLower(n))
		})) &&
		(len(j.Category) == 0 || slices.ContainsFunc(j.Category, func(c string) bool { return containsFold(it.Categories, c) })) &&
		(len(j.Tag) == 0 || slices.ContainsFunc(j.Tag, func(t string) bool { return containsFold(it.Tags, t) })) &&
		(len(j.ID) == 0 || slices.Contains(j.ID, it.ID)) &&
		it.Rating >= j.MinRating
}

func containsFold(s []string, v string) bool {
	return slices.ContainsFunc(s, func(x string) bool { return strings.EqualFold(x, v) })
}

// DCG is the discounted cumulative gain of grades in ranked order, at
// most k of them: Σ (2^g − 1) / log2(i + 2), the form that rewards a
// perfect answer much more than a related one.
func DCG(grades []int, k int) float64 {
	d := 0.0
	for i, g := range grades[:min(k, len(grades))] {
		d += (math.Exp2(float64(g)) - 1) / math.Log2(float64(i+2))
	}
	return d
}

// NDCG is DCG of ranked divided by the DCG of the best possible order of
// every grade in the corpus (ideal); 0 when the corpus holds nothing
// relevant.
func NDCG(ranked, ideal []int, k int) float64 {
	best := slices.Clone(ideal)
	slices.SortFunc(best, func(a, b int) int { return b - a })
	idcg := DCG(best, k)
	if idcg == 0 {
		return 0
	}
	return DCG(ranked, k) / idcg
}

// Report is a ranking's NDCG@K on a set.
type Report struct {
	// Mean is the mean of the queries' NDCG@K.
	Mean float64 `json:"mean"`
	// Queries maps each query's ID to its NDCG@K.
	Queries map[string]float64 `json:"queries"`
}

// Evaluate runs every query of s through rank (which returns its results
// best first; only the first K count) and grades them against the ideal
// order of corpus, which must hold every item the ranking could return.
// A query whose corpus holds nothing relevant is an error: its judgments
// are wrong, or the corpus is not the one they were written for.
func Evaluate(s Set, corpus []Item, rank func(Query) ([]Item, error)) (Report, error) {
	r := Report{Queries: make(map[string]float64, len(s.Queries))}
	if len(s.Queries) == 0 {
		return r, fmt.Errorf("relevance: empty set")
	}
	for _, q := range s.Queries {
		ideal := make([]int, 0, len(corpus))
		for _, it := range corpus {
			if g := q.Grade(it); g > 0 {
				ideal = append(ideal, g)
			}
		}
		if len(ideal) == 0 {
			return r, fmt.Errorf("relevance: query %q: nothing in the corpus is relevant", q.ID)
		}
		got, err := rank(q)
		if err != nil {
			return r, fmt.Errorf("relevance: query %q: %w", q.ID, err)
		}
		grades := make([]int, 0, K)
		for _, it := range got[:min(K, len(got))] {
			grades = append(grades, q.Grade(it))
		}
		r.Queries[q.ID] = NDCG(grades, ideal, K)
		r.Mean += r.Queries[q.ID]
	}
	r.Mean /= float64(len(s.Queries))
	return r, nil
}
