package recommend

import (
	"fmt"
	"math"
	"time"
)

// reason turns what a source knew about a candidate into a sentence.
func reason(src int, w why, anchor, city string) string {
	switch src {
	case srcRepeat:
		if p := cadence(w.period); p != "" {
			return fmt.Sprintf("You %s this %s", w.kind.verb(), p)
		}
		if w.count > 1 {
			return fmt.Sprintf("You've %s this %d times", w.kind.pastVerb(), w.count)
		}
		return fmt.Sprintf("You %s this before", w.kind.pastVerb())
	case srcFollowUp:
		return fmt.Sprintf("You often do this after you %s %s", w.akind.verb(), anchor)
	case srcCoOccurrence:
		return fmt.Sprintf("People who %s %s also %s this", w.akind.pastVerb(), anchor, w.kind.pastVerb())
	case srcTrending:
		where := "near you"
		if city != "" {
			where = "in " + city
		}
		switch {
		case w.bucket >= numBuckets:
			return fmt.Sprintf("Popular %s on %ss", where, time.Weekday(w.bucket-numBuckets))
		case w.bucket >= 0:
			return fmt.Sprintf("Popular %s %s", where, bucketNames[w.bucket])
		}
		return "Trending " + where
	case srcPeriodic:
		return fmt.Sprintf("You last %s this %s ago; people usually %s it about %s",
			w.kind.pastVerb(), days(w.ago), w.kind.verb(), cadence(w.period))
	case srcPopular:
		if w.bucket == 1 && city != "" {
			return "Popular in " + city
		}
		return "Popular on Plaza"
	}
	return ""
}

// cadence words a period in days: "every week", "every 10 days".
func cadence(p float64) string {
	if p <= 0 {
		return ""
	}
	d := int(math.Round(p))
	switch {
	case d <= 1:
		return "every day"
	case d >= 6 && d <= 8:
		return "every week"
	case d >= 13 && d <= 15:
		return "every two weeks"
	case d >= 28 && d <= 31:
		return "every month"
	case d >= 85 && d <= 95:
		return "every three months"
	case d >= 350 && d <= 380:
		return "every year"
	}
	return fmt.Sprintf("every %d days", d)
}

func days(d float64) string {
	n := int(math.Round(d))
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
