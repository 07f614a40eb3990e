package rank

import (
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Text normalisation shared by documents, queries and the lexicon: all three
// must agree on what a term is, or "Lawyers" in a bio would never meet
// "lawyer" in a query.
//
// A term is a run of letters and digits, lower-cased, at least two bytes long
// (so the "s" left of "children's" and single letters vanish), not a stop
// word, and lightly stemmed: a plural "-ies" becomes "-y" and one trailing "s"
// is dropped from words longer than three letters (but not from "-ss");
// a handful of irregular plurals ("children") become their singular.
// That is deliberately cruder than a Porter stemmer: it is cheap, predictable
// and the same on both sides, which is all BM25 needs.

// isStop reports whether t is a stop word. A switch, not a map: it runs for
// every word of every candidate.
func isStop(t string) bool {
	switch len(t) {
	case 2:
		switch t {
		case "an", "of", "in", "to", "or", "at", "on", "my":
			return true
		}
	case 3:
		switch t {
		case "and", "the", "for":
			return true
		}
	case 4:
		return t == "with"
	}
	return false
}

// nextTerm returns the first term of s at or after byte i and the index to
// continue from; an empty term means s has no more. A term that is already
// lower-case ASCII is a substring of s (no copy); others are normalised into
// *buf and are valid only until the next call (clone them to keep them). An iterator rather than a callback: it runs for every word of every
// candidate, and an indirect call or a copy per word is measurable there.
func nextTerm(s string, i int, buf *[]byte) (term string, next int) {
	for i < len(s) {
		for i < len(s) && byteClass[s[i]] == classOther {
			i++
		}
		start := i
		for i < len(s) && byteClass[s[i]] == classLower {
			i++
		}
		if i < len(s) && byteClass[s[i]] == classUpper {
			// Upper case or non-ASCII: normalise the rest of the word.
			term, i = slowTerm(s, start, buf)
			if i == start {
				// A non-ASCII rune that is no letter or digit (a dash, a
				// symbol, invalid UTF-8) starts no word: step over it, or
				// the loop would never advance.
				_, n := utf8.DecodeRuneInString(s[i:])
				i += n
				continue
			}
		} else {
			term = s[start:i]
		}
		if term = stem(term, buf); len(term) >= 2 && !isStop(term) {
			return term, i
		}
	}
	return "", i
}

// The classes of a byte for nextTerm: one table load per byte of every
// candidate's text instead of four comparisons.
const (
	classOther = iota // starts no term: space, punctuation
	classLower        // a lower-case ASCII letter or a digit: a term as it is
	classUpper        // an upper-case letter, or any byte of a multi-byte character (decoded by slowTerm)
)

var byteClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			t[c] = classLower
		case 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf:
			t[c] = classUpper
		}
	}
	return t
}()

// slowTerm lower-cases the word starting at s[i] into *buf.
func slowTerm(s string, i int, buf *[]byte) (string, int) {
	b := (*buf)[:0]
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
				b = append(b, c)
			case 'A' <= c && c <= 'Z':
				b = append(b, c+'a'-'A')
			default:
				*buf = b
				return bufString(b), i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		b = utf8.AppendRune(b, unicode.ToLower(r))
		i += n
	}
	*buf = b
	return bufString(b), i
}

// bufString views b as a string without copying; the caller must not keep
// it past the next write to b.
func bufString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// stem applies the light plural stemming described above, after the
// irregular plurals (see irregularPlural).
func stem(t string, buf *[]byte) string {
	if s, ok := irregularPlural(t); ok {
		return s
	}
	n := len(t)
	switch {
	case n > 4 && t[n-3:] == "ies":
		// t may live in *buf itself: copy before overwriting.
		var tmp [64]byte
		stemmed := append(append(tmp[:0], t[:n-3]...), 'y')
		*buf = append((*buf)[:0], stemmed...)
		return bufString(*buf)
	case n > 3 && t[n-1] == 's' && t[n-2] != 's':
		return t[:n-1]
	}
	return t
}

// irregularPlural returns the singular of the few irregular plurals that
// searches and catalogues use about people and bodies. The suffix rules miss
// them, and missing them costs real matches: "Children's Hospital" and
// "children's fevers" in a paediatrician's profile would never meet a search
// for "child". A switch, not a map: it runs for every word of every
// candidate, and most words fail its length test at once.
func irregularPlural(t string) (string, bool) {
	switch t {
	case "children":
		return "child", true
	case "women":
		return "woman", true
	case "men":
		return "man", true
	case "teeth":
		return "tooth", true
	case "feet":
		return "foot", true
	}
	return "", false
}

// terms returns the terms of s.
func terms(s string) []string {
	var out []string
	var buf []byte
	for t, i := nextTerm(s, 0, &buf); t != ""; t, i = nextTerm(s, i, &buf) {
		out = append(out, strings.Clone(t))
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
