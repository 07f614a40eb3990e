package supply

import (
	"slices"
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

// A typo's trigram windows are its runs of n−k+1 neighbouring trigrams,
// in the word's order: "chedar" has 7 trigrams, a match holds 5 of them,
// so 5 runs of 3.
func TestTrigramWindows(t *testing.T) {
	got, ok := trigramWindows("Chedar")
	want := [][]string{{"  c", " ch", "che"}, {" ch", "che", "hed"}, {"che", "hed", "eda"}, {"hed", "eda", "dar"}, {"eda", "dar", "ar "}}
	if !ok || !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("windows %q, want %q", got, want)
	}
	if _, ok := trigramWindows("brûlé"); ok {
		t.Error("windows of a word outside ASCII, whose trigrams pg_trgm may hash")
	}
}
