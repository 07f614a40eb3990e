package relevance

import (
	"math"
	"strings"
	"testing"
)

func TestParseRejectsBadSets(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"an empty id", `{"queries":[{"text":"milk","judgments":[{"grade":3}]}]}`, "empty id"},
		{"a duplicate id", `{"queries":[{"id":"a","judgments":[{"grade":1}]},{"id":"a","judgments":[{"grade":1}]}]}`, `"a": duplicate id`},
		{"an unknown vertical", `{"queries":[{"id":"a","vertical":"FOOD","judgments":[{"grade":1}]}]}`, `unknown vertical "FOOD"`},
		{"an unknown filter kind", `{"queries":[{"id":"a","kinds":["Office"],"judgments":[{"grade":1}]}]}`, `unknown kind "Office"`},
		{"an unknown judged kind", `{"queries":[{"id":"a","judgments":[{"grade":1,"kind":"Shop"}]}]}`, `unknown kind "Shop"`},
		{"a grade above the scale", `{"queries":[{"id":"a","judgments":[{"grade":4}]}]}`, "grade 4 outside 0..3"},
		{"a negative grade", `{"queries":[{"id":"a","judgments":[{"grade":-1}]}]}`, "grade -1 outside 0..3"},
		{"a query without judgments", `{"queries":[{"id":"a"}]}`, `"a": no judgments`},
		{"a misspelt field", `{"queries":[{"id":"a","judgements":[]}]}`, `unknown field "judgements"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse: error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestGrade(t *testing.T) {
	milk := Query{ID: "milk", City: "Chengdu", Judgments: []Judgment{
		{Grade: 3, Kind: "Product", Name: []string{"whole milk"}},
		{Grade: 1, Kind: "Product", Category: []string{"dairy"}},
	}}
	browse := Query{ID: "b", Kinds: []string{"Doctor"}, Judgments: []Judgment{{Grade: 2, MinRating: 4.5}, {Grade: 1}}}
	services := Query{ID: "s", Vertical: "PUBLIC_SERVICE", Judgments: []Judgment{{Grade: 3, ID: []string{"passport-renewal"}, Tag: []string{"travel"}}}}
	product := func(name, category, city string) Item {
		return Item{Kind: "Product", Vertical: "GROCERY", Name: name, Categories: []string{category}, Cities: []string{city}}
	}
	tests := []struct {
		name string
		q    Query
		it   Item
		want int
	}{
		{"the first matching judgment wins, ignoring case", milk, product("Organic Whole Milk", "dairy", "chengdu"), 3},
		{"a later judgment grades what the first misses", milk, product("Plain Yoghurt", "Dairy", "Chengdu"), 1},
		{"nothing matches: 0", milk, product("Bananas", "produce", "Chengdu"), 0},
		{"outside the city filter: 0", milk, product("Whole Milk", "dairy", "Beijing"), 0},
		{"outside the kinds filter: 0", browse, Item{Kind: "Lawyer", Rating: 5}, 0},
		{"a rating floor", browse, Item{Kind: "Doctor", Rating: 4.5}, 2},
		{"below the floor, the next judgment", browse, Item{Kind: "Doctor", Rating: 4.4}, 1},
		{"every condition must hold", services, Item{Kind: "GovService", Vertical: "PUBLIC_SERVICE", ID: "passport-renewal", Tags: []string{"passport"}}, 0},
		{"id and tag both hold", services, Item{Kind: "GovService", Vertical: "PUBLIC_SERVICE", ID: "passport-renewal", Tags: []string{"Travel"}}, 3},
		{"outside the vertical filter: 0", services, Item{Kind: "GovService", Vertical: "LEGAL", ID: "passport-renewal", Tags: []string{"travel"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.Grade(tt.it); got != tt.want {
				t.Errorf("Grade = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestNDCG(t *testing.T) {
	tests := []struct {
		name          string
		ranked, ideal []int
		want          float64
	}{
		{"the ideal order scores 1", []int{3, 2, 1}, []int{1, 3, 2}, 1},
		{"nothing relevant retrieved scores 0", []int{0, 0}, []int{3}, 0},
		{"an empty corpus scores 0", nil, nil, 0},
		// DCG = (2^1-1)/log2(2) + (2^3-1)/log2(3) = 1 + 7/1.58496; IDCG = 7 + 1/1.58496.
		{"a swapped pair", []int{1, 3}, []int{3, 1}, (1 + 7/math.Log2(3)) / (7 + 1/math.Log2(3))},
		// Only the first K positions count, in the result and in the ideal.
		{"results past K do not count", append(make([]int, K), 3), []int{3}, 0},
		{"relevant items past K in the corpus do not lower the ideal", []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
			[]int{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NDCG(tt.ranked, tt.ideal, K); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("NDCG = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvaluateRefusesAQueryWithNothingRelevant(t *testing.T) {
	s := Set{Queries: []Query{{ID: "ghost", Judgments: []Judgment{{Grade: 3, Name: []string{"ghost pepper"}}}}}}
	_, err := Evaluate(s, []Item{{Kind: "Product", Name: "Whole Milk"}}, func(Query) ([]Item, error) { return nil, nil })
	if err == nil || !strings.Contains(err.Error(), `"ghost": nothing in the corpus is relevant`) {
		t.Fatalf("Evaluate: error %v, want one naming the query", err)
	}
}

func TestDemoSetParses(t *testing.T) {
	s, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Queries) < 30 {
		t.Fatalf("the demo set has %d queries, want at least 30", len(s.Queries))
	}
}
