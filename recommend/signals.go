package recommend

import (
	"math"
	"time"
)

// Popularity returns how popular each of itemIDs is at now (zero: the
// engine's clock), in the order given: the larger of the item's popularity
// in city and half its global popularity, the blend the cold-start source
// ranks by, so an item busy in the user's city counts most but a city the
// engine has not seen yet still ranks by global demand. Both are
// kind-weighted interaction counts decayed with PopularityHalfLife; items
// the engine has never seen are 0. Only proportions between items are
// meaningful (every value shares one decay factor).
//
// The whole batch is answered under one read lock, so a search ranking a
// few hundred candidates costs one lock acquisition and a map lookup each.
func (e *Engine) Popularity(itemIDs []string, city string, now time.Time) []float64 {
	if now.IsZero() {
		now = e.now()
	}
	out := make([]float64, len(itemIDs))
	e.mu.RLock()
	defer e.mu.RUnlock()
	// All counters share the landmark, so one decay factor reads them all.
	decay := e.pop.at(1, now.Unix())
	var local map[int32]*trendCounter
	if c := e.cities[city]; c != nil && city != "" {
		local = c.items
	}
	for i, id := range itemIDs {
		idx, ok := e.ids[id]
		if !ok {
			continue
		}
		v := e.items[idx].pop / 2
		if tc := local[idx]; tc != nil {
			v = max(v, tc.pop)
		}
		if v > 0 { // 0 stays 0 even where the decay factor overflows
			out[i] = v * decay
		}
	}
	return out
}

// Affinity returns what share of userID's recent activity went to each item
// category, in [0, 1], summing to 1 over the categories returned: every
// event of the user's history (at most HistoryCap) counts its kind weight,
// decayed with RepeatHalfLife from now (zero: the engine's clock), towards
// the current category of its item. Events after now and items without a
// category are left out. It returns nil for a user the engine holds no
// categorised history for (unknown, forgotten, or idle past UserTTL).
//
// The map is the caller's; building it reads only the user's bounded
// history under the read lock.
func (e *Engine) Affinity(userID string, now time.Time) map[string]float64 {
	if now.IsZero() {
		now = e.now()
	}
	t := now.Unix()
	half := e.params.Load().RepeatHalfLife.Seconds()
	e.mu.RLock()
	u := e.users[userID]
	if u == nil {
		e.mu.RUnlock()
		return nil
	}
	// A user's history spans few categories: summing into a short slice
	// and sizing the map once is cheaper than growing a map per search.
	type share struct {
		category string
		w        float64
	}
	acc := make([]share, 0, 16)
	total := 0.0
	for _, o := range u.hist {
		cat := e.items[o.item].Category
		if o.t > t || cat == "" {
			continue
		}
		w := e.kindW[o.kind] * math.Exp2(-float64(t-o.t)/half)
		total += w
		j := len(acc) - 1
		for ; j >= 0 && acc[j].category != cat; j-- {
		}
		if j < 0 {
			acc = append(acc, share{category: cat})
			j = len(acc) - 1
		}
		acc[j].w += w
	}
	e.mu.RUnlock()
	if total <= 0 {
		return nil
	}
	out := make(map[string]float64, len(acc))
	for _, s := range acc {
		out[s.category] = s.w / total
	}
	return out
}
