// Package rank orders search candidates that came from many providers by one
// score the gateway computes itself: the providers' own scores use different
// scales and formulas and cannot be compared.
//
// The score is BM25F text relevance over a document's name, tags and body,
// computed over the candidate set (the candidate set is the corpus: IDF and
// average field lengths come from it), normalised to [0, 1] by the best
// candidate, plus small bounded priors for rating, city, popularity and the
// user's affinity. Query terms are expanded with synonyms (a Lexicon) and,
// when a term matches nothing, with the candidates' terms one typo away.
// Finally a diversity pass keeps one provider from filling a page.
//
// Rank is a pure function of the query and the candidate set (not of the
// order the candidates come in), so offset cursors into its result are
// stable. The package knows nothing about GraphQL or connectors.
package rank

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// Doc is one candidate as the ranker sees it. Kind, Provider and ID identify
// it (and break ties); the caller must not pass two docs with the same
// identity.
type Doc struct {
	Kind, Provider, ID string
	// Group is the line of business (vertical) the item belongs to; the
	// one search box mixes groups on its first page (see MaxPerGroup).
	// Empty: the Kind stands for it.
	Group string
	// Name is the strongest text field ("Whole Milk", "Dr. Li Wei").
	Name string
	// Category and Tags form the second field: what the item is.
	Category string
	Tags     []string
	// Body is everything else worth matching: description, bio, address.
	Body string
	// Cities the item is in or serves.
	Cities []string
	// Rating on the usual 0-5 scale.
	Rating float64
	// Popularity is any non-negative measure (views, orders); it is scaled by
	// the most popular candidate, so only its proportions matter.
	Popularity float64
	// Affinity in [0, 1] is how much the user is drawn to this kind of item
	// (e.g. the share of their activity in its vertical or category).
	Affinity float64
	// Penalty in [0, 1] is the share taken off the item's score: its
	// provider is DEMOTED for its service level.
	Penalty float64
}

// Query is what the user asked for.
type Query struct {
	Text string
	// City, when set, lifts candidates in that city.
	City string
}

// Result is one ranked candidate.
type Result struct {
	// Index is the candidate's position in the docs passed to Rank.
	Index int
	// Score is the final score (higher is better), comparable within one
	// call. It never rises along the result: an item the diversity pass moved
	// down reports the score of the item before it, so clients that expect
	// scores in order are not surprised.
	Score float64
	// Text is the raw BM25F relevance (0 without query terms).
	Text float64
	// Why is what Score is made of, for a provider asking why its item
	// ranks where it does.
	Why Parts
}

// Parts are the weighted terms of a score before the diversity pass:
// (Text + Rating + City + Popularity + Affinity) × (1 − Penalty).
type Parts struct {
	// Text is the text relevance, normalised by the best candidate's and
	// weighted (Config.Text).
	Text float64
	// Rating, City, Popularity and Affinity are the weighted priors.
	Rating, City, Popularity, Affinity float64
	// Penalty is the share taken off (a DEMOTED provider).
	Penalty float64
}

// Config tunes ranking. Start from DefaultConfig.
type Config struct {
	// K1 is BM25's term-frequency saturation. Plaza's documents are short
	// (names of 2-4 words, tag lists, a sentence or two of description), so a
	// second occurrence of a word says little more than the first; 1.2, the
	// usual value, saturates quickly enough that repeating "milk" in a
	// description cannot beat "milk" in the name.
	K1 float64
	// Field weights (BM25F): a match in the name says more than one in the
	// tags or category, which says more than one in a description.
	NameWeight, TagWeight, BodyWeight float64
	// Per-field length normalisation (BM25's b). Names and tag lists are
	// short and similar in length, so their length carries little signal
	// (0.3); descriptions and bios vary from a few words to paragraphs and a
	// match in a short one is more telling (0.75, the usual value).
	NameB, TagB, BodyB float64
	// SynonymWeight scales a match on a synonym of the user's word;
	// TypoWeight a match on a word one typo away from it.
	SynonymWeight, TypoWeight float64
	// Weights of the final score. Text relevance is normalised to [0, 1] by
	// the best candidate; the priors are in [0, 1] too, so these say how much
	// each may move an item.
	Text, Rating, City, Popularity, Affinity float64
	// Diversity: within every block of DiversityPage positions (0, 10, 20, ...
	// by default) one provider takes at most MaxPerProvider places, as long
	// as another provider has an item scoring at least DiversityFloor times
	// the displaced one. DiversityPage 0 turns diversity off.
	DiversityPage, MaxPerProvider int
	DiversityFloor                float64
	// The same across groups (verticals), so the one search box shows the
	// verticals a query matches on its first page: at most MaxPerGroup
	// places of a block, and at most the group's fair share of it (the
	// block divided by the groups with results left, rounded up), go to one
	// group while another group has an item scoring at least GroupFloor
	// times the displaced one. Applied after the provider rule; a search
	// within one vertical is unaffected.
	MaxPerGroup int
	GroupFloor  float64
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		K1:         1.2,
		NameWeight: 3, TagWeight: 2, BodyWeight: 1,
		NameB: 0.3, TagB: 0.3, BodyB: 0.75,
		SynonymWeight: 0.85, TypoWeight: 0.6,
		Text: 1, Rating: 0.2, City: 0.15, Popularity: 0.15, Affinity: 0.1,
		// At most half of every first page of ten from one provider.
		DiversityPage: 10, MaxPerProvider: 5, DiversityFloor: 0.5,
		// At most seven of ten from one vertical, and no more than its fair
		// share (three of ten when four verticals have results), while other
		// verticals match at all well (a quarter of the score): a search for
		// "child" should show paediatricians, family lawyers and public
		// services, and a browse every vertical, not only the most popular.
		MaxPerGroup: 7, GroupFloor: 0.25,
	}
}

// Ranker ranks candidates with one lexicon and configuration. It is safe for
// concurrent use.
type Ranker struct {
	lex *Lexicon
	cfg Config
}

// New returns a ranker; lex may be nil for no synonyms and no built-in
// vocabulary (typos are then matched against the candidates only).
func New(lex *Lexicon, cfg Config) *Ranker {
	if lex == nil {
		lex = NewLexicon(nil, nil)
	}
	return &Ranker{lex: lex, cfg: cfg}
}

const (
	fieldName = iota
	fieldTags
	fieldBody
	numFields
)

// alt is one way of matching a concept: all of its terms (slots) present.
type alt struct {
	slots  []int
	weight float64
	// fallback alternatives (typo corrections) count only when none of the
	// concept's own words or synonyms occurs in any candidate.
	fallback bool
}

// concept is one thing the user asked for: a word or a synonym phrase.
type concept struct{ alts []alt }

// fuzzyTerm matches candidate terms one typo away from a query term.
type fuzzyTerm struct {
	term string
	slot int
}

// plan is an analysed query.
type plan struct {
	slotOf map[string]int
	// slotTerms[s] is the term of slot s ("" for fuzzy slots).
	slotTerms []string
	nslots    int
	concepts  []concept
	fuzzy     []fuzzyTerm
}

func (r *Ranker) analyse(text string) plan {
	p := plan{slotOf: map[string]int{}}
	slot := func(t string) int {
		s, ok := p.slotOf[t]
		if !ok {
			s = p.nslots
			p.slotOf[t] = s
			p.slotTerms = append(p.slotTerms, t)
			p.nslots++
		}
		return s
	}
	phrase := func(ts []string, w float64, fallback bool) alt {
		a := alt{weight: w, fallback: fallback}
		for _, t := range ts {
			a.slots = append(a.slots, slot(t))
		}
		return a
	}
	group := func(g int, own []string, w float64, fallback bool) []alt {
		var alts []alt
		for _, m := range r.lex.groups[g] {
			mw := w * r.cfg.SynonymWeight
			if slices.Equal(m, own) {
				mw = w
			}
			alts = append(alts, phrase(m, mw, fallback))
		}
		return alts
	}
	ts := terms(text)
	for i := 0; i < len(ts); {
		if g, n, ok := r.lex.match(ts, i); ok {
			p.concepts = append(p.concepts, concept{group(g, ts[i:i+n], 1, false)})
			i += n
			continue
		}
		t := ts[i]
		c := concept{alts: []alt{phrase([]string{t}, 1, false)}}
		if fixed, ok := r.lex.correct(t); ok {
			if g, found := r.lex.phrases[fixed]; found {
				c.alts = append(c.alts, group(g, []string{fixed}, r.cfg.TypoWeight, true)...)
			} else {
				c.alts = append(c.alts, phrase([]string{fixed}, r.cfg.TypoWeight, true))
			}
		}
		if len(t) >= minTypoLen {
			s := p.nslots
			p.slotTerms = append(p.slotTerms, "")
			p.nslots++
			p.fuzzy = append(p.fuzzy, fuzzyTerm{term: t, slot: s})
			c.alts = append(c.alts, alt{slots: []int{s}, weight: r.cfg.TypoWeight, fallback: true})
		}
		p.concepts = append(p.concepts, c)
		i++
	}
	return p
}

// Rank scores docs for q and returns them best first, after the diversity
// pass. With query terms, docs that match none of them are left out.
func (r *Ranker) Rank(q Query, docs []Doc) []Result {
	pq := r.Prepare(q)
	return pq.Rank(pq.Count(docs))
}

// Prepared is a query analysed once, for candidates that arrive in parts
// (one provider's answer at a time). Count does the per-candidate work —
// reading every word of every field — as each part arrives, so that once the
// last one is in only the corpus-wide arithmetic (IDF, average lengths,
// normalisation), the sort and the diversity pass remain. The result is the
// same as Ranker.Rank over all the parts' docs in the order of the parts.
// A Prepared is safe for concurrent use; Rank must not run concurrently with
// a Count of one of its parts.
type Prepared struct {
	r *Ranker
	q Query
	p plan
}

// Prepare analyses q (terms, synonyms, typo alternatives) for Count and Rank.
func (r *Ranker) Prepare(q Query) *Prepared {
	return &Prepared{r: r, q: q, p: r.analyse(q.Text)}
}

// Counted is a part of the candidates with the query's terms counted in
// each field.
type Counted struct {
	docs []Doc
	// counts[(i*nslots+s)*numFields+f] counts slot s in field f of docs[i];
	// lens[i*numFields+f] is the number of terms in that field.
	counts []uint16
	lens   []int32
}

// Len is the number of docs in c.
func (c *Counted) Len() int { return len(c.docs) }

// Count counts the query's terms in docs. It keeps docs, not a copy: until
// Rank the caller may still set their non-text signals (Popularity,
// Affinity, Rating, Cities), which Rank reads; the text fields (Name,
// Category, Tags, Body) must not change. Safe to call concurrently.
func (pq *Prepared) Count(docs []Doc) *Counted {
	c := &Counted{docs: docs}
	if len(pq.p.concepts) == 0 {
		return c // a browse: nothing to count
	}
	ns := pq.p.nslots
	c.counts = make([]uint16, len(docs)*ns*numFields)
	c.lens = make([]int32, len(docs)*numFields)
	cnt := newCounter(&pq.p, c.counts)
	for i := range docs {
		d := &docs[i]
		cnt.base = i * ns * numFields
		c.lens[i*numFields+fieldName] = cnt.field(d.Name, fieldName)
		l := cnt.field(d.Category, fieldTags)
		for _, t := range d.Tags {
			l += cnt.field(t, fieldTags)
		}
		c.lens[i*numFields+fieldTags] = l
		c.lens[i*numFields+fieldBody] = cnt.field(d.Body, fieldBody)
	}
	return c
}

// Rank scores the docs of parts (indexed in the order of the parts: the
// first doc of the second part follows the last of the first) and returns
// them best first, after the diversity pass. With query terms, docs that
// match none of them are left out.
func (pq *Prepared) Rank(parts ...*Counted) []Result {
	all := merge(parts)
	docs := all.docs
	cfg, q, p := pq.r.cfg, pq.q, &pq.p
	n := len(docs)
	text := pq.r.relevance(p, all)

	var maxText, maxPop float64
	for i := range docs {
		maxText = max(maxText, text[i])
		maxPop = max(maxPop, docs[i].Popularity)
	}
	out := make([]Result, 0, n)
	for i := range docs {
		d := &docs[i]
		if len(p.concepts) > 0 && text[i] <= 0 {
			continue
		}
		var w Parts
		if maxText > 0 {
			w.Text = cfg.Text * text[i] / maxText
		}
		w.Rating = cfg.Rating * clamp01(d.Rating/5)
		if q.City != "" && slices.ContainsFunc(d.Cities, func(c string) bool { return strings.EqualFold(c, q.City) }) {
			w.City = cfg.City
		}
		if maxPop > 0 {
			w.Popularity = cfg.Popularity * clamp01(d.Popularity/maxPop)
		}
		w.Affinity = cfg.Affinity * clamp01(d.Affinity)
		w.Penalty = clamp01(d.Penalty)
		s := (w.Text + w.Rating + w.City + w.Popularity + w.Affinity) * (1 - w.Penalty)
		out = append(out, Result{Index: i, Score: s, Text: text[i], Why: w})
	}
	sortBest(out, docs)
	var spare []Result
	out = diversifyInto(&spare, out, docs, providerOf, cfg.DiversityPage, cfg.MaxPerProvider, false, cfg.DiversityFloor)
	out = diversifyInto(&spare, out, docs, groupOf, cfg.DiversityPage, cfg.MaxPerGroup, true, cfg.GroupFloor)
	for i := 1; i < len(out); i++ {
		out[i].Score = min(out[i].Score, out[i-1].Score)
	}
	return out
}

// sortBest orders rs best first, in place: by score, then by identity
// (kind, provider, id, and the index between two docs of one identity).
// It sorts 16-byte keys and then moves each result (80 bytes) once:
// sorting the results themselves moved them at every swap (a fifth less
// time ranking 400 candidates, BenchmarkRank400).
func sortBest(rs []Result, docs []Doc) {
	type key struct {
		score float64
		doc   int32
		at    int32 // in rs
	}
	keys := make([]key, len(rs))
	for i := range rs {
		keys[i] = key{rs[i].Score, int32(rs[i].Index), int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		da, db := &docs[a.doc], &docs[b.doc]
		return cmp.Or(strings.Compare(da.Kind, db.Kind), strings.Compare(da.Provider, db.Provider),
			strings.Compare(da.ID, db.ID), cmp.Compare(a.doc, b.doc))
	})
	// rs[i] takes rs[keys[i].at]: follow each cycle of the permutation,
	// marking the keys placed.
	for i := range keys {
		if keys[i].at < 0 {
			continue
		}
		first, j := rs[i], i
		for {
			k := int(keys[j].at)
			keys[j].at = -1
			if k == i {
				rs[j] = first
				break
			}
			rs[j], j = rs[k], k
		}
	}
}

// merge concatenates parts (one part is used as it is).
func merge(parts []*Counted) *Counted {
	switch len(parts) {
	case 0:
		return &Counted{}
	case 1:
		return parts[0]
	}
	n, nc, nl := 0, 0, 0
	for _, c := range parts {
		n, nc, nl = n+len(c.docs), nc+len(c.counts), nl+len(c.lens)
	}
	all := &Counted{docs: make([]Doc, 0, n)}
	if nc > 0 {
		all.counts, all.lens = make([]uint16, 0, nc), make([]int32, 0, nl)
	}
	for _, c := range parts {
		all.docs = append(all.docs, c.docs...)
		all.counts = append(all.counts, c.counts...)
		all.lens = append(all.lens, c.lens...)
	}
	return all
}

// relevance returns each doc's BM25F score for the plan:
//
//	score(d) = Σ_concepts max_{alt} weight(alt) · idf(alt) · tf(alt,d)·(k1+1) / (tf(alt,d) + k1)
//	tf(alt,d) = min_{term ∈ alt} Σ_fields w_f · count_f(term,d) / (1 − b_f + b_f · len_f(d)/avglen_f)
//	idf(alt) = ln(1 + (N − df + 0.5) / (df + 0.5))
//
// where df is the number of candidates containing the alternative. Taking
// the best alternative of a concept (not the sum) keeps a document that
// uses both "lawyer" and "attorney" from scoring twice for one idea. The
// terms were counted by Prepared.Count.
func (r *Ranker) relevance(p *plan, c *Counted) []float64 {
	n := len(c.docs)
	text := make([]float64, n)
	if len(p.concepts) == 0 || n == 0 {
		return text
	}
	ns := p.nslots
	counts, lens := c.counts, c.lens

	cfg := r.cfg
	weight := [numFields]float64{cfg.NameWeight, cfg.TagWeight, cfg.BodyWeight}
	b := [numFields]float64{cfg.NameB, cfg.TagB, cfg.BodyB}
	var avg [numFields]float64
	for f := range numFields {
		total := 0
		for i := range n {
			total += int(lens[i*numFields+f])
		}
		avg[f] = max(float64(total)/float64(n), 1)
	}
	// tf[i*ns+s]: the field-weighted, length-normalised frequency of slot s.
	tf := make([]float64, n*ns)
	for i := range n {
		var norm [numFields]float64
		for f := range numFields {
			norm[f] = 1 - b[f] + b[f]*float64(lens[i*numFields+f])/avg[f]
		}
		for s := range ns {
			c := counts[(i*ns+s)*numFields:]
			v := 0.0
			for f := range numFields {
				if c[f] > 0 {
					v += weight[f] * float64(c[f]) / norm[f]
				}
			}
			tf[i*ns+s] = v
		}
	}
	altTF := func(i int, a *alt) float64 {
		v := math.Inf(1)
		for _, s := range a.slots {
			v = min(v, tf[i*ns+s])
		}
		return v
	}
	k1 := cfg.K1
	for ci := range p.concepts {
		c := &p.concepts[ci]
		idf := make([]float64, len(c.alts))
		ownFound := false
		for ai := range c.alts {
			df := 0
			for i := range n {
				if altTF(i, &c.alts[ai]) > 0 {
					df++
				}
			}
			idf[ai] = math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
			ownFound = ownFound || df > 0 && !c.alts[ai].fallback
		}
		for i := range n {
			best := 0.0
			for ai := range c.alts {
				a := &c.alts[ai]
				if a.fallback && ownFound {
					continue
				}
				if t := altTF(i, a); t > 0 {
					best = max(best, a.weight*idf[ai]*t*(k1+1)/(t+k1))
				}
			}
			text[i] += best
		}
	}
	return text
}

// counter counts the plan's terms in one candidate's fields.
type counter struct {
	// slotTerms and fuzzy are the plan's, held here to save a load per
	// word; lengths has bit n set when a word of n bytes may match a slot
	// or a fuzzy term (n ≥ 64: always), so most words of a candidate are
	// passed over after one test.
	slotTerms []string
	fuzzy     []fuzzyTerm
	lengths   uint64
	counts    []uint16
	base      int
	buf       []byte
}

// newCounter returns a counter of p's terms into counts.
func newCounter(p *plan, counts []uint16) counter {
	c := counter{slotTerms: p.slotTerms, fuzzy: p.fuzzy, counts: counts}
	for _, st := range p.slotTerms {
		if st != "" {
			c.lengths |= lengthBit(len(st))
		}
	}
	for _, fz := range p.fuzzy {
		c.lengths |= lengthBit(len(fz.term)-1) | lengthBit(len(fz.term)) | lengthBit(len(fz.term)+1)
	}
	return c
}

// lengthBit is n's bit in counter.lengths (n ≥ 0; fuzzy terms have
// minTypoLen bytes at least).
func lengthBit(n int) uint64 {
	if n >= 64 {
		return 1 << 63
	}
	return 1 << n
}

// field counts the plan's slots in text, a part of field f, and returns the
// number of terms in it.
func (c *counter) field(text string, f int) int32 {
	var n int32
	for i := 0; ; {
		var t string
		if t, i = nextTerm(text, i, &c.buf); t == "" {
			return n
		}
		n++
		c.term(t, f)
	}
}

// term counts term t of field f against the plan's slots.
func (c *counter) term(t string, f int) {
	if c.lengths&lengthBit(len(t)) == 0 {
		return // no slot or fuzzy term is near its length
	}
	// A query has a handful of terms: comparing lengths first beats
	// hashing every word of every candidate.
	for s, st := range c.slotTerms {
		if len(st) == len(t) && st == t {
			c.counts[c.base+s*numFields+f]++
			break
		}
	}
	for _, fz := range c.fuzzy {
		if diff := len(t) - len(fz.term); diff >= -1 && diff <= 1 && t != fz.term && withinOne(t, fz.term) {
			c.counts[c.base+fz.slot*numFields+f]++
		}
	}
}

func clamp01(x float64) float64 { return min(max(x, 0), 1) }

// providerOf is a document's provider.
func providerOf(d *Doc) string { return d.Provider }

// groupOf is a document's vertical, or its kind when it has none.
func groupOf(d *Doc) string {
	if d.Group != "" {
		return d.Group
	}
	return d.Kind
}
