package connectors

import (
	"fmt"
	"strings"
	"time"
)

// Display fields (contract 1.3): what an app needs to show an item beyond
// its name and price. Every one is optional on the wire (omitempty), so a
// provider of contract 1.2 that sends none of them still decodes; the
// schema shows them as null (or 0 reviews, no opening hours).

// Image is a picture of an item at one size: a product photo, a doctor's
// or lawyer's portrait, a store's logo. URL is absolute (https) or, for
// pictures the gateway serves itself, a path starting with "/" on the
// gateway's own origin. Width and Height are in pixels.
type Image struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// Validate checks what the conformance kit checks of an image.
func (i Image) Validate() error {
	switch {
	case !strings.HasPrefix(i.URL, "https://") && !strings.HasPrefix(i.URL, "/") && !strings.HasPrefix(i.URL, "http://127.0.0.1") && !strings.HasPrefix(i.URL, "http://localhost"):
		return fmt.Errorf("image url %q is neither https nor a path", i.URL)
	case i.Width <= 0 || i.Height <= 0 || i.Width > 8192 || i.Height > 8192:
		return fmt.Errorf("image %q is %dx%d, want 1..8192 pixels each way", i.URL, i.Width, i.Height)
	}
	return nil
}

// OpeningHours is one opening period of a store on one day of the week, in
// the local time of the store's city. Closes before Opens means the period
// runs past midnight.
type OpeningHours struct {
	// Day is MONDAY … SUNDAY.
	Day string `json:"day"`
	// Opens and Closes are HH:MM, 24-hour.
	Opens  string `json:"opens"`
	Closes string `json:"closes"`
}

// Weekdays are the values of OpeningHours.Day, indexed by time.Weekday.
var Weekdays = [7]string{"SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"}

// Validate checks the day and the two times.
func (h OpeningHours) Validate() error {
	if _, ok := Weekday(h.Day); !ok {
		return fmt.Errorf("opening hours: day %q is not one of MONDAY … SUNDAY", h.Day)
	}
	if _, err := ClockMinutes(h.Opens); err != nil {
		return fmt.Errorf("opening hours %s: opens: %w", h.Day, err)
	}
	if _, err := ClockMinutes(h.Closes); err != nil {
		return fmt.Errorf("opening hours %s: closes: %w", h.Day, err)
	}
	return nil
}

// Weekday parses an OpeningHours.Day.
func Weekday(day string) (time.Weekday, bool) {
	for i, d := range Weekdays {
		if d == day {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// ClockMinutes parses HH:MM (00:00 … 24:00), two digits each, into minutes
// after midnight. It is read by hand, not with fmt.Sscanf: every store's
// opening hours are validated when a store is converted, 14 times a store,
// and Sscanf cost three allocations a call on the list of 50.
func ClockMinutes(hhmm string) (int, error) {
	if len(hhmm) != 5 || hhmm[2] != ':' || !digits(hhmm[:2]) || !digits(hhmm[3:]) {
		return 0, fmt.Errorf("%q is not HH:MM", hhmm)
	}
	h := int(hhmm[0]-'0')*10 + int(hhmm[1]-'0')
	m := int(hhmm[3]-'0')*10 + int(hhmm[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not HH:MM", hhmm)
	}
	return h*60 + m, nil
}

func digits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// OpenAt reports whether hours, read in loc, has t inside one of its
// periods. A period closing at or before it opens runs past midnight into
// the next day.
func OpenAt(hours []OpeningHours, t time.Time, loc *time.Location) bool {
	t = t.In(loc)
	now := t.Hour()*60 + t.Minute()
	today, yesterday := t.Weekday(), (t.Weekday()+6)%7
	for _, h := range hours {
		day, ok := Weekday(h.Day)
		opens, err1 := ClockMinutes(h.Opens)
		closes, err2 := ClockMinutes(h.Closes)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		overnight := closes <= opens
		switch {
		case day == today && now >= opens && (overnight || now < closes):
			return true
		case overnight && day == yesterday && now < closes:
			return true
		}
	}
	return false
}

// ValidateDiscount checks an original price against the current one: the
// same currency, and higher (a discount), or it should be left out.
func ValidateDiscount(price Money, original *Money) error {
	if original == nil {
		return nil
	}
	if original.Currency != price.Currency {
		return fmt.Errorf("original price is in %s, price in %s", original.Currency, price.Currency)
	}
	if original.Amount <= price.Amount {
		return fmt.Errorf("original price %d is not above the price %d: leave it out when there is no discount", original.Amount, price.Amount)
	}
	return nil
}
