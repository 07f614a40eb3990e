package rank

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestTermsOfAnyText(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"ASCII words are lower-cased", "Organic MILK", []string{"organic", "milk"}},
		{"a dash between words is a separator", "milk — organic", []string{"milk", "organic"}},
		{"invalid UTF-8 inside a word splits it", "mi\x85lk", []string{"mi", "lk"}},
		{"a lone invalid byte yields nothing", "\x85", nil},
		{"letters of other scripts are words", "牛奶 Café", []string{"牛奶", "café"}},
		{"symbols alone yield nothing", "€ © ™", nil},
		{"irregular plurals become their singular", "Children's Hospital, women's health, teeth", []string{"child", "hospital", "woman", "health", "tooth"}},
		{"regular plurals lose their s", "Lawyers and Pharmacies", []string{"lawyer", "pharmacy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan []string, 1)
			go func() { done <- terms(tt.text) }()
			select {
			case got := <-done:
				if !slices.Equal(got, tt.want) {
					t.Fatalf("terms(%q) = %q, want %q", tt.text, got, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("terms(%q) did not return (no progress on a non-letter rune)", tt.text)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	lex := DefaultLexicon()
	tests := []struct {
		text string
		want []Concept
	}{
		{"milk", []Concept{{Own: "milk", Synonyms: []string{"dairy"}}}},
		{"mlik", []Concept{{Own: "mlik", Corrections: []string{"milk", "dairy"}}}},
		{"heart doctor", []Concept{{Own: "heart doctor", Synonyms: []string{"cardiology", "cardiologist"}}}},
		{"bread", []Concept{{Own: "bread"}}},
		{"the", nil},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := lex.Expand(tt.text)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Expand(%q) = %+v, want %+v", tt.text, got, tt.want)
			}
		})
	}
}
