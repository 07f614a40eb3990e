// Package media serves the pictures Plaza draws itself: placeholder images
// for the demo providers' products, stores, doctors and lawyers, and the
// monogram logos of providers. They are SVG generated from the URL alone,
// so any number of them costs no storage and no state, and every instance
// answers the same bytes for the same URL (cacheable for a year).
package media

import (
	"fmt"
	"hash/fnv"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PlaceholderPattern is the route of Placeholder (http.ServeMux syntax).
const PlaceholderPattern = "GET /media/placeholder/{size}/{label}"

// maxSide bounds a placeholder's width and height in pixels; maxLabel its
// label in bytes. Both keep a URL from asking for unbounded work.
const (
	maxSide  = 4096
	maxLabel = 200
)

// Placeholder answers /media/placeholder/{W}x{H}/{label}.svg with a W×H SVG
// showing the label's initials on a colour derived from the label. A size
// outside 1..4096, a label over 200 bytes or without the .svg suffix is
// 400; nothing else can fail.
func Placeholder() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		width, height, ok := parseSize(r.PathValue("size"))
		label, svg := strings.CutSuffix(r.PathValue("label"), ".svg")
		switch {
		case !ok:
			http.Error(w, "size must be WIDTHxHEIGHT, each 1 to 4096", http.StatusBadRequest)
			return
		case !svg || label == "" || len(label) > maxLabel || !utf8.ValidString(label):
			http.Error(w, "label must be 1 to 200 bytes of UTF-8 followed by .svg", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		// An SVG opened directly is a document: it may run nothing.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		fmt.Fprint(w, SVG(label, width, height))
	})
}

func parseSize(s string) (w, h int, ok bool) {
	ws, hs, found := strings.Cut(s, "x")
	if !found {
		return 0, 0, false
	}
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if err1 != nil || err2 != nil || w < 1 || h < 1 || w > maxSide || h > maxSide {
		return 0, 0, false
	}
	return w, h, true
}

// SVG draws label's initials (at most two) centred on a w×h rectangle of a
// colour picked from the label.
func SVG(label string, w, h int) string {
	f := fnv.New32a()
	f.Write([]byte(label))
	hue := f.Sum32() % 360
	font := min(w, h) * 2 / 5
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img"><title>%s</title>`+
		`<rect width="100%%" height="100%%" fill="hsl(%d,55%%,62%%)"/>`+
		`<text x="50%%" y="50%%" dy=".35em" text-anchor="middle" font-family="sans-serif" font-size="%d" fill="#fff">%s</text></svg>`,
		w, h, w, h, html.EscapeString(label), hue, max(font, 1), html.EscapeString(Initials(label)))
}

// Initials are the first letters of the label's first two words that start
// with a letter or digit, upper-cased ("Dr. Li Wei" -> "LW": titles ending
// in a dot are skipped).
func Initials(label string) string {
	var out []rune
	for _, word := range strings.Fields(label) {
		if strings.HasSuffix(word, ".") && len(strings.Fields(label)) > 1 {
			continue
		}
		r, _ := utf8.DecodeRuneInString(word)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToUpper(r))
		}
		if len(out) == 2 {
			break
		}
	}
	return string(out)
}

// PlaceholderURL is the gateway-relative URL of label's placeholder at
// w×h pixels, served by Placeholder.
func PlaceholderURL(label string, w, h int) string {
	return "/media/placeholder/" + strconv.Itoa(w) + "x" + strconv.Itoa(h) + "/" + url.PathEscape(label) + ".svg"
}
