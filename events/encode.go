package events

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendJSON appends ev's JSON to b, byte for byte what json.Marshal writes
// (the raw log's format, which Log and History decode with encoding/json).
// The writer encodes every event a gateway records on the core that serves
// its requests, a list of 50 viewed being 50 events: encoding/json's
// reflection and its re-validation of time.Time's MarshalJSON output took
// some 10% of a cached list query's CPU. An event with a text json.Marshal
// would escape, or a time it refuses, goes through json.Marshal itself.
// times, if not nil, keeps the text of the last time written (timeText).
func appendJSON(b []byte, ev *Event, times *timeText) ([]byte, error) {
	if !plainEvent(ev) {
		out, err := json.Marshal(ev)
		return append(b, out...), err
	}
	b = append(b, '{')
	if ev.User != "" {
		b = appendField(b, `"user":`, ev.User)
		b = append(b, ',')
	}
	b = appendField(b, `"kind":`, string(ev.Kind))
	b = appendOptional(b, `,"item":`, ev.Item)
	if len(ev.Items) > 0 {
		b = append(b, `,"items":[`...)
		for i, it := range ev.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, it)
		}
		b = append(b, ']')
	}
	b = appendOptional(b, `,"query":`, ev.Query)
	b = appendOptional(b, `,"vertical":`, ev.Vertical)
	b = appendOptional(b, `,"city":`, ev.City)
	b = appendOptional(b, `,"provider":`, ev.Provider)
	if ev.Results != 0 {
		b = strconv.AppendInt(append(b, `,"results":`...), int64(ev.Results), 10)
	}
	b = appendOptional(b, `,"name":`, ev.Name)
	b = appendOptional(b, `,"category":`, ev.Category)
	if len(ev.Shown) > 0 {
		b = append(b, `,"shown":[`...)
		for i, im := range ev.Shown {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendField(append(b, '{'), `"item":`, im.Item)
			b = appendField(append(b, ','), `"provider":`, im.Provider)
			b = strconv.AppendInt(append(b, `,"rank":`...), int64(im.Rank), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if ev.Value != 0 {
		b = strconv.AppendInt(append(b, `,"value":`...), ev.Value, 10)
	}
	b = appendOptional(b, `,"currency":`, ev.Currency)
	b = append(b, `,"time":"`...)
	b = times.append(b, ev.Time)
	return append(b, `"}`...), nil
}

// timeText is the text of the last time an encoder wrote. The events of a
// request share one time (RecordMany stamps them together), and formatting
// it was a third of encoding a view: the 49 others copy its text.
type timeText struct {
	t    time.Time
	text []byte
}

// append appends t as Time.MarshalJSON writes it (RFC 3339 with
// nanoseconds); c may be nil.
func (c *timeText) append(b []byte, t time.Time) []byte {
	if c == nil {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	// Equal as values (instant, location and monotonic reading), so the
	// same text; an equal instant elsewhere is formatted again.
	if c.text == nil || t != c.t {
		c.t, c.text = t, t.AppendFormat(c.text[:0], time.RFC3339Nano)
	}
	return append(b, c.text...)
}

func appendField(b []byte, name, s string) []byte { return appendString(append(b, name...), s) }

// appendOptional is an omitempty string field.
func appendOptional(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return appendField(b, name, s)
}

// appendString quotes s, which plainEvent found needs no escaping.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainEvent reports whether every text of ev is plain (json.Marshal writes
// it as it is) and its time one Time.MarshalJSON accepts.
func plainEvent(ev *Event) bool {
	if y := ev.Time.Year(); y < 0 || y > 9999 {
		return false
	}
	if _, off := ev.Time.Zone(); off <= -24*3600 || off >= 24*3600 {
		return false
	}
	if !plain(ev.User) || !plain(string(ev.Kind)) || !plain(ev.Item) || !plain(ev.Query) || !plain(ev.Vertical) ||
		!plain(ev.City) || !plain(ev.Provider) || !plain(ev.Name) || !plain(ev.Category) || !plain(ev.Currency) {
		return false
	}
	for _, it := range ev.Items {
		if !plain(it) {
			return false
		}
	}
	for _, im := range ev.Shown {
		if !plain(im.Item) || !plain(im.Provider) {
			return false
		}
	}
	return true
}

// plain reports whether json.Marshal writes s between quotes unchanged:
// printable ASCII other than the quote, the backslash and the characters
// it escapes for HTML (<, >, &). Anything else (control characters,
// non-ASCII text, whose invalid bytes and U+2028/U+2029 it rewrites) is
// left to json.Marshal.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
