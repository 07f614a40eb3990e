package events

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
)

// MaxText is the most bytes of any one text an event stores (a query, a
// city, a name). Every string field of an Event is cut to it before it is
// queued, logged or counted, so the size of a stored event does not depend
// on what a client sent: 40 searches of long text once added 110 MB to
// Redis. 256 bytes hold any real query (64 four-byte characters at worst).
const MaxText = 256

// MaxID is the most bytes of a stored item ID; longer ones are not IDs
// Plaza issued (gid.MaxLen) and are dropped rather than cut, since a cut ID
// names nothing.
const MaxID = 512

// MaxItems is the most item IDs one event stores (the products of an
// order); the rest are dropped.
const MaxItems = 100

// fold is Unicode case folding (so "STRASSE", "Straße" and "strasse" are
// one query). The Caser is stateless and safe for concurrent use.
var fold = cases.Fold()

// NormalizeText is the one form user text is stored and counted in:
// trimmed, whitespace and control characters collapsed to one space,
// case-folded, and cut to at most MaxText bytes on a character boundary. So "Milk ", "MILK" and " milk" are one query, and no stored
// text is longer than MaxText however long the input was.
//
// Long input is cut before folding (folding can only grow a string by a
// bounded factor), so normalising costs O(MaxText) however long s is.
func NormalizeText(s string) string {
	if cleanASCII(s, MaxText, true) {
		return s // already normal: no allocation
	}
	return clip(fold.String(clip(s, 4*MaxText)), MaxText)
}

// cleanASCII reports whether s is printable ASCII of at most n bytes with
// single spaces between words and none at either end (and, with lower, no
// capital letter): the form clip (and, with lower, NormalizeText) would
// return unchanged. Events are recorded per item a request shows, so the
// texts they carry (names, categories, IDs) are bounded on the request path;
// most are already in that form and are then kept without a copy.
func cleanASCII(s string, n int, lower bool) bool {
	if len(s) > n || len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ') {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < ' ' || c >= 0x7f:
			return false
		case c == ' ' && s[i-1] == ' ':
			return false
		case lower && 'A' <= c && c <= 'Z':
			return false
		}
	}
	return true
}

// clip collapses whitespace and control characters (which include the
// counters' field separator) into single spaces, trims, and cuts the
// result to at most n bytes on a UTF-8 boundary, without a trailing space. It keeps case: it bounds
// text that is shown back to people (provider names and categories).
func clip(s string, n int) string {
	if cleanASCII(s, n, false) {
		return s
	}
	return clipRunes(s, n)
}

// clipRunes is clip without the shortcut for text already in form.
func clipRunes(s string, n int) string {
	var b strings.Builder
	b.Grow(min(len(s), n))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError:
			space = b.Len() > 0
			continue
		case space:
			if b.Len()+1+utf8.RuneLen(r) > n {
				return b.String()
			}
			b.WriteByte(' ')
			space = false
		}
		if b.Len()+utf8.RuneLen(r) > n {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// bounded returns ev with every text bounded: the search text (and the
// city a user typed into a search) normalised with NormalizeText, other
// texts clipped to MaxText, IDs past MaxID dropped and at most MaxItems
// items kept. Recorder.Record and every Store's Append apply it, so nothing
// unbounded is queued or stored whoever calls them.
func (ev Event) bounded() Event {
	ev.Query = NormalizeText(ev.Query)
	if ev.Kind == KindSearch {
		ev.City = NormalizeText(ev.City)
	} else {
		ev.City = clip(ev.City, MaxText)
	}
	ev.User = id(ev.User)
	ev.Kind = Kind(clip(string(ev.Kind), MaxText))
	ev.Item = id(ev.Item)
	ev.Vertical = clip(ev.Vertical, MaxText)
	ev.Provider = clip(ev.Provider, MaxText)
	ev.Name = clip(ev.Name, MaxText)
	ev.Category = clip(ev.Category, MaxText)
	if len(ev.Items) > 0 {
		items := make([]string, 0, min(len(ev.Items), MaxItems))
		for _, it := range ev.Items {
			if it = id(it); it != "" && len(items) < MaxItems {
				items = append(items, it)
			}
		}
		ev.Items = items
	}
	if len(ev.Shown) > 0 {
		shown := make([]Impression, 0, min(len(ev.Shown), MaxItems))
		for _, im := range ev.Shown {
			if im.Item = id(im.Item); im.Item != "" && len(shown) < MaxItems {
				im.Provider = clip(im.Provider, MaxText)
				shown = append(shown, im)
			}
		}
		ev.Shown = shown
	}
	ev.Value = max(ev.Value, 0)
	ev.Currency = clip(ev.Currency, 3)
	return ev
}

// id keeps an ID up to MaxID bytes and drops a longer one.
func id(s string) string {
	if len(s) > MaxID {
		return ""
	}
	return s
}
