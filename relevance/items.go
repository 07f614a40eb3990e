package relevance

import (
	"context"
	"fmt"

	"github.com/plaza-gateway/plaza/connectors"
)

// ItemOf is the judged view of a provider's search result v (a
// connectors.Product, Store, Doctor, Lawyer, GovService or Descriptor, as
// gateway hits carry them). ok is false for any other value.
func ItemOf(provider string, v any) (it Item, ok bool) {
	switch v := v.(type) {
	case connectors.Product:
		return Item{Kind: "Product", Vertical: string(connectors.VerticalGrocery), Provider: provider, ID: v.ID, Name: v.Name,
			Categories: []string{v.Category}, Tags: v.Tags, Cities: []string{v.City}, Rating: v.Rating}, true
	case connectors.Store:
		return Item{Kind: "Store", Vertical: string(connectors.VerticalGrocery), Provider: provider, ID: v.ID, Name: v.Name,
			Tags: v.Tags, Cities: []string{v.City}, Rating: v.Rating}, true
	case connectors.Doctor:
		return Item{Kind: "Doctor", Vertical: string(connectors.VerticalMedical), Provider: provider, ID: v.ID, Name: v.Name,
			Categories: []string{v.Specialty}, Cities: []string{v.City}, Rating: v.Rating}, true
	case connectors.Lawyer:
		return Item{Kind: "Lawyer", Vertical: string(connectors.VerticalLegal), Provider: provider, ID: v.ID, Name: v.Name,
			Categories: v.PracticeAreas, Cities: []string{v.City}, Rating: v.Rating}, true
	case connectors.GovService:
		return Item{Kind: "GovService", Vertical: string(connectors.VerticalPublicService), Provider: provider, ID: v.ID, Name: v.Name,
			Categories: []string{v.Category}, Tags: v.Tags, Cities: v.Cities, Rating: v.Rating}, true
	case connectors.Descriptor:
		return Item{Kind: "Provider", Vertical: string(v.Vertical), Provider: v.ID, ID: v.ID, Name: v.Name,
			Cities: v.Cities, Rating: v.Rating}, true
	}
	return Item{}, false
}

// corpusPage is the page size Corpus asks for; providers may return fewer.
const corpusPage = 1000

// Corpus lists every searchable item of conns (each provider's card and
// everything its searches return without text or filters), for the ideal
// order of Evaluate. It pages through each provider's own searches, so it
// reads whole catalogues: it is for the demo's few thousand items, not for
// a production registry.
func Corpus(ctx context.Context, conns []connectors.Connector) ([]Item, error) {
	var out []Item
	for _, c := range conns {
		d := c.Describe()
		card, _ := ItemOf(d.ID, d)
		out = append(out, card)
		var err error
		switch c := c.(type) {
		case connectors.Grocery:
			if out, err = collect(ctx, out, d.ID, c.SearchProducts); err == nil {
				out, err = collect(ctx, out, d.ID, c.SearchStores)
			}
		case connectors.Medical:
			out, err = collect(ctx, out, d.ID, c.SearchDoctors)
		case connectors.Legal:
			out, err = collect(ctx, out, d.ID, c.SearchLawyers)
		case connectors.PublicService:
			out, err = collect(ctx, out, d.ID, c.SearchServices)
		}
		if err != nil {
			return nil, fmt.Errorf("relevance: corpus of %s: %w", d.ID, err)
		}
	}
	return out, nil
}

func collect[T any](ctx context.Context, out []Item, provider string, search func(context.Context, connectors.Query) (connectors.Page[T], error)) ([]Item, error) {
	q := connectors.Query{First: corpusPage}
	for {
		p, err := search(ctx, q)
		if err != nil {
			return out, err
		}
		for _, v := range p.Items {
			it, _ := ItemOf(provider, v)
			out = append(out, it)
		}
		if p.NextCursor == "" {
			return out, nil
		}
		q.After = p.NextCursor
	}
}
