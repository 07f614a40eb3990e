package recommend

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// FitOptions steer and bound Fit. Zero fields take the defaults below.
type FitOptions struct {
	// Seed drives the sampling of validation users; equal seeds and
	// events give equal parameters.
	Seed uint64
	// ValidationShare is the share of the events (by time) after the
	// validation cut. Default 0.2.
	ValidationShare float64
	// MaxUsers bounds the validation users (sampled with Seed), which
	// bounds the fit's time. Default 2000.
	MaxUsers int
	// MinUsers is the fewest validation users a fit is made on; fewer
	// is ErrTooFewEvents (a handful of users would fit noise). Default 20.
	MinUsers int
	// N is the list length scored (HR@N, NDCG@N). Default 10.
	N int
	// HalfLives are the repeat decays tried. Default 1, 7, 30, 90, 365 and
	// 3650 days: from "the last basket again" to "what you buy most".
	HalfLives []time.Duration
	// MinGain is how much a change of weights must raise the validation
	// objective (HR@N + NDCG@N) to be taken, and how little a source may
	// add and still be switched off: a source has to earn its slots.
	// Default 0.003.
	MinGain float64
	// Now stamps the report. Default time.Now.
	Now func() time.Time
}

func (o FitOptions) withDefaults() FitOptions {
	if o.ValidationShare <= 0 || o.ValidationShare >= 1 {
		o.ValidationShare = 0.2
	}
	if o.MaxUsers <= 0 {
		o.MaxUsers = 2000
	}
	if o.N <= 0 {
		o.N = 10
	}
	if o.MinUsers <= 0 {
		o.MinUsers = 20
	}
	if len(o.HalfLives) == 0 {
		for _, d := range []int{1, 7, 30, 90, 365, 3650} {
			o.HalfLives = append(o.HalfLives, time.Duration(d)*24*time.Hour)
		}
	}
	if o.MinGain <= 0 {
		o.MinGain = 0.003
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// ErrTooFewEvents is returned by Fit when the events leave no validation
// user: nothing to fit on.
var ErrTooFewEvents = errors.New("recommend: too few events to fit on")

// weightGrid are the weights tried per source. Scores are probabilities,
// so the grid only needs to express "counts less, the same, more".
var weightGrid = []float64{0, 0.25, 0.5, 1, 2, 4}

// Fit learns Params from events (any order; only these are read). The
// events are cut in time: an engine with cfg is trained on the earlier
// ValidationShare-complement and asked, for each user with history before
// the cut, for N items at the start of the user's first day after it.
// Then, in order:
//
//   - the repeat decay and due-ness are the ones whose repeat list alone
//     scores best;
//   - each source's raw scores are calibrated to the probability that its
//     candidate is used that day (logistic regression on the log score);
//   - weights are searched coordinate-wise over weightGrid from nothing,
//     taking a change only when it gains MinGain, then each source that
//     adds less than MinGain is switched off.
//
// The objective is HR@N + NDCG@N on the lists the engine would serve
// (diversity quotas included). When previous is given it is scored on the
// same users, and the report's Adopted says whether the new parameters do
// at least as well. Fit returns ErrTooFewEvents when no user can be
// validated, and ctx's error when cancelled.
func Fit(ctx context.Context, cfg Config, items []Item, events []Event, opt FitOptions, previous *Params) (Params, error) {
	opt = opt.withDefaults()
	start := opt.Now()
	f, err := newFitter(ctx, cfg, items, events, opt)
	if err != nil {
		return Params{}, err
	}
	// Repeat decay and due-ness, by the repeat list alone.
	bestObj := math.Inf(-1)
	var hl time.Duration
	var due bool
	for _, h := range opt.HalfLives {
		for _, d := range []bool{true, false} {
			if err := ctx.Err(); err != nil {
				return Params{}, err
			}
			o := f.repeatObjective(&Params{RepeatHalfLife: h, DueBoost: d})
			if o > bestObj {
				bestObj, hl, due = o, h, d
			}
		}
	}
	p := Params{RepeatHalfLife: hl, DueBoost: due}
	m := f.gather(&p)
	p.Calibration = m.calibrate()
	probs := m.probabilities(p.Calibration)
	w, err := f.searchWeights(ctx, m, probs)
	if err != nil {
		return Params{}, err
	}
	p.Weights = weightsOf(w)
	hr, ndcg := f.score(m, probs, w)
	rep := &FitReport{
		Seed: opt.Seed, Events: len(f.events), ValidationCut: f.cut, ValidationUsers: len(f.users), N: opt.N,
		HR: hr, NDCG: ndcg, Adopted: true,
	}
	rep.PopularityHR, rep.PopularityNDCG = f.popularity()
	for s := range numSources {
		sr := SourceReport{Source: sourceNames[s], Weight: w[s]}
		for _, u := range m.users {
			for _, c := range u.cands {
				if c.raw[s] > 0 {
					sr.Candidates++
					if c.hit {
						sr.Hits++
					}
				}
			}
		}
		rep.Sources = append(rep.Sources, sr)
	}
	if previous != nil && previous.Validate() == nil {
		pm := m
		if previous.RepeatHalfLife != p.RepeatHalfLife || previous.DueBoost != p.DueBoost {
			pm = f.gather(previous)
		}
		phr, pndcg := f.score(pm, pm.probabilities(previous.Calibration), previous.Weights.array())
		rep.PreviousHR, rep.PreviousNDCG = &phr, &pndcg
		rep.Adopted = hr+ndcg >= phr+pndcg
	}
	rep.FittedAt, rep.Duration = start, opt.Now().Sub(start)
	p.Fit = rep
	return p, nil
}

func weightsOf(w [numSources]float64) Weights {
	return Weights{Repeat: w[srcRepeat], FollowUp: w[srcFollowUp], CoOccurrence: w[srcCoOccurrence],
		Trending: w[srcTrending], Periodic: w[srcPeriodic], Popular: w[srcPopular]}
}

// fitter holds a validation split: the engine trained before the cut and
// the users to ask after it.
type fitter struct {
	cfg    Config
	opt    FitOptions
	e      *Engine
	events []Event
	cut    time.Time
	users  []valUser
	// idRank orders items by ID, the engine's tie-break.
	idRank []int32
	// trainCount is each item's substantial interactions before the cut.
	trainCount []int
}

type valUser struct {
	id   string
	now  time.Time
	rel  map[int32]bool // used items the engine knows
	nrel int            // all used items, known or not (NDCG's ideal)
}

func newFitter(ctx context.Context, cfg Config, items []Item, events []Event, opt FitOptions) (*fitter, error) {
	evs := slices.Clone(events)
	slices.SortStableFunc(evs, func(a, b Event) int { return a.Time.Compare(b.Time) })
	if len(evs) < 2 {
		return nil, ErrTooFewEvents
	}
	k := min(len(evs)-1, int(float64(len(evs))*(1-opt.ValidationShare)))
	cut := evs[k].Time
	k, _ = slices.BinarySearchFunc(evs, cut, func(e Event, t time.Time) int { return e.Time.Compare(t) })
	f := &fitter{cfg: cfg, opt: opt, events: evs, cut: cut}
	f.e = New(cfg)
	f.e.AddItems(items...)
	const batch = 4096
	for i := 0; i < k; i += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f.e.Observe(evs[i:min(k, i+batch)]...)
	}
	e := f.e
	f.trainCount = make([]int, len(e.items))
	for _, ev := range evs[:k] {
		if idx, ok := e.ids[ev.ItemID]; ok && e.kindWeight(ev.Kind) >= substantial {
			f.trainCount[idx]++
		}
	}
	// Each user with history before the cut is asked at their first
	// substantial event after it; that day's substantial items are the target.
	byUser := map[string]*valUser{}
	for _, ev := range evs[k:] {
		if ev.UserID == "" || ev.ItemID == "" || e.kindWeight(ev.Kind) < substantial || e.users[ev.UserID] == nil {
			continue
		}
		u := byUser[ev.UserID]
		if u == nil {
			u = &valUser{id: ev.UserID, now: ev.Time, rel: map[int32]bool{}}
			byUser[ev.UserID] = u
		}
		if dayOf(ev.Time) != dayOf(u.now) {
			continue
		}
		idx, known := e.ids[ev.ItemID]
		if known && !u.rel[idx] {
			u.rel[idx] = true
			u.nrel++
		} else if !known {
			u.nrel++ // an item first seen after the cut: no list can hold it
		}
	}
	if len(byUser) < opt.MinUsers {
		return nil, fmt.Errorf("%w: %d events, %d users active both before and after %s, want at least %d",
			ErrTooFewEvents, len(evs), len(byUser), cut.Format(time.RFC3339), opt.MinUsers)
	}
	ids := make([]string, 0, len(byUser))
	for id := range byUser {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if len(ids) > opt.MaxUsers {
		rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		ids = ids[:opt.MaxUsers]
		slices.Sort(ids)
	}
	for _, id := range ids {
		f.users = append(f.users, *byUser[id])
	}
	order := make([]int32, len(e.items))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(e.items[a].ID, e.items[b].ID) })
	f.idRank = make([]int32, len(e.items))
	for r, idx := range order {
		f.idRank[idx] = int32(r)
	}
	return f, nil
}

func (e *Engine) kindWeight(k EventKind) float64 {
	if k >= numKinds {
		k = Unknown
	}
	return e.kindW[k]
}

func dayOf(t time.Time) int64 { return t.Unix() / 86400 }

// vcand is one validation candidate: raw scores and whether it was used.
type vcand struct {
	idx      int32
	raw      [numSources]float64
	hit      bool
	provider string
	category string
}

type vuser struct {
	cands []vcand
	nrel  int
}

// matrix is every validation user's candidates under one set of gathering
// parameters (repeat decay, due-ness).
type matrix struct{ users []vuser }

var allSources = [numSources]float64{1, 1, 1, 1, 1, 1}

func (f *fitter) gather(p *Params) *matrix {
	m := &matrix{users: make([]vuser, len(f.users))}
	for i, u := range f.users {
		m.users[i] = f.gatherUser(u, p, allSources)
	}
	return m
}

func (f *fitter) gatherUser(u valUser, p *Params, srcs [numSources]float64) vuser {
	cs := f.e.candidates(Request{UserID: u.id, Now: u.now, N: f.opt.N, Personalized: true}, p, srcs)
	out := vuser{cands: make([]vcand, len(cs.list)), nrel: u.nrel}
	for j, c := range cs.list {
		out.cands[j] = vcand{idx: c.idx, raw: c.score, hit: u.rel[c.idx], provider: c.provider, category: c.category}
	}
	out.cands = f.prune(out.cands)
	// Candidates come in map order; sorting makes every sum over them
	// (calibration, scores) add in one order, so fits are reproducible.
	// Item IDs, not interning order, so the order of the input events does
	// not matter either.
	slices.SortFunc(out.cands, func(a, b vcand) int { return cmp.Compare(f.idRank[a.idx], f.idRank[b.idx]) })
	return out
}

// prune drops candidates that no weights can bring into a list: one
// proposed by a single source, below that source's keep-th best, is
// outranked under any weights by the keep candidates above it. keep is
// 4N, the depth the engine itself ranks before applying quotas. This
// keeps the weight search from sorting hundreds of hopeless co-occurrence
// neighbours per user.
func (f *fitter) prune(cands []vcand) []vcand {
	keep := 4 * f.opt.N
	var floor [numSources]float64
	vals := make([]float64, 0, len(cands))
	for s := range numSources {
		vals = vals[:0]
		for _, c := range cands {
			if c.raw[s] > 0 {
				vals = append(vals, c.raw[s])
			}
		}
		if len(vals) > keep {
			slices.Sort(vals)
			floor[s] = vals[len(vals)-keep]
		}
	}
	out := cands[:0]
	for _, c := range cands {
		n, s1 := 0, 0
		for s := range numSources {
			if c.raw[s] > 0 {
				n, s1 = n+1, s
			}
		}
		if n == 1 && c.raw[s1] < floor[s1] {
			continue
		}
		out = append(out, c)
	}
	return out
}

// repeatObjective scores the repeat list alone under p's decay.
func (f *fitter) repeatObjective(p *Params) float64 {
	var only [numSources]float64
	only[srcRepeat] = 1
	var w [numSources]float64
	w[srcRepeat] = 1
	m := &matrix{users: make([]vuser, len(f.users))}
	for i, u := range f.users {
		m.users[i] = f.gatherUser(u, p, only)
	}
	probs := m.probabilities(nil) // raw scores: only the order within a user matters
	hr, ndcg := f.score(m, probs, w)
	return hr + ndcg
}

// calibrate fits each source's logistic curve on its candidates.
func (m *matrix) calibrate() map[Source]Logistic {
	out := make(map[Source]Logistic, numSources)
	for s := range numSources {
		var xs []float64
		var ys []bool
		for _, u := range m.users {
			for _, c := range u.cands {
				if c.raw[s] > 0 {
					xs = append(xs, math.Log(c.raw[s]))
					ys = append(ys, c.hit)
				}
			}
		}
		out[sourceNames[s]] = fitLogistic(xs, ys)
	}
	return out
}

// fitLogistic fits P(y) = sigmoid(a + b*x) by Newton's method with a
// small ridge (so separable or one-class data still gives finite values),
// and keeps b at least minSlope. Without data it returns a near-zero
// probability.
func fitLogistic(xs []float64, ys []bool) Logistic {
	if len(xs) == 0 {
		return Logistic{A: -10, B: minSlope}
	}
	const ridge = 1e-3
	var a, b float64
	for range 50 {
		var ga, gb, haa, hab, hbb float64
		for i, x := range xs {
			p := 1 / (1 + math.Exp(-(a + b*x)))
			y := 0.0
			if ys[i] {
				y = 1
			}
			ga += y - p
			gb += (y - p) * x
			w := p * (1 - p)
			haa += w
			hab += w * x
			hbb += w * x * x
		}
		ga -= ridge * a
		gb -= ridge * b
		haa += ridge
		hbb += ridge
		det := haa*hbb - hab*hab
		if det <= 0 || math.IsNaN(det) {
			break
		}
		da := (hbb*ga - hab*gb) / det
		db := (haa*gb - hab*ga) / det
		a, b = a+da, b+db
		if math.Abs(da)+math.Abs(db) < 1e-9 {
			break
		}
	}
	if b < minSlope {
		// A source whose higher scores are not more likely to be used
		// gets a flat curve at its mean rate (kept barely increasing so
		// its own order survives for its home section).
		hits := 0
		var mx float64
		for i, y := range ys {
			if y {
				hits++
			}
			mx += xs[i]
		}
		rate := (float64(hits) + 0.5) / (float64(len(ys)) + 1)
		b = minSlope
		a = math.Log(rate/(1-rate)) - b*mx/float64(len(xs))
	}
	return Logistic{A: a, B: b}
}

// probabilities applies curves (nil: raw scores as they are) to every
// candidate.
func (m *matrix) probabilities(curves map[Source]Logistic) [][][numSources]float64 {
	out := make([][][numSources]float64, len(m.users))
	for i, u := range m.users {
		out[i] = make([][numSources]float64, len(u.cands))
		for j, c := range u.cands {
			for s := range numSources {
				if curves == nil {
					out[i][j][s] = c.raw[s]
					continue
				}
				l, ok := curves[sourceNames[s]]
				if !ok {
					l = Logistic{A: -10, B: minSlope}
				}
				out[i][j][s] = l.Prob(c.raw[s])
			}
		}
	}
	return out
}

// searchWeights runs the coordinate search described at Fit.
func (f *fitter) searchWeights(ctx context.Context, m *matrix, probs [][][numSources]float64) ([numSources]float64, error) {
	obj := func(w [numSources]float64) float64 {
		hr, ndcg := f.score(m, probs, w)
		return hr + ndcg
	}
	// Popularity is the start and the null model: it is what every log
	// has and what cold users get. Every other source joins only if it
	// beats it.
	var w [numSources]float64
	w[srcPopular] = 1
	cur := obj(w)
	for range 6 {
		if err := ctx.Err(); err != nil {
			return w, err
		}
		bestW, bestO := w, cur
		for s := range numSources {
			for _, g := range weightGrid {
				if g == w[s] {
					continue
				}
				t := w
				t[s] = g
				if t == ([numSources]float64{}) {
					continue
				}
				if o := obj(t); o > bestO {
					bestW, bestO = t, o
				}
			}
		}
		if bestO-cur < f.opt.MinGain {
			break
		}
		w, cur = bestW, bestO
	}
	// A source keeps its slots only if it earns them: switching it off
	// must cost more than MinGain and more than twice the standard error
	// of the per-user difference (one-sided, about 2.5%), so on a small log
	// a source that only fits noise is switched off. The weakest goes
	// first, then the rest are tested again without it.
	base := make([]float64, len(m.users))
	off := make([]float64, len(m.users))
	for {
		weakest, weakestT := -1, math.Inf(1)
		for s := range numSources {
			if w[s] == 0 || s == srcPopular {
				continue
			}
			t := w
			t[s] = 0
			if t == ([numSources]float64{}) {
				continue
			}
			f.scoreUsers(m, probs, w, base)
			f.scoreUsers(m, probs, t, off)
			gain, se := pairedGain(base, off)
			if gain >= f.opt.MinGain && gain >= 2*se {
				continue
			}
			if z := gain / max(se, 1e-12); z < weakestT {
				weakest, weakestT = s, z
			}
		}
		if weakest < 0 {
			return w, nil
		}
		w[weakest] = 0
	}
}

// pairedGain is the mean of a-b and its standard error.
func pairedGain(a, b []float64) (mean, se float64) {
	n := float64(len(a))
	if n < 2 {
		return 0, 0
	}
	var sum, sq float64
	for i := range a {
		d := a[i] - b[i]
		sum += d
		sq += d * d
	}
	mean = sum / n
	variance := (sq - n*mean*mean) / (n - 1)
	return mean, math.Sqrt(max(variance, 0) / n)
}

// scoreUsers writes each validation user's HR@N + NDCG@N under w to per.
func (f *fitter) scoreUsers(m *matrix, probs [][][numSources]float64, w [numSources]float64, per []float64) {
	f.scoreEach(m, probs, w, func(i int, hr, ndcg float64) { per[i] = hr + ndcg })
}

// score returns mean HR@N and NDCG@N over the validation users of the lists
// the weights w make from probs, ranked like the engine ranks (score, then
// item ID) and with the same diversity quotas.
func (f *fitter) score(m *matrix, probs [][][numSources]float64, w [numSources]float64) (hr, ndcg float64) {
	f.scoreEach(m, probs, w, func(_ int, h, g float64) { hr, ndcg = hr+h, ndcg+g })
	if len(m.users) > 0 {
		hr /= float64(len(m.users))
		ndcg /= float64(len(m.users))
	}
	return hr, ndcg
}

// scoreEach calls each with every validation user's HR@N and NDCG@N.
func (f *fitter) scoreEach(m *matrix, probs [][][numSources]float64, w [numSources]float64, each func(i int, hr, ndcg float64)) {
	n := f.opt.N
	capP, capC := scaledCap(f.cfg.MaxPerProvider, n), scaledCap(f.cfg.MaxPerCategory, n)
	var list, top []ranked
	for i, u := range m.users {
		better := func(a, b ranked) bool {
			if a.total != b.total {
				return a.total > b.total
			}
			return f.idRank[u.cands[a.j].idx] < f.idRank[u.cands[b.j].idx]
		}
		// The best 2N by insertion: most candidates fail the first
		// comparison, so this is linear where a full sort was not.
		depth := 2 * n
		list, top = list[:0], top[:0]
		for j := range u.cands {
			t := 0.0
			for s := range numSources {
				t += w[s] * probs[i][j][s]
			}
			if t <= 0 {
				continue
			}
			r := ranked{j, t}
			list = append(list, r)
			if len(top) == depth && !better(r, top[depth-1]) {
				continue
			}
			if len(top) < depth {
				top = append(top, r)
			} else {
				top[depth-1] = r
			}
			for k := len(top) - 1; k > 0 && better(top[k], top[k-1]); k-- {
				top[k], top[k-1] = top[k-1], top[k]
			}
		}
		chosen := f.fill(u, top, n, capP, capC)
		if len(chosen) < n && len(list) > len(top) {
			// Quotas ate through the top 2N: rank everything.
			slices.SortFunc(list, func(a, b ranked) int {
				if better(a, b) {
					return -1
				}
				if better(b, a) {
					return 1
				}
				return 0
			})
			chosen = f.fill(u, list, n, capP, capC)
		}
		h, g := listMetrics(len(chosen), func(k int) bool { return u.cands[chosen[k]].hit }, u.nrel, n)
		each(i, h, g)
	}
}

type ranked struct {
	j     int
	total float64
}

// fill picks up to n of ranked (best first) under the diversity quotas,
// as the engine's fill does: quotas give way only when nothing else is left.
func (f *fitter) fill(u vuser, ranked []ranked, n, capP, capC int) []int {
	chosen := make([]int, 0, n)
	var deferred []int
	perP, perC := map[string]int{}, map[string]int{}
	for _, r := range ranked {
		if len(chosen) == n {
			break
		}
		c := &u.cands[r.j]
		if (capP > 0 && c.provider != "" && perP[c.provider] >= capP) || (capC > 0 && c.category != "" && perC[c.category] >= capC) {
			deferred = append(deferred, r.j)
			continue
		}
		perP[c.provider]++
		perC[c.category]++
		chosen = append(chosen, r.j)
	}
	for _, j := range deferred {
		if len(chosen) == n {
			break
		}
		chosen = append(chosen, j)
	}
	return chosen
}

// popularity scores the global top-N by substantial interactions before
// the cut (ties by item ID) on the validation users.
func (f *fitter) popularity() (hr, ndcg float64) {
	order := make([]int32, 0, len(f.trainCount))
	for i, c := range f.trainCount {
		if c > 0 {
			order = append(order, int32(i))
		}
	}
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(cmp.Compare(f.trainCount[b], f.trainCount[a]), cmp.Compare(f.idRank[a], f.idRank[b]))
	})
	top := order[:min(f.opt.N, len(order))]
	for _, u := range f.users {
		h, g := listMetrics(len(top), func(k int) bool { return u.rel[top[k]] }, u.nrel, f.opt.N)
		hr += h
		ndcg += g
	}
	if len(f.users) > 0 {
		hr /= float64(len(f.users))
		ndcg /= float64(len(f.users))
	}
	return hr, ndcg
}

// listMetrics is HR@n and NDCG@n (binary relevance) of a list of length
// whose k-th item is relevant when hit(k), against nrel relevant items.
func listMetrics(length int, hit func(k int) bool, nrel, n int) (hr, ndcg float64) {
	var dcg, ideal float64
	for k := range min(length, n) {
		if hit(k) {
			hr = 1
			dcg += 1 / math.Log2(float64(k+2))
		}
	}
	for k := range min(nrel, n) {
		ideal += 1 / math.Log2(float64(k+2))
	}
	if ideal > 0 {
		ndcg = dcg / ideal
	}
	return hr, ndcg
}
