package supply

import (
	"slices"
	"strings"
	"testing"
)

func TestPlansTheConceptsOfAText(t *testing.T) {
	own := func(p *plan) []string {
		var out []string
		for _, c := range p.concepts {
			out = append(out, c[0])
		}
		return out
	}
	tests := []struct {
		name, text string
		want       []string
	}{
		{"each word is a concept", "whole milk", []string{"whole", "milk"}},
		{"a repeated word is planned once, where it first stands", "milk whole milk milk", []string{"milk", "whole"}},
		{"a repeated phrase of 256 characters is its few words", longRepeat("deja vu wörd ", 256), []string{"deja", "vu", "wörd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exact, typo := plans(tt.text)
			if got := own(exact); !slices.Equal(got, tt.want) {
				t.Errorf("exact pass %v, want %v", got, tt.want)
			}
			if got := own(typo); !slices.Equal(got, tt.want) {
				t.Errorf("typo pass %v, want %v", got, tt.want)
			}
		})
	}
	if exact, typo := plans("  "); exact != nil || typo != nil {
		t.Errorf("a blank text plans %v, %v, want a browse (nil)", exact, typo)
	}
}

func longRepeat(s string, n int) string {
	var out []rune
	for len(out) < n {
		out = append(out, []rune(s)...)
	}
	return string(out[:n])
}

// withinOneEdit is Levenshtein distance ≤ 1, in characters.
func TestWithinOneEdit(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"cheddar", "cheddar", true},
		{"chedar", "cheddar", true},   // a letter dropped
		{"cheddar", "chedar", true},   // either way round
		{"cheddax", "cheddar", true},  // replaced
		{"xcheddar", "cheddar", true}, // added in front
		{"cheddarx", "cheddar", true}, // added at the end
		{"hceddar", "cheddar", false}, // swapped: two edits
		{"chedr", "cheddar", false},   // two dropped
		{"chxddxr", "cheddar", false}, // two replaced
		{"milk", "silk", true},
		{"milk", "mil", true},
		{"milk", "", false},
		{"a", "", true},
		{"", "", true},
		{"brûlé", "brûlée", true}, // characters, not bytes
		{"brulé", "brûlé", true},
		{"brulee", "brûlée", false},
		{"北京", "北京市", true},
	}
	for _, tt := range tests {
		if got := withinOneEdit(tt.a, tt.b); got != tt.want {
			t.Errorf("withinOneEdit(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := withinOneEdit(tt.b, tt.a); got != tt.want {
			t.Errorf("withinOneEdit(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

// A doc's words are runs of ASCII letters and digits and characters
// outside ASCII (the rule supply_doc_words states in SQL, whatever the
// locale), at most maxVocabularyWord characters.
func TestDocWords(t *testing.T) {
	tests := []struct {
		doc  string
		want []string
	}{
		{"whole milk . dairy", []string{"whole", "milk", "dairy"}},
		{"free-range eggs, 12x", []string{"free", "range", "eggs", "12x"}},
		{"crème brûlée", []string{"crème", "brûlée"}},
		{"北京烤鸭", []string{"北京烤鸭"}},
		{"l’eau", []string{"l’eau"}}, // punctuation outside ASCII stays inside a word
		{"A-b", []string{"b"}},       // docs are lower-cased: upper-case ASCII splits
		{strings.Repeat("x", 32) + " " + strings.Repeat("y", 33), []string{strings.Repeat("x", 32)}},
		{" .. ", nil},
	}
	for _, tt := range tests {
		if got := docWords(tt.doc); !slices.Equal(got, tt.want) {
			t.Errorf("docWords(%q) = %q, want %q", tt.doc, got, tt.want)
		}
	}
}

// A term's expansions: the words one edit away among those its variants
// found, never the term, at most maxExpansions, in byte order.
func TestExpansions(t *testing.T) {
	vocab := []string{"cheddar", "chedda", "cheddars", "cedar", "chedar", "header", "checkers"}
	found := map[string][]string{}
	for _, w := range vocab {
		for _, v := range variants(w) {
			found[v] = append(found[v], w)
		}
	}
	if got, want := expansions("chedar", found), []string{"cedar", "cheddar"}; !slices.Equal(got, want) {
		t.Errorf("expansions of chedar %q, want %q", got, want)
	}
	found = map[string][]string{}
	var many []string
	for c := 'a'; c <= 'z'; c++ {
		w := "tea" + string(c)
		many = append(many, w)
		for _, v := range variants(w) {
			found[v] = append(found[v], w)
		}
	}
	if got := expansions("teax", found); len(got) != maxExpansions || !slices.Equal(got, slices.DeleteFunc(many, func(w string) bool { return w == "teax" })[:maxExpansions]) {
		t.Errorf("expansions of teax %q, want the first %d of %q", got, maxExpansions, many)
	}
}
