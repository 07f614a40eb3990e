package rank

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text normalisation shared by documents, queries and the lexicon: all three
// must agree on what a term is, or "Lawyers" in a bio would never meet
// "lawyer" in a query.
//
// A term is a run of letters and digits, lower-cased, at least two bytes long
// (so the "s" left of "children's" and single letters vanish), not a stop
// word, and lightly stemmed: a plural "-ies" becomes "-y" and one trailing "s"
// is dropped from words longer than three letters (but not from "-ss").
// That is deliberately cruder than a Porter stemmer: it is cheap, predictable
// and the same on both sides, which is all BM25 needs.

// isStop reports whether t is a stop word. A switch, not a map: it runs for
// every word of every candidate.
func isStop(t []byte) bool {
	switch len(t) {
	case 2:
		switch string(t) {
		case "an", "of", "in", "to", "or", "at", "on", "my":
			return true
		}
	case 3:
		switch string(t) {
		case "and", "the", "for":
			return true
		}
	case 4:
		return string(t) == "with"
	}
	return false
}

// nextTerm returns the first term of s at or after byte i, normalised into
// buf[:0], and the index to continue from; a nil term means s has no more.
// An iterator rather than a callback: it runs for every word of every
// candidate, and an indirect call per word is measurable there.
func nextTerm(s string, i int, buf []byte) (term []byte, next int) {
	for i < len(s) {
		buf = buf[:0]
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				i++
				if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
					buf = append(buf, c)
					continue
				}
				if 'A' <= c && c <= 'Z' {
					buf = append(buf, c+'a'-'A')
					continue
				}
			} else {
				r, n := utf8.DecodeRuneInString(s[i:])
				i += n
				if unicode.IsLetter(r) || unicode.IsDigit(r) {
					buf = utf8.AppendRune(buf, unicode.ToLower(r))
					continue
				}
			}
			if len(buf) > 0 {
				break
			}
		}
		if t := stem(buf); len(t) >= 2 && !isStop(t) {
			return t, i
		}
	}
	return nil, i
}

// stem applies the light plural stemming described above, in place.
func stem(t []byte) []byte {
	n := len(t)
	switch {
	case n > 4 && t[n-3] == 'i' && t[n-2] == 'e' && t[n-1] == 's':
		t = append(t[:n-3], 'y')
	case n > 3 && t[n-1] == 's' && t[n-2] != 's':
		t = t[:n-1]
	}
	return t
}

// terms returns the terms of s as strings.
func terms(s string) []string {
	var out []string
	var buf []byte
	for t, i := nextTerm(s, 0, nil); t != nil; t, i = nextTerm(s, i, buf) {
		out = append(out, string(t))
		buf = t
	}
	return out
}

// withinOne reports whether a and b are at most one edit apart, counting an
// insertion, deletion, substitution or transposition of adjacent bytes as
// one edit (optimal string alignment distance, i.e. Damerau-Levenshtein
// without repeated edits of one substring). It compares bytes: a typo inside
// a multi-byte character counts as more than one edit, which only makes
// non-ASCII terms stricter.
func withinOne(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	switch len(a) - len(b) {
	case 0:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		if i >= len(a)-1 {
			return true // equal, or only the last byte differs
		}
		if a[i+1:] == b[i+1:] {
			return true // substitution
		}
		return a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case 1:
		i := 0
		for i < len(b) && a[i] == b[i] {
			i++
		}
		return a[i+1:] == b[i:]
	}
	return false
}

// containsFold reports whether list holds s, ignoring case.
func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
