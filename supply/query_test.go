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

// Every trigram group of a typo holds a piece of the word's inside, not
// only the padding most docs hold ("  c", " ch"), whenever the word has
// enough of them; the groups are disjoint and use every trigram.
func TestTrigramGroupsSpreadThePadding(t *testing.T) {
	for _, w := range []string{"chedar", "yoghrt", "dumplngs", "pasport", "mushroms"} {
		groups, ok := trigramGroups(w)
		all, _ := trigrams(w)
		if !ok || len(groups) < 2 {
			t.Fatalf("%q: groups %q", w, groups)
		}
		var seen []string
		for _, g := range groups {
			if !slices.ContainsFunc(g, func(t string) bool { return !strings.Contains(t, " ") }) {
				t.Errorf("%q: group %q is padding only (%q)", w, g, groups)
			}
			seen = append(seen, g...)
		}
		slices.Sort(seen)
		slices.Sort(all)
		if !slices.Equal(seen, all) {
			t.Errorf("%q: groups %q hold %q, want each of %q once", w, groups, seen, all)
		}
	}
}
