package recommend

import (
	"fmt"
	"math"
	"time"
)

// Params are the parts of the engine that are learned from a log rather
// than configured: how much each candidate source counts, how each source's
// raw score maps to a probability of being used, and the repeat source's
// decay. Fit produces them from a time-based validation split of the
// events it is given; Engine.SetParams swaps them in without touching the
// learned state, so a running engine adopts a new fit between two requests.
type Params struct {
	// Weights multiply each source's calibrated score (a probability), so
	// a weight of 1 on two sources ranks their candidates by the chance of
	// being used. Zero switches a source off in the mixed list; the home
	// page's sections still show their own source.
	Weights Weights `json:"weights"`
	// Calibration maps a source's raw score to the probability that its
	// candidate is used on the user's next day (Platt scaling on the log of
	// the raw score). A source without an entry falls back to rescaling its
	// best candidate to 1, which is only used before the first fit.
	Calibration map[Source]Logistic `json:"calibration,omitempty"`
	// RepeatHalfLife is the recency decay of a user's own interactions:
	// short makes "buy again" the last basket, long makes it the user's
	// most frequent items.
	RepeatHalfLife time.Duration `json:"repeatHalfLife"`
	// DueBoost says whether the repeat source favours items the user is
	// due to buy again by their own rhythm.
	DueBoost bool `json:"dueBoost"`
	// Fit describes how these parameters were chosen; nil for the
	// configured defaults.
	Fit *FitReport `json:"fit,omitempty"`
}

// Logistic is a calibration curve: P(used) = 1/(1+exp(-(A + B*ln(raw)))).
// B is kept positive so a source's own ranking is never reversed.
type Logistic struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// minSlope keeps calibrated curves strictly increasing: a flat curve would
// turn a source's ranking into ties broken by item ID.
const minSlope = 1e-3

// Prob returns the calibrated probability of a raw score; 0 for raw <= 0
// (the source did not propose the item).
func (l Logistic) Prob(raw float64) float64 {
	if raw <= 0 {
		return 0
	}
	return 1 / (1 + math.Exp(-(l.A + max(l.B, minSlope)*math.Log(raw))))
}

// FitReport holds the validation figures that chose a set of Params.
type FitReport struct {
	// FittedAt is when the fit ran; Seed drove its sampling.
	FittedAt time.Time `json:"fittedAt"`
	Seed     uint64    `json:"seed"`
	// Events is how many events the fit read; ValidationCut splits them:
	// the engine was trained on the events before it and asked about each
	// validation user's first day after it.
	Events          int       `json:"events"`
	ValidationCut   time.Time `json:"validationCut"`
	ValidationUsers int       `json:"validationUsers"`
	// HR and NDCG are the chosen parameters' HR@N and NDCG@N on the
	// validation users; PopularityHR and PopularityNDCG are the global
	// top-N list's, for scale.
	N              int     `json:"n"`
	HR             float64 `json:"hr"`
	NDCG           float64 `json:"ndcg"`
	PopularityHR   float64 `json:"popularityHr"`
	PopularityNDCG float64 `json:"popularityNdcg"`
	// PreviousHR and PreviousNDCG are the parameters in use before this
	// fit, scored on the same validation users (nil without a previous
	// fit). Adopted says whether these parameters replaced them: only when
	// they validate at least as well.
	PreviousHR   *float64 `json:"previousHr,omitempty"`
	PreviousNDCG *float64 `json:"previousNdcg,omitempty"`
	Adopted      bool     `json:"adopted"`
	// Sources gives, per source, how many validation candidates it proposed
	// and how many of them were used.
	Sources []SourceReport `json:"sources"`
	// Duration is how long the fit took.
	Duration time.Duration `json:"duration"`
}

// SourceReport is one source's share of a validation run.
type SourceReport struct {
	Source     Source  `json:"source"`
	Candidates int     `json:"candidates"`
	Hits       int     `json:"hits"`
	Weight     float64 `json:"weight"`
}

// DefaultParams are the parameters an engine starts with: the configured
// weights and repeat decay, no calibration.
func (c Config) DefaultParams() Params {
	return Params{Weights: c.Weights, RepeatHalfLife: c.RepeatHalfLife, DueBoost: true}
}

// Validate reports whether p can be served: weights finite and not
// negative, at least one positive, a positive decay, calibrations finite.
func (p Params) Validate() error {
	w := p.Weights.array()
	any := false
	for s, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("recommend: params: weight of %s is %v", sourceNames[s], v)
		}
		any = any || v > 0
	}
	if !any {
		return fmt.Errorf("recommend: params: every weight is zero")
	}
	if p.RepeatHalfLife <= 0 {
		return fmt.Errorf("recommend: params: repeat half-life %s is not positive", p.RepeatHalfLife)
	}
	for s, l := range p.Calibration {
		if math.IsNaN(l.A) || math.IsInf(l.A, 0) || math.IsNaN(l.B) || math.IsInf(l.B, 0) {
			return fmt.Errorf("recommend: params: calibration of %s is not finite", s)
		}
	}
	return nil
}

// SetParams swaps in new parameters (after Validate). Requests already
// running finish with the old ones.
func (e *Engine) SetParams(p Params) error {
	if err := p.Validate(); err != nil {
		return err
	}
	e.params.Store(&p)
	return nil
}

// Params returns the parameters the engine currently serves with.
func (e *Engine) Params() Params { return *e.params.Load() }

// calibration returns, per source, the curve to apply (ok false: rescale
// by the maximum instead).
func (p *Params) calibration() (curves [numSources]Logistic, ok [numSources]bool) {
	for s := range numSources {
		curves[s], ok[s] = p.Calibration[sourceNames[s]]
	}
	return curves, ok
}
