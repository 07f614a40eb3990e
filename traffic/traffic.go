// Package traffic rolls the analytics pipeline's events up into what a
// provider sees of its own traffic: per day and city, its items' impressions
// in search and on home pages, clicks, orders and bookings, GMV and
// conversion; per query, where its items were shown; and per vertical and
// city, the searches that found nothing or little (demand it could serve).
//
// The events come from events.Recorder, which may drop them under load, so
// these are statistics, never money: rewards and repayments come from order
// records (package growth). A Collector, fed as an events.Sink in the
// recorder's writer, adds events into a bounded in-memory Rollup and hands
// it to a Store every few seconds. Each Rollup carries an ID, and a Store
// applies an ID once: a roll-up retried after a timeout (or re-run for its
// window) does not count twice. MemoryStore is the embedded default;
// PostgresStore keeps the rows in tables partitioned by day.
package traffic

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/plaza-gateway/plaza/events"
)

// Retention is how long roll-ups are kept by default
// (PLAZA_TRAFFIC_RETENTION): a year and a month, so a provider can compare
// a month with the same month a year before.
const Retention = 400 * 24 * time.Hour

// DefaultFlush is how often an instance applies its roll-up by default
// (PLAZA_TRAFFIC_FLUSH): one transaction per interval, whatever the
// traffic; a crash loses at most that much of an instance's statistics.
const DefaultFlush = 5 * time.Second

// DefaultLowResults is the most results a search may find and still count
// as a low-result search (demand a provider could serve) by default
// (PLAZA_TRAFFIC_LOW_RESULTS).
const DefaultLowResults = 3

// MaxLimit bounds every list a Store returns.
const MaxLimit = 1000

// ErrBadRange is returned for a range whose end is not after its start.
var ErrBadRange = errors.New("traffic: to must be after from")

// Counts are one provider's figures for one day and city. Conversion is
// derived (Conversion), never stored.
type Counts struct {
	// Impressions: items of the provider a search's first page or a home
	// page showed (an item shown twice counts twice).
	SearchImpressions, HomeImpressions int64
	// Clicks on the provider's search results (reportSearchClick).
	Clicks int64
	// Orders placed, and bookings: appointments, consultations and
	// applications.
	Orders, Bookings int64
	// GMV is the value of the orders placed, in the minor units of their
	// currency (a provider sells in one).
	GMV int64
}

func (c *Counts) add(o Counts) {
	c.SearchImpressions += o.SearchImpressions
	c.HomeImpressions += o.HomeImpressions
	c.Clicks += o.Clicks
	c.Orders += o.Orders
	c.Bookings += o.Bookings
	c.GMV += o.GMV
}

// Conversion is (orders + bookings) per click; ok is false without clicks.
func (c Counts) Conversion() (rate float64, ok bool) {
	if c.Clicks == 0 {
		return 0, false
	}
	return float64(c.Orders+c.Bookings) / float64(c.Clicks), true
}

// Row is a provider's Counts on one day (midnight UTC) in one city (""
// when the event named none, e.g. a search in every city).
type Row struct {
	Day  time.Time
	City string
	Counts
}

// QueryCounts are where a provider's items were shown for one query.
type QueryCounts struct {
	Impressions, Clicks int64
	// RankSum is the sum of the ranks shown at (the mean is RankSum /
	// Impressions); BestRank the best (lowest) one, 0 for none.
	RankSum  int64
	BestRank int
}

func (q *QueryCounts) add(o QueryCounts) {
	if o.BestRank > 0 && (q.BestRank == 0 || o.BestRank < q.BestRank) {
		q.BestRank = o.BestRank
	}
	q.Impressions += o.Impressions
	q.Clicks += o.Clicks
	q.RankSum += o.RankSum
}

// MeanRank is the mean rank the provider's items were shown at; ok is
// false without impressions.
func (q QueryCounts) MeanRank() (float64, bool) {
	if q.Impressions == 0 {
		return 0, false
	}
	return float64(q.RankSum) / float64(q.Impressions), true
}

// QueryRow is a provider's QueryCounts for one query in one city over a
// range.
type QueryRow struct {
	Query, City string
	QueryCounts
}

// DemandCounts are the searches for one query, and how many of them found
// nothing or few results.
type DemandCounts struct {
	Searches, ZeroResults, LowResults int64
}

func (d *DemandCounts) add(o DemandCounts) {
	d.Searches += o.Searches
	d.ZeroResults += o.ZeroResults
	d.LowResults += o.LowResults
}

// DemandRow is the demand for one query in one city over a range.
type DemandRow struct {
	Query, City string
	DemandCounts
}

// Range is a half-open range of days [From, To): From and To are rounded
// down to midnight UTC, and To is moved to the next midnight when it is not
// one, so a range covering part of a day covers all of it.
type Range struct{ From, To time.Time }

// Days returns r's day bounds, or ErrBadRange.
func (r Range) Days() (from, to time.Time, err error) {
	if !r.To.After(r.From) {
		return time.Time{}, time.Time{}, ErrBadRange
	}
	from, to = dayOf(r.From), dayOf(r.To)
	if !to.Equal(r.To.UTC()) {
		to = to.AddDate(0, 0, 1)
	}
	return from, to, nil
}

func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Store keeps roll-ups. Every read is of one provider (or one vertical's
// demand), so its cost follows the provider's own rows, never the number
// of providers.
type Store interface {
	// Apply adds r's rows. It applies an ID once: applied is false when
	// r.ID was applied before (nothing changes).
	Apply(ctx context.Context, r *Rollup) (applied bool, err error)
	// Daily returns provider's rows in the range, by day then city; city,
	// when not empty, keeps that city's rows only.
	Daily(ctx context.Context, provider string, r Range, city string) ([]Row, error)
	// TopQueries returns provider's limit most shown queries in the range,
	// per query and city, most impressions first (ties by query, city).
	TopQueries(ctx context.Context, provider string, r Range, city string, limit int) ([]QueryRow, error)
	// Demand returns the limit queries searched in one of verticals ("" is
	// a search in every vertical) and one of cities that found nothing or
	// few results most often, most first.
	Demand(ctx context.Context, verticals, cities []string, r Range, limit int) ([]DemandRow, error)
	// Prune drops the days before before's (a partition a day in
	// PostgreSQL, dropped whole).
	Prune(ctx context.Context, before time.Time) error
}

// NormalizeCity is the form cities are rolled up and looked up in
// (events.NormalizeText: lower case, whitespace collapsed), so "Hangzhou"
// from a home page and "hangzhou" from a search are one city.
func NormalizeCity(c string) string { return events.NormalizeText(c) }

// NormalizeQuery is the form queries are rolled up and looked up in.
func NormalizeQuery(q string) string { return events.NormalizeText(strings.TrimSpace(q)) }
