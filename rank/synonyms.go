package rank

import (
	"maps"
	"slices"
	"strings"
	"sync"
)

// The synonym groups below are what people type for the same thing in each
// vertical: British and American spellings, the professional and the
// everyday name, the formal and the colloquial. Every member of a group
// stands for every other, so "attorney" finds a bio that says "lawyer".
// A synonym scores SynonymWeight of an exact match, so items that use the
// searcher's own word come first.
//
// The first member of each group is its canonical form: the word catalogues
// most often use. When a provider finds (almost) nothing for the searcher's
// words, the gateway asks it once more with canonical forms (see Rewrite).
//
// Keep groups small and unambiguous: a group joins meanings for every search
// in every vertical.
var synonymGroups = map[string][][]string{
	"grocery": {
		{"milk", "dairy"},
		{"yogurt", "yoghurt"},
		{"infant formula", "baby formula", "baby milk"},
		{"eggplant", "aubergine"},
		{"zucchini", "courgette"},
		{"coriander", "cilantro"},
		{"shrimp", "prawn"},
		{"scallion", "spring onion", "green onion"},
		{"bell pepper", "capsicum"},
		{"minced meat", "ground meat", "mince"},
		{"soda", "soft drink", "fizzy drink"},
	},
	"medical": {
		// "kids" is what parents type ("children" is stemmed to "child", see
		// text.go); paediatricians, family lawyers and school services all
		// describe themselves with "child".
		{"child", "kid"},
		{"paediatrics", "pediatrics", "paediatrician", "pediatrician", "children's doctor", "child doctor", "kids doctor"},
		{"general practice", "general practitioner", "gp", "family doctor"},
		{"dentistry", "dentist", "dental"},
		{"gynaecology", "gynecology", "gynaecologist", "gynecologist"},
		{"orthopaedics", "orthopedics", "orthopaedic", "orthopedic"},
		{"dermatology", "dermatologist", "skin doctor"},
		{"cardiology", "cardiologist", "heart doctor"},
		{"ophthalmology", "ophthalmologist", "eye doctor"},
		{"psychiatry", "psychiatrist", "mental health"},
	},
	"legal": {
		{"lawyer", "attorney", "solicitor", "barrister", "advocate"},
		{"divorce", "separation"},
		{"labour", "labor", "employment"},
		{"defence", "defense"},
		{"tenancy", "rental", "lease"},
		{"trademark", "trade mark"},
		{"intellectual property", "ip"},
	},
	"public": {
		{"id card", "identity card", "identification card"},
		{"licence", "license"},
		{"driving licence", "driving license", "driver's license", "driver licence"},
		{"household registration", "hukou"},
		{"pension", "retirement"},
		{"housing fund", "provident fund", "gongjijin"},
		{"social security", "social insurance", "shebao"},
		{"residence permit", "juzhuzheng"},
	},
}

// commonTerms is a small built-in vocabulary of frequent search words per
// vertical, used (with every synonym) to correct a one-typo query before it
// is sent to providers a second time: a provider that filters by literal text
// finds nothing for "mlik", so the gateway never sees a candidate whose
// vocabulary could fix it.
var commonTerms = map[string]string{
	"grocery": "milk bread egg rice noodle flour apple banana orange grape strawberry mango watermelon " +
		"vegetable fruit tomato potato carrot cabbage spinach broccoli mushroom onion garlic ginger " +
		"chicken beef pork lamb fish salmon tofu cheese butter yogurt coffee tea juice water beer wine " +
		"chocolate biscuit snack cereal oil sugar salt sauce vinegar organic frozen fresh breakfast " +
		"baby formula nappy diaper dumpling seafood",
	"medical": "doctor clinic hospital fever cough cold flu headache vaccination vaccine children child " +
		"baby pregnancy prenatal skin acne eczema allergy heart blood pressure diabetes thyroid stomach " +
		"dentist tooth teeth toothache eye vision glasses knee back pain fracture anxiety depression " +
		"insomnia sleep checkup appointment consultation specialist surgeon",
	"legal": "lawyer divorce custody marriage alimony contract tenancy landlord deposit property " +
		"employment dismissal wage salary overtime severance immigration visa permit passport " +
		"business company startup shareholder trademark patent copyright criminal police bail fraud " +
		"inheritance will estate consultation",
	"public": "passport visa licence permit registration renewal replacement certificate birth marriage " +
		"identity card pension unemployment benefit insurance housing fund tax bill electricity water " +
		"gas utility business company vehicle driving appointment office application",
}

// Lexicon knows the synonym groups and a vocabulary of common terms. It is
// immutable once built and safe for concurrent use.
type Lexicon struct {
	// phrases maps a phrase (its terms joined by one space) to its group.
	phrases map[string]int
	// groups holds each group's phrases as term lists; groups[g][0] is canonical.
	groups [][][]string
	// surface is each group's canonical phrase as written, for Rewrite.
	surface []string
	// vocab holds every known term (stemmed), sorted, for typo correction;
	// known is the same set for lookups.
	vocab   []string
	known   map[string]bool
	longest int
}

// NewLexicon builds a lexicon from synonym groups (each group's first member
// is canonical) and extra vocabulary words. Phrases are normalised like
// document text; a phrase listed in two groups belongs to the first.
func NewLexicon(groups [][]string, vocabulary []string) *Lexicon {
	l := &Lexicon{phrases: map[string]int{}, known: map[string]bool{}}
	addTerms := func(ts []string) {
		for _, t := range ts {
			l.known[t] = true
		}
	}
	for _, g := range groups {
		var members [][]string
		for _, p := range g {
			ts := terms(p)
			key := strings.Join(ts, " ")
			if len(ts) == 0 {
				continue
			}
			if _, dup := l.phrases[key]; dup {
				continue
			}
			l.phrases[key] = len(l.groups)
			members = append(members, ts)
			addTerms(ts)
			l.longest = max(l.longest, len(ts))
		}
		if len(members) > 0 {
			l.groups = append(l.groups, members)
			l.surface = append(l.surface, strings.ToLower(g[0]))
		}
	}
	for _, w := range vocabulary {
		addTerms(terms(w))
	}
	for t := range l.known {
		l.vocab = append(l.vocab, t)
	}
	slices.Sort(l.vocab)
	return l
}

// DefaultLexicon returns the built-in lexicon of every vertical (synonyms.go
// documents it). It is built once and shared; it is read-only.
var DefaultLexicon = sync.OnceValue(func() *Lexicon {
	var groups [][]string
	var vocab []string
	for _, v := range slices.Sorted(maps.Keys(synonymGroups)) {
		groups = append(groups, synonymGroups[v]...)
		vocab = append(vocab, strings.Fields(commonTerms[v])...)
	}
	return NewLexicon(groups, vocab)
})

// correct returns the known term one edit away from t, for a term of at
// least four bytes that the lexicon does not know. Among several it picks
// the first in byte order, so the answer never depends on map order.
func (l *Lexicon) correct(t string) (string, bool) {
	if len(t) < minTypoLen || l.known[t] {
		return "", false
	}
	for _, v := range l.vocab {
		if len(v) >= minTypoLen-1 && len(v)-len(t) <= 1 && len(t)-len(v) <= 1 && withinOne(t, v) {
			return v, true
		}
	}
	return "", false
}

// minTypoLen is the shortest term that may carry a typo: below four letters
// one edit turns most words into other real words ("cat", "car", "bat").
const minTypoLen = 4

// match returns the group of the longest synonym phrase starting at ts[i]
// and its length in terms.
func (l *Lexicon) match(ts []string, i int) (group, n int, ok bool) {
	for n = min(l.longest, len(ts)-i); n > 0; n-- {
		if g, found := l.phrases[strings.Join(ts[i:i+n], " ")]; found {
			return g, n, true
		}
	}
	return 0, 0, false
}

// Rewrite returns the text a provider should be asked for when it found
// (almost) nothing for text: every synonym phrase replaced by its group's
// canonical form and every unknown term within one typo of a known term
// corrected (then canonicalised if it belongs to a group). ok is false when
// nothing changed, so there is no point in asking again.
//
// One rewrite rather than one query per synonym: providers filter by all
// words of the text, so "attorney divorce" must become one text,
// "lawyer divorce", and the number of provider calls stays fixed.
func (l *Lexicon) Rewrite(text string) (rewritten string, ok bool) {
	ts := terms(text)
	var out []string
	for i := 0; i < len(ts); {
		if g, n, found := l.match(ts, i); found {
			out = append(out, l.surface[g])
			ok = ok || strings.Join(ts[i:i+n], " ") != strings.Join(l.groups[g][0], " ")
			i += n
			continue
		}
		if c, fixed := l.correct(ts[i]); fixed {
			ok = true
			if g, found := l.phrases[c]; found {
				c = l.surface[g]
			}
			out = append(out, c)
		} else {
			out = append(out, ts[i])
		}
		i++
	}
	return strings.Join(out, " "), ok
}

// Concept is one thing a searcher asked for, with every phrase that stands
// for it. Phrases are normalised terms (lower case, stemmed) joined by one
// space.
type Concept struct {
	// Own is the searcher's own phrase.
	Own string
	// Synonyms are the other members of Own's synonym group.
	Synonyms []string
	// Corrections, for a single unknown term one typo from a known one, are
	// the known term and its synonyms: a fallback for when nothing matches
	// the searcher's own words.
	Corrections []string
}

// Expand splits text into concepts the way ranking does (longest synonym
// phrase first, then single terms), for a search index that should find
// what Rank would score: an index asked for every concept's phrases finds
// the same synonyms, and with the corrections the same typos.
func (l *Lexicon) Expand(text string) []Concept {
	ts := terms(text)
	var out []Concept
	members := func(g int, skip string) []string {
		var ps []string
		for _, m := range l.groups[g] {
			if p := strings.Join(m, " "); p != skip {
				ps = append(ps, p)
			}
		}
		return ps
	}
	for i := 0; i < len(ts); {
		if g, n, ok := l.match(ts, i); ok {
			own := strings.Join(ts[i:i+n], " ")
			out = append(out, Concept{Own: own, Synonyms: members(g, own)})
			i += n
			continue
		}
		c := Concept{Own: ts[i]}
		if fixed, ok := l.correct(ts[i]); ok {
			c.Corrections = []string{fixed}
			if g, found := l.phrases[fixed]; found {
				c.Corrections = append(c.Corrections, members(g, fixed)...)
			}
		}
		out = append(out, c)
		i++
	}
	return out
}
