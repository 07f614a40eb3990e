package gateway

import (
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// SearchSignals returns p with the engine's signals for ranking: the
// popularity of every candidate (anonymous aggregates, so for everyone,
// asked in one batch per search) and, when user is signed in and
// personalized, the user's affinity to each category from their own recent
// history. Without personalized (an opted-out user) or without a user
// there is no affinity, and an affinity the engine cannot tell (no
// history) is left unset.
//
// An item's affinity is the user's share of activity in its category, or
// in its vertical for items whose events named only that (stores, provider
// cards), whichever is larger.
func (r *Recommender) SearchSignals(p SearchParams, user string, personalized bool) SearchParams {
	city := p.City
	p.Popularities = func(hits []Hit) []float64 {
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = hitID(h)
		}
		return r.engine.Popularity(ids, city, time.Time{})
	}
	if user == "" || !personalized {
		return p
	}
	if aff := r.engine.Affinity(user, time.Time{}); len(aff) > 0 {
		p.Affinity = func(v connectors.Vertical, category string) float64 {
			return max(aff[category], aff[string(v)])
		}
	}
	return p
}
