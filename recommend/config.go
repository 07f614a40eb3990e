package recommend

import "time"

// Weights are the multipliers of each candidate source's calibrated score
// (see Params). A zero weight switches the source off in the mixed list.
type Weights struct {
	Repeat       float64 // the user's own staples, by frequency, recency and due-ness
	FollowUp     float64 // transitions in the user's own history (after A they usually do B)
	CoOccurrence float64 // item-to-item co-occurrence across all users
	Trending     float64 // time-decayed trending in the request's city, time-of-day aware
	Periodic     float64 // items due again at the interval other users repeat them
	Popular      float64 // cold start: popularity in the city, then globally
}

// Config tunes the engine. Start from DefaultConfig and override fields.
type Config struct {
	Weights Weights
	// TopK bounds the co-occurrence neighbours kept per item. Up to 2*TopK
	// counters are held between prunes; a prune keeps the TopK strongest.
	TopK int
	// HalfLife is the decay of city trends: an interaction HalfLife ago
	// counts half as much as one now.
	HalfLife time.Duration
	// PopularityHalfLife is the (slower) decay of the cold-start popularity.
	PopularityHalfLife time.Duration
	// PopularityDays, when positive, keeps that many days of popularity
	// per item and city so a request dated before the latest event (an
	// offline evaluation holding out each user's last day) reads the
	// popularity of the days before it, not of a future it could not know.
	// Zero (the default, right for a live gateway whose requests are
	// always now) keeps none.
	PopularityDays int
	// RepeatHalfLife is the recency decay of a user's own interactions.
	RepeatHalfLife time.Duration
	// HistoryCap is how many recent events are kept per user.
	HistoryCap int
	// CoWindow is how far apart two events of one user may be to co-occur.
	CoWindow time.Duration
	// CoMinSupport is the (kind-weighted) number of co-occurrences a pair
	// needs before it is evidence at all, and CoShrink the prior that
	// shrinks the rest: a pair seen n times counts n/(n+CoShrink) of its
	// cosine similarity, so one shared basket is not evidence and a pair
	// seen often keeps nearly all of it.
	CoMinSupport float64
	CoShrink     float64
	// KindWeights says how much each kind of event counts; kinds missing
	// from the map count 1.
	KindWeights map[EventKind]float64
	// TimeOfDayBoost and DayOfWeekBoost say how much the current time-of-day
	// bucket and weekday shape trending (0 ignores them).
	TimeOfDayBoost float64
	DayOfWeekBoost float64
	// MaxPerProvider and MaxPerCategory cap how many items of one provider or
	// category a list of 10 holds (scaled up for longer lists). Zero disables.
	MaxPerProvider int
	MaxPerCategory int
	// MinPeriodicRepeats is how many observed repeat gaps an item needs
	// before it is treated as periodic; PeriodicSpread is the largest
	// standard deviation of the log gap still considered regular.
	MinPeriodicRepeats int
	PeriodicSpread     float64
	// UserTTL drops users with no event for this long (at prune time).
	UserTTL time.Duration
	// PruneEvery is how many observed events pass between prunes.
	PruneEvery int
	// MinCounter is the decayed value under which a city counter is dropped.
	MinCounter float64
	// CandidatesPerSource bounds how many candidates trending and popularity
	// contribute to a request.
	CandidatesPerSource int
}

// DefaultConfig returns the configuration the offline evaluation was tuned
// with (see cmd/plaza-eval).
func DefaultConfig() Config {
	return Config{
		Weights: Weights{
			Repeat:       1.0,
			FollowUp:     0.3,
			CoOccurrence: 0.2,
			Trending:     0.2,
			Periodic:     0.8,
			Popular:      0.1,
		},
		TopK:               50,
		HalfLife:           72 * time.Hour,
		PopularityHalfLife: 30 * 24 * time.Hour,
		RepeatHalfLife:     21 * 24 * time.Hour,
		HistoryCap:         200,
		CoWindow:           14 * 24 * time.Hour,
		CoMinSupport:       2,
		CoShrink:           5,
		KindWeights: map[EventKind]float64{
			View: 0.2, Search: 0.1, Order: 1, Booking: 1, Consultation: 1, Application: 1, Renewal: 1,
		},
		TimeOfDayBoost:      1.0,
		DayOfWeekBoost:      0.5,
		MaxPerProvider:      4,
		MaxPerCategory:      7,
		MinPeriodicRepeats:  5,
		PeriodicSpread:      0.35,
		UserTTL:             180 * 24 * time.Hour,
		PruneEvery:          50_000,
		MinCounter:          0.01,
		CandidatesPerSource: 50,
	}
}

// withDefaults fills zero or negative fields that would make the engine
// misbehave with DefaultConfig's values.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	orDefault(&c.TopK, d.TopK)
	orDefault(&c.HalfLife, d.HalfLife)
	orDefault(&c.PopularityHalfLife, d.PopularityHalfLife)
	orDefault(&c.RepeatHalfLife, d.RepeatHalfLife)
	orDefault(&c.HistoryCap, d.HistoryCap)
	orDefault(&c.CoWindow, d.CoWindow)
	orDefault(&c.CoMinSupport, d.CoMinSupport)
	orDefault(&c.CoShrink, d.CoShrink)
	orDefault(&c.MinPeriodicRepeats, d.MinPeriodicRepeats)
	orDefault(&c.PeriodicSpread, d.PeriodicSpread)
	orDefault(&c.PruneEvery, d.PruneEvery)
	orDefault(&c.CandidatesPerSource, d.CandidatesPerSource)
	return c
}

func orDefault[T int | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}
