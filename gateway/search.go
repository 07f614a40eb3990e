package gateway

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

// SearchParams selects what a merged search looks at.
type SearchParams struct {
	Text string
	// Verticals limits the providers asked; empty means all.
	Verticals []connectors.Vertical
	// Kinds limits the kinds of result; empty means every searchable kind.
	Kinds    []gid.Kind
	City     string
	Category string
}

// Hit is one ranked search result. Value is the connectors value of Kind
// (connectors.Product, Store, Doctor, Lawyer, GovService or Descriptor).
type Hit struct {
	Kind     gid.Kind
	Provider string
	ID       string
	Value    any
	Score    float64
}

// searchOp describes one searchable kind: its vertical and how to ask a
// provider for its own ranked window.
type searchOp struct {
	kind     gid.Kind
	vertical connectors.Vertical
	op       string
	run      func(connectors.Connector, context.Context, connectors.Query) ([]Hit, int, error)
}

func pageHits[T any](kind gid.Kind, p connectors.Page[T], err error, id func(T) string) ([]Hit, int, error) {
	if err != nil {
		return nil, 0, err
	}
	hits := make([]Hit, len(p.Items))
	for i, it := range p.Items {
		hits[i] = Hit{Kind: kind, ID: id(it), Value: it}
	}
	return hits, p.Total, nil
}

var searchOps = []searchOp{
	{gid.Product, connectors.VerticalGrocery, "SearchProducts", func(c connectors.Connector, ctx context.Context, q connectors.Query) ([]Hit, int, error) {
		p, err := c.(connectors.Grocery).SearchProducts(ctx, q)
		return pageHits(gid.Product, p, err, func(v connectors.Product) string { return v.ID })
	}},
	{gid.Store, connectors.VerticalGrocery, "SearchStores", func(c connectors.Connector, ctx context.Context, q connectors.Query) ([]Hit, int, error) {
		p, err := c.(connectors.Grocery).SearchStores(ctx, q)
		return pageHits(gid.Store, p, err, func(v connectors.Store) string { return v.ID })
	}},
	{gid.Doctor, connectors.VerticalMedical, "SearchDoctors", func(c connectors.Connector, ctx context.Context, q connectors.Query) ([]Hit, int, error) {
		p, err := c.(connectors.Medical).SearchDoctors(ctx, q)
		return pageHits(gid.Doctor, p, err, func(v connectors.Doctor) string { return v.ID })
	}},
	{gid.Lawyer, connectors.VerticalLegal, "SearchLawyers", func(c connectors.Connector, ctx context.Context, q connectors.Query) ([]Hit, int, error) {
		p, err := c.(connectors.Legal).SearchLawyers(ctx, q)
		return pageHits(gid.Lawyer, p, err, func(v connectors.Lawyer) string { return v.ID })
	}},
	{gid.GovService, connectors.VerticalPublicService, "SearchServices", func(c connectors.Connector, ctx context.Context, q connectors.Query) ([]Hit, int, error) {
		p, err := c.(connectors.PublicService).SearchServices(ctx, q)
		return pageHits(gid.GovService, p, err, func(v connectors.GovService) string { return v.ID })
	}},
}

// Search fans the query out to every provider of the selected verticals in
// parallel, one call per provider and kind, each asking for the provider's
// top SearchWindow results; ranks the merged results with one relevance
// score; and returns the whole ranked list (callers page through it). A
// failing provider is left out, recorded as degraded, and its error returned
// in errs.
func (g *Gateway) Search(ctx context.Context, p SearchParams) (hits []Hit, errs []error) {
	reg := g.Registry()
	want := func(k gid.Kind, v connectors.Vertical) bool {
		return (len(p.Kinds) == 0 || containsKind(p.Kinds, k)) &&
			(len(p.Verticals) == 0 || containsVertical(p.Verticals, v))
	}
	q := connectors.Query{Text: p.Text, City: p.City, Category: p.Category, First: g.cfg.SearchWindow}
	type job struct {
		op   searchOp
		conn connectors.Connector
		hits []Hit
		err  error
	}
	var jobs []*job
	for _, op := range searchOps {
		if !want(op.kind, op.vertical) {
			continue
		}
		for _, c := range reg.ByVertical(op.vertical) {
			jobs = append(jobs, &job{op: op, conn: c})
		}
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			provider := j.conn.Describe().ID
			j.err = g.call(ctx, provider, j.op.op, 0, true, func(ctx context.Context) error {
				var err error
				j.hits, _, err = j.op.run(j.conn, ctx, q)
				return err
			})
			for i := range j.hits {
				j.hits[i].Provider = provider
			}
		}()
	}
	wg.Wait()
	for _, j := range jobs {
		if j.err != nil {
			StatsFrom(ctx).AddDegraded(j.conn.Describe().ID, string(connectors.KindOf(j.err)))
			errs = append(errs, j.err)
			continue
		}
		hits = append(hits, j.hits...)
	}
	if len(p.Kinds) == 0 || containsKind(p.Kinds, gid.Provider) {
		for _, c := range reg.All() {
			d := c.Describe()
			if want(gid.Provider, d.Vertical) && servesCity(d, p.City) {
				hits = append(hits, Hit{Kind: gid.Provider, Provider: d.ID, ID: d.ID, Value: d})
			}
		}
	}
	return rank(hits, p.Text, p.City), errs
}

// servesCity reports whether d serves city ("" matches every provider).
func servesCity(d connectors.Descriptor, city string) bool {
	if city == "" {
		return true
	}
	for _, c := range d.Cities {
		if strings.EqualFold(c, city) {
			return true
		}
	}
	return false
}

func containsKind(ks []gid.Kind, k gid.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func containsVertical(vs []connectors.Vertical, v connectors.Vertical) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// doc is the ranking view of a hit.
type doc struct {
	name, body string
	tags       []string
	cities     []string
	rating     float64
}

func docOf(h Hit) doc {
	switch v := h.Value.(type) {
	case connectors.Product:
		return doc{v.Name, v.Description + " " + v.Category + " " + v.Origin, v.Tags, []string{v.City}, v.Rating}
	case connectors.Store:
		return doc{v.Name, v.Address, v.Tags, []string{v.City}, v.Rating}
	case connectors.Doctor:
		return doc{v.Name, v.Specialty + " " + v.Hospital + " " + v.Bio, append([]string{v.Specialty}, v.Languages...), []string{v.City}, v.Rating}
	case connectors.Lawyer:
		return doc{v.Name, v.Firm + " " + v.Bio, append(append([]string{}, v.PracticeAreas...), v.Languages...), []string{v.City}, v.Rating}
	case connectors.GovService:
		return doc{v.Name, v.Description + " " + v.Category, v.Tags, v.Cities, v.Rating}
	case connectors.Descriptor:
		return doc{v.Name, v.Description + " " + strings.ToLower(string(v.Vertical)), nil, v.Cities, v.Rating}
	}
	return doc{}
}

// rank scores hits and sorts them best first. The score is text relevance
// (share of query terms found, weighted by field: name 3, tags 2, body 1)
// plus rating (up to 0.5) plus a city match bonus (0.5). With text, hits that
// match no term are dropped. Ties break on kind, provider and ID so the order
// is total: cursors are offsets into it.
func rank(hits []Hit, text, city string) []Hit {
	terms := tokenize(text)
	out := hits[:0]
	for _, h := range hits {
		d := docOf(h)
		s := 0.0
		if len(terms) > 0 {
			name, body := tokenSet(d.name), tokenSet(d.body)
			tags := map[string]bool{}
			for _, t := range d.tags {
				for _, w := range tokenize(t) {
					tags[w] = true
				}
			}
			matched := 0.0
			for _, t := range terms {
				switch {
				case name[t]:
					matched += 3
				case tags[t]:
					matched += 2
				case body[t]:
					matched += 1
				}
			}
			if matched == 0 {
				continue
			}
			s = matched / float64(3*len(terms)) * 3
		}
		s += d.rating / 10
		if city != "" {
			for _, c := range d.cities {
				if strings.EqualFold(c, city) {
					s += 0.5
					break
				}
			}
		}
		h.Score = s
		out = append(out, h)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		return a.ID < b.ID
	})
	return out
}

func tokenize(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	})
}

func tokenSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, t := range tokenize(s) {
		m[t] = true
	}
	return m
}
