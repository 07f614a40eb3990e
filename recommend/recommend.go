package recommend

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"github.com/plaza-gateway/plaza/citytz"
)

// Source names a candidate source.
type Source string

// The candidate sources, in the order Sources lists ties.
const (
	SourceRepeat       Source = "repeat"
	SourceFollowUp     Source = "follow_up"
	SourceCoOccurrence Source = "co_occurrence"
	SourceTrending     Source = "trending"
	SourcePeriodic     Source = "periodic"
	SourcePopular      Source = "popular"
)

const (
	srcRepeat = iota
	srcFollowUp
	srcCoOccurrence
	srcTrending
	srcPeriodic
	srcPopular
	numSources
)

var sourceNames = [numSources]Source{SourceRepeat, SourceFollowUp, SourceCoOccurrence, SourceTrending, SourcePeriodic, SourcePopular}

// Sources lists every candidate source, in a fixed order.
func Sources() []Source { return slices.Clone(sourceNames[:]) }

func (w Weights) array() [numSources]float64 {
	return [numSources]float64{w.Repeat, w.FollowUp, w.CoOccurrence, w.Trending, w.Periodic, w.Popular}
}

// Request asks for recommendations for one user.
type Request struct {
	UserID string
	// City scopes trending and popularity; empty falls back to the user's
	// last known city, then to global popularity.
	City string
	// Now is the request time, in the user's local zone (it picks the
	// time-of-day bucket). Zero means the engine's clock.
	Now time.Time
	// N is the list (or section) length; zero or less means 10.
	N int
	// Personalized must be true for the user's own history to be used. It is
	// false for users who opted out, and for the zero Request, so forgetting
	// it fails towards privacy.
	Personalized bool
	// Available, when set, is asked about each item before it is returned
	// (out of stock, provider degraded, outside the city, ...). It is called
	// without engine locks held and only for items that could make the list.
	Available func(itemID string) bool
	// Exclude lists items never to return.
	Exclude []string
}

// Recommendation is one recommended item with the reason shown to the user.
type Recommendation struct {
	ItemID string
	Score  float64
	// Reason is a sentence for the user, from the strongest source.
	Reason string
	// Sources lists every source that proposed the item, strongest first.
	Sources []Source
}

// Section is one block of the home page.
type Section struct {
	ID    string
	Title string
	Items []Recommendation
}

// Section IDs returned by Home.
const (
	SectionBuyAgain = "buy_again"
	SectionForYou   = "for_you"
	SectionPopular  = "popular_near_you"
	SectionServices = "services_you_may_need"
)

// why holds what a source knew about a candidate, turned into a Reason only
// for the items that make the list.
type why struct {
	kind   EventKind // the user's (or population's) verb for the item
	anchor int32     // the item that led here (co-occurrence, follow-up)
	akind  EventKind // the verb of the anchor
	bucket int8      // trending: -1 plain, 0-3 time of day, 4+ weekday
	count  int32
	period float64 // days
	ago    float64 // days
}

type cand struct {
	idx      int32
	score    [numSources]float64
	why      [numSources]why
	total    float64
	id       string
	provider string
	category string
	// coName and followName name the item behind the co-occurrence and
	// follow-up reasons, copied while the lock is held.
	coName, followName string
}

// candidates is the read-locked part of a request: everything needed to
// rank and explain, copied out so filtering runs without the lock.
type candidates struct {
	list []*cand
	city string
}

// Recommend returns up to req.N items combining every source, ranked by
// weighted score (ties by item ID), capped per provider and category, and
// filtered by req.Exclude and req.Available. It never mutates learned state.
// A cancelled ctx yields nil.
func (e *Engine) Recommend(ctx context.Context, req Request) []Recommendation {
	if ctx.Err() != nil {
		return nil
	}
	req = e.normalise(req)
	p := e.params.Load()
	w := p.Weights.array()
	if !req.Personalized {
		w = personalOff(w)
	}
	cs := e.candidates(req, p, w)
	p.calibrate(cs.list)
	return e.pick(ctx, cs, w, req, excludeSet(req.Exclude))
}

// Home returns the home page sections in display order: "Buy again",
// "For you", "Popular near you", "Services you may need". An item appears in
// at most one section; empty sections are left out. Without Personalized
// only "Popular near you" is returned.
func (e *Engine) Home(ctx context.Context, req Request) []Section {
	if ctx.Err() != nil {
		return nil
	}
	req = e.normalise(req)
	p := e.params.Load()
	w := p.Weights.array()
	// Every section shows its own source, whatever its weight in the
	// mixed list, so every source is gathered.
	cs := e.candidates(req, p, [numSources]float64{1, 1, 1, 1, 1, 1})
	p.calibrate(cs.list)
	only := func(srcs ...int) [numSources]float64 {
		var out [numSources]float64
		for _, s := range srcs {
			out[s] = w[s]
			if out[s] == 0 {
				// A section still shows its own source when the
				// combined list has it switched off.
				out[s] = 1
			}
		}
		return out
	}
	popTitle := "Popular on Plaza"
	if cs.city != "" {
		popTitle = "Popular near you"
	}
	type spec struct {
		id, title string
		w         [numSources]float64
		personal  bool
	}
	// Filled in priority order (the most personal first claims an item),
	// displayed in the order of the product spec.
	specs := []spec{
		{SectionBuyAgain, "Buy again", only(srcRepeat), true},
		{SectionServices, "Services you may need", only(srcPeriodic), true},
		{SectionForYou, "For you", only(srcCoOccurrence, srcFollowUp), true},
		{SectionPopular, popTitle, only(srcTrending, srcPopular), false},
	}
	display := map[string]int{SectionBuyAgain: 0, SectionForYou: 1, SectionPopular: 2, SectionServices: 3}
	seen := excludeSet(req.Exclude)
	var out []Section
	for _, s := range specs {
		if s.personal && !req.Personalized {
			continue
		}
		recs := e.pick(ctx, cs, s.w, req, seen)
		if len(recs) == 0 {
			continue
		}
		for _, r := range recs {
			seen[r.ItemID] = struct{}{}
		}
		out = append(out, Section{ID: s.id, Title: s.title, Items: recs})
	}
	slices.SortStableFunc(out, func(a, b Section) int { return display[a.ID] - display[b.ID] })
	return out
}

func personalOff(w [numSources]float64) [numSources]float64 {
	w[srcRepeat], w[srcFollowUp], w[srcCoOccurrence], w[srcPeriodic] = 0, 0, 0, 0
	return w
}

func excludeSet(ids []string) map[string]struct{} {
	m := make(map[string]struct{}, len(ids)+16)
	for _, id := range ids {
		m[id] = struct{}{}
	}
	return m
}

func (e *Engine) normalise(req Request) Request {
	if req.N <= 0 {
		req.N = 10
	}
	if req.Now.IsZero() {
		req.Now = e.now()
	}
	return req
}

// pick ranks candidates under weights w, then applies exclusions,
// availability and the diversity quotas.
func (e *Engine) pick(ctx context.Context, cs candidates, w [numSources]float64, req Request, exclude map[string]struct{}) []Recommendation {
	// Ranking everything costs a sort of every candidate; a generous top
	// slice almost always fills the list, and the full ranking is the
	// fallback when filters and quotas eat through it.
	limit := 4*req.N + len(exclude)
	ranked := rank(cs.list, w, limit)
	if len(ranked) == limit {
		if out := e.fill(ctx, cs, w, req, exclude, ranked); len(out) == req.N {
			return out
		}
		ranked = rank(cs.list, w, len(cs.list))
	}
	return e.fill(ctx, cs, w, req, exclude, ranked)
}

// fill walks ranked candidates applying exclusions, availability and the
// diversity quotas.
func (e *Engine) fill(ctx context.Context, cs candidates, w [numSources]float64, req Request, exclude map[string]struct{}, ranked []*cand) []Recommendation {
	capP := scaledCap(e.cfg.MaxPerProvider, req.N)
	capC := scaledCap(e.cfg.MaxPerCategory, req.N)
	perProvider := map[string]int{}
	perCategory := map[string]int{}
	var chosen, deferred []*cand
	for _, c := range ranked {
		if len(chosen) == req.N || ctx.Err() != nil {
			break
		}
		if _, ok := exclude[c.id]; ok {
			continue
		}
		if req.Available != nil && !req.Available(c.id) {
			continue
		}
		if (capP > 0 && c.provider != "" && perProvider[c.provider] >= capP) ||
			(capC > 0 && c.category != "" && perCategory[c.category] >= capC) {
			deferred = append(deferred, c)
			continue
		}
		perProvider[c.provider]++
		perCategory[c.category]++
		chosen = append(chosen, c)
	}
	// Quotas give way only when nothing else is left to show: a short list
	// helps nobody more than a slightly concentrated one.
	for _, c := range deferred {
		if len(chosen) == req.N {
			break
		}
		chosen = append(chosen, c)
	}
	out := make([]Recommendation, len(chosen))
	for i, c := range chosen {
		out[i] = e.explain(cs, c, w)
	}
	return out
}

// scaledCap turns a per-10 quota into one for a list of n.
func scaledCap(perTen, n int) int {
	if perTen <= 0 {
		return 0
	}
	return max(perTen, (perTen*n+9)/10)
}

// rank scores candidates under w and returns the best limit of them by
// score, then item ID. Candidates no weighted source proposed are dropped.
func rank(list []*cand, w [numSources]float64, limit int) []*cand {
	out := make([]*cand, 0, len(list))
	for _, c := range list {
		c.total = 0
		for s := range numSources {
			c.total += w[s] * c.score[s]
		}
		if c.total > 0 {
			out = append(out, c)
		}
	}
	better := func(a, b *cand) int {
		if a.total != b.total {
			return cmp.Compare(b.total, a.total)
		}
		return cmp.Compare(a.id, b.id)
	}
	if limit < len(out) {
		out = selectBest(out, limit, better)
	}
	slices.SortFunc(out, better)
	return out
}

// selectBest moves the k best elements (under cmp) to the front, in no
// particular order, and returns them (quickselect, expected linear time).
func selectBest(xs []*cand, k int, cmp func(a, b *cand) int) []*cand {
	lo, hi := 0, len(xs)-1
	for lo < hi {
		// Median-of-three pivot keeps already-ordered input linear.
		mid := lo + (hi-lo)/2
		if cmp(xs[mid], xs[lo]) < 0 {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if cmp(xs[hi], xs[lo]) < 0 {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if cmp(xs[hi], xs[mid]) < 0 {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		i, j := lo, hi
		for i <= j {
			for cmp(xs[i], pivot) < 0 {
				i++
			}
			for cmp(pivot, xs[j]) < 0 {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return xs[:k]
		}
	}
	return xs[:k]
}

func (e *Engine) explain(cs candidates, c *cand, w [numSources]float64) Recommendation {
	type contrib struct {
		s int
		v float64
	}
	var cs2 []contrib
	for s := range numSources {
		if v := w[s] * c.score[s]; v > 0 {
			cs2 = append(cs2, contrib{s, v})
		}
	}
	slices.SortStableFunc(cs2, func(a, b contrib) int { return cmp.Compare(b.v, a.v) })
	r := Recommendation{ItemID: c.id, Score: c.total, Sources: make([]Source, len(cs2))}
	for i, x := range cs2 {
		r.Sources[i] = sourceNames[x.s]
	}
	if len(cs2) > 0 {
		anchor := c.coName
		if cs2[0].s == srcFollowUp {
			anchor = c.followName
		}
		r.Reason = reason(cs2[0].s, c.why[cs2[0].s], anchor, cs.city)
	}
	return r
}

// candidates gathers, under the read lock, the raw scores of every source
// whose weight in gather is positive. Raw scores are on each source's own
// scale; calibrate makes them comparable.
func (e *Engine) candidates(req Request, p *Params, gather [numSources]float64) candidates {
	e.mu.RLock()
	defer e.mu.RUnlock()
	g := gatherer{e: e, req: req, now: req.Now.Unix(), half: p.RepeatHalfLife.Seconds(), due: p.DueBoost}
	var u *userState
	if req.Personalized {
		u = e.users[req.UserID]
	}
	g.city = req.City
	if g.city == "" && u != nil {
		g.city = u.city
	}
	if u != nil && len(u.hist) > 0 {
		g.summarise(u)
	}
	g.reserve(gather)
	if len(g.mine) > 0 {
		if gather[srcRepeat] > 0 {
			g.repeat()
		}
		if gather[srcFollowUp] > 0 {
			g.followUp(u)
		}
		if gather[srcCoOccurrence] > 0 {
			g.coOccurrence()
		}
		if gather[srcPeriodic] > 0 {
			g.periodic()
		}
	}
	if gather[srcTrending] > 0 {
		g.trending()
	}
	if gather[srcPopular] > 0 {
		g.popular()
	}
	out := candidates{list: make([]*cand, len(g.cands)), city: g.city}
	for i := range g.cands {
		c := &g.cands[i]
		it := &e.items[c.idx]
		c.id, c.provider, c.category = it.ID, it.Provider, it.Category
		if c.score[srcCoOccurrence] > 0 {
			c.coName = displayName(&e.items[c.why[srcCoOccurrence].anchor].Item)
		}
		if c.score[srcFollowUp] > 0 {
			c.followName = displayName(&e.items[c.why[srcFollowUp].anchor].Item)
		}
		out.list[i] = c
	}
	return out
}

// calibrate turns raw scores into comparable ones in place: the fitted
// probability of being used where the source has a calibration curve,
// otherwise (before the first fit) the raw score over the source's best in
// this request.
func (p *Params) calibrate(list []*cand) {
	curves, ok := p.calibration()
	var maxes [numSources]float64
	for _, c := range list {
		for s := range numSources {
			maxes[s] = max(maxes[s], c.score[s])
		}
	}
	for _, c := range list {
		for s := range numSources {
			switch {
			case ok[s]:
				c.score[s] = curves[s].Prob(c.score[s])
			case maxes[s] > 0:
				c.score[s] /= maxes[s]
			}
		}
	}
}

func displayName(it *Item) string {
	if it.Name != "" {
		return it.Name
	}
	return it.ID
}

// gatherer collects candidates for one request.
type gatherer struct {
	e     *Engine
	req   Request
	now   int64
	city  string
	half  float64         // repeat half-life, seconds
	due   bool            // repeat favours items due by the user's rhythm
	byIdx map[int32]int32 // item -> position in cands
	cands []cand
	// per-item summary of the user's history, most recent first
	mine []itemSummary
}

type itemSummary struct {
	idx     int32
	kind    EventKind // latest kind
	weight  float64   // recency-decayed, kind-weighted interactions
	count   int       // substantial interactions
	days    []int64   // distinct days of substantial interactions, newest first
	last    int64     // latest substantial interaction (0 if none)
	lastAny int64
}

// get returns the candidate for idx, adding it if new. The pointer is only
// valid until the next get (cands may grow).
func (g *gatherer) get(idx int32) *cand {
	p, ok := g.byIdx[idx]
	if !ok {
		p = int32(len(g.cands))
		g.byIdx[idx] = p
		g.cands = append(g.cands, cand{idx: idx})
	}
	return &g.cands[p]
}

// reserve sizes the candidate table for the sources gathered up front:
// growing a slice of large structs dominated request time.
func (g *gatherer) reserve(gather [numSources]float64) {
	n := len(g.mine)
	if gather[srcTrending] > 0 || gather[srcPopular] > 0 {
		n += 2 * g.e.cfg.CandidatesPerSource
	}
	for i := 0; gather[srcCoOccurrence] > 0 && i < len(g.mine) && i < coAnchors; i++ {
		n += len(g.e.items[g.mine[i].idx].neigh)
	}
	g.byIdx = make(map[int32]int32, n)
	g.cands = make([]cand, 0, n)
}

func (g *gatherer) summarise(u *userState) {
	e := g.e
	pos := make(map[int32]int, 64)
	half := g.half
	for i := len(u.hist) - 1; i >= 0; i-- {
		o := u.hist[i]
		if o.t > g.now {
			continue // the request is in the past of this event
		}
		p, ok := pos[o.item]
		if !ok {
			p = len(g.mine)
			pos[o.item] = p
			g.mine = append(g.mine, itemSummary{idx: o.item, kind: o.kind, lastAny: o.t})
		}
		s := &g.mine[p]
		kw := e.kindW[o.kind]
		s.weight += kw * math.Exp2(-float64(g.now-o.t)/half)
		if kw >= substantial {
			if s.count == 0 {
				s.last = o.t
				s.kind = o.kind
			}
			s.count++
			day := o.t / 86400
			if len(s.days) == 0 || s.days[len(s.days)-1] != day {
				s.days = append(s.days, day)
			}
		}
	}
}

// repeat scores the user's own staples: frequency and recency, boosted when
// the item is due by the user's own rhythm.
func (g *gatherer) repeat() {
	for i := range g.mine {
		s := &g.mine[i]
		if s.count == 0 {
			continue
		}
		score := s.weight
		period := userPeriod(s.days)
		ago := float64(g.now-s.last) / 86400
		if period > 0 && g.due {
			sigma := 0.35*period + 0.5
			z := (ago - period) / sigma
			if ago > period {
				z /= 2 // overdue stays likely for a while
			}
			score *= 0.4 + math.Exp(-0.5*z*z)
		}
		c := g.get(s.idx)
		c.score[srcRepeat] = score
		c.why[srcRepeat] = why{kind: s.kind, count: int32(s.count), period: period, ago: ago}
	}
}

// userPeriod is the median gap in days between a user's distinct days with
// the item (given newest first), or 0 with fewer than two gaps.
func userPeriod(days []int64) float64 {
	if len(days) < 3 {
		return 0
	}
	gaps := make([]int64, len(days)-1)
	for i := range gaps {
		gaps[i] = days[i] - days[i+1]
	}
	slices.Sort(gaps)
	m := len(gaps) / 2
	if len(gaps)%2 == 1 {
		return float64(gaps[m])
	}
	return float64(gaps[m-1]+gaps[m]) / 2
}

// followUpAnchors is how many of the user's latest items look for what the
// user habitually does next.
const followUpAnchors = 3

// followUp scores items the user habitually moved to after their most
// recent items.
func (g *gatherer) followUp(u *userState) {
	e := g.e
	anchors := make([]int32, 0, followUpAnchors)
	for i := range g.mine {
		if len(anchors) == followUpAnchors {
			break
		}
		if g.mine[i].count > 0 {
			anchors = append(anchors, g.mine[i].idx)
		}
	}
	if len(anchors) == 0 {
		return
	}
	var out [followUpAnchors]float64
	type tr struct{ a, b int32 }
	var trans []tr
	prev := int32(-1)
	for _, o := range u.hist {
		if o.t > g.now || e.kindW[o.kind] < substantial {
			continue
		}
		if prev >= 0 && prev != o.item {
			if k := slices.Index(anchors, prev); k >= 0 {
				out[k]++
				trans = append(trans, tr{prev, o.item})
			}
		}
		prev = o.item
	}
	for _, t := range trans {
		k := slices.Index(anchors, t.a)
		if t.b == t.a {
			continue
		}
		c := g.get(t.b)
		add := math.Exp2(-float64(k)) / out[k]
		c.score[srcFollowUp] += add
		// period holds the best anchor's share, so the reason names it.
		if add > c.why[srcFollowUp].period {
			c.why[srcFollowUp] = why{anchor: t.a, akind: g.kindOf(t.a), period: add}
		}
	}
}

func (g *gatherer) kindOf(idx int32) EventKind {
	for i := range g.mine {
		if g.mine[i].idx == idx {
			return g.mine[i].kind
		}
	}
	return g.e.items[idx].kind
}

// coAnchors is how many of the user's latest items seed co-occurrence.
const coAnchors = 20

// coOccurrence scores neighbours of the user's recent items by cosine
// similarity shrunk by support (Config.CoMinSupport, CoShrink), weighted by
// how recently and strongly the user engaged.
func (g *gatherer) coOccurrence() {
	e := g.e
	minSupport, prior := e.cfg.CoMinSupport, e.cfg.CoShrink
	for i := 0; i < len(g.mine) && i < coAnchors; i++ {
		s := &g.mine[i]
		a := &e.items[s.idx]
		if a.occ <= 0 {
			continue
		}
		for b, n := range a.neigh {
			occB := e.items[b].occ
			support := float64(n)
			if occB <= 0 || support < minSupport {
				continue
			}
			add := s.weight * support / (support + prior) * support / math.Sqrt(a.occ*occB)
			c := g.get(b)
			if add > c.why[srcCoOccurrence].period { // period holds the best anchor's share
				c.why[srcCoOccurrence] = why{anchor: s.idx, akind: s.kind, kind: e.items[b].kind, period: add}
			}
			c.score[srcCoOccurrence] += add
		}
	}
}

// periodic proposes items the user did about one population period ago,
// for items whose repeat gaps across users are regular.
func (g *gatherer) periodic() {
	e := g.e
	for i := range g.mine {
		s := &g.mine[i]
		it := &e.items[s.idx]
		if s.count == 0 || it.gapN < e.cfg.MinPeriodicRepeats {
			continue
		}
		mean := it.gapSum / float64(it.gapN)
		sd := math.Sqrt(max(0, it.gapSumSq/float64(it.gapN)-mean*mean))
		if sd > e.cfg.PeriodicSpread {
			continue
		}
		ago := float64(g.now-s.last) / 86400
		if ago < 0.5 {
			continue
		}
		z := (math.Log(ago) - mean) / max(sd, 0.1)
		if math.Abs(z) > 2.5 {
			continue
		}
		c := g.get(s.idx)
		c.score[srcPeriodic] = math.Exp(-0.5 * z * z)
		c.why[srcPeriodic] = why{kind: s.kind, period: math.Exp(mean), ago: ago}
	}
}

// trending proposes the items rising in the request's city, leaning towards
// what the city does at this time of day and on this weekday.
func (g *gatherer) trending() {
	e := g.e
	cs := e.cities[g.city]
	if cs == nil {
		return
	}
	// "Tonight" is night in the request's city, not on the server.
	local := citytz.In(g.req.Now, g.city)
	b := timeBucket(local)
	wd := int(local.Weekday())
	tod, dow := e.cfg.TimeOfDayBoost, e.cfg.DayOfWeekBoost
	top := newTopN(e.cfg.CandidatesPerSource)
	for idx, tc := range cs.items {
		// Stored values share the landmark, so comparing them is comparing
		// decayed values; the common factor is applied once below.
		v := (tc.all + tod*numBuckets*tc.bucket[b] + dow*7*tc.weekday[wd]) / (1 + tod + dow)
		top.push(idx, v)
	}
	factor := e.trend.at(1, g.now)
	for _, x := range top.items {
		tc := cs.items[x.idx]
		c := g.get(x.idx)
		c.score[srcTrending] = x.v * factor
		w := why{bucket: -1, kind: e.items[x.idx].kind}
		switch {
		case tod > 0 && numBuckets*tc.bucket[b] >= 1.5*tc.all:
			w.bucket = int8(b)
		case dow > 0 && 7*tc.weekday[wd] >= 1.5*tc.all:
			w.bucket = int8(numBuckets + wd)
		}
		c.why[srcTrending] = w
	}
}

// popular is the cold-start source: each item's share of the slow-decayed
// popularity in the city, topped up with its global share at half
// strength. Shares, unlike decayed counts, keep their scale as traffic
// grows, so a calibration fitted yesterday still reads them right.
func (g *gatherer) popular() {
	e := g.e
	n := e.cfg.CandidatesPerSource
	// A request dated before the latest event's day reads the popularity
	// of the days before it, where that is kept.
	day := unixDay(g.now)
	past := e.cfg.PopularityDays > 0 && day < unixDay(e.latest)
	popOf := func(v float64, h *popHistory) float64 {
		if !past {
			return v
		}
		if pv, ok := h.before(day); ok {
			return pv
		}
		return v
	}
	if cs := e.cities[g.city]; cs != nil {
		total := popOf(cs.popTotal, &cs.popTotH)
		top := newTopN(n)
		for idx, tc := range cs.items {
			top.push(idx, popOf(tc.pop, &tc.popH))
		}
		for _, x := range top.items {
			c := g.get(x.idx)
			c.score[srcPopular] = x.v / total
			c.why[srcPopular] = why{bucket: 1, kind: e.items[x.idx].kind}
		}
		if len(top.items) >= n {
			return
		}
	}
	total := popOf(e.popTotal, &e.popTotH)
	top := newTopN(n)
	for i := range e.items {
		top.push(int32(i), popOf(e.items[i].pop, &e.items[i].popH))
	}
	for _, x := range top.items {
		c := g.get(x.idx)
		if v := x.v / total / 2; v > c.score[srcPopular] {
			c.score[srcPopular] = v
			c.why[srcPopular] = why{bucket: 0, kind: e.items[x.idx].kind}
		}
	}
}

// topN keeps the n largest values pushed (ties by lower index), in a min-heap.
type topN struct {
	n     int
	items []scored
}

type scored struct {
	idx int32
	v   float64
}

func newTopN(n int) *topN { return &topN{n: n, items: make([]scored, 0, n)} }

// less orders the heap so its root is the weakest kept entry.
func (t *topN) less(a, b scored) bool {
	if a.v != b.v {
		return a.v < b.v
	}
	return a.idx > b.idx
}

func (t *topN) push(idx int32, v float64) {
	if v <= 0 {
		return
	}
	x := scored{idx, v}
	if len(t.items) < t.n {
		t.items = append(t.items, x)
		for i := len(t.items) - 1; i > 0; {
			p := (i - 1) / 2
			if !t.less(t.items[i], t.items[p]) {
				break
			}
			t.items[i], t.items[p] = t.items[p], t.items[i]
			i = p
		}
		return
	}
	if !t.less(t.items[0], x) {
		return
	}
	t.items[0] = x
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(t.items) && t.less(t.items[l], t.items[m]) {
			m = l
		}
		if r < len(t.items) && t.less(t.items[r], t.items[m]) {
			m = r
		}
		if m == i {
			break
		}
		t.items[i], t.items[m] = t.items[m], t.items[i]
		i = m
	}
}
