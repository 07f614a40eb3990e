package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/supply"
)

// CatalogItems reads the searchable catalogue of conns through their own
// search methods (every page, no text, no filter) and returns it as the
// providers publish it to the supply index: searchable fields, price and
// availability, version 1.
//
// It is the in-process feed of the embedded index (`go run .` and the
// tests) until providers push their catalogues through the catalogue
// contract; it reads whole catalogues, so it is for the demo's few thousand
// items, not for a production registry.
//
// A demo provider matches its own search keywords (a specialty's "skin,
// rash", a practice area's "car accident"), which the connectors' types do
// not carry; they are published as tags here, as a provider publishing its
// catalogue would, so the index finds what the provider's own search finds.
// A provider whose catalogue cannot be read is left out (its items are not
// searchable until it publishes); the returned error names each such
// provider, next to the items of the others.
func CatalogItems(ctx context.Context, conns []connectors.Connector) ([]supply.Item, error) {
	var out []supply.Item
	var errs []error
	for _, c := range conns {
		d := c.Describe()
		n := len(out)
		var err error
		// By vertical: an HTTP connector implements every vertical's
		// interface, and answers only its own.
		switch d.Vertical {
		case connectors.VerticalGrocery:
			if g, ok := c.(connectors.Grocery); ok {
				if out, err = collectItems(ctx, out, d.ID, g.SearchProducts, productItem); err == nil {
					out, err = collectItems(ctx, out, d.ID, g.SearchStores, storeItem)
				}
			}
		case connectors.VerticalMedical:
			if m, ok := c.(connectors.Medical); ok {
				out, err = collectItems(ctx, out, d.ID, m.SearchDoctors, doctorItem)
			}
		case connectors.VerticalLegal:
			if l, ok := c.(connectors.Legal); ok {
				out, err = collectItems(ctx, out, d.ID, l.SearchLawyers, lawyerItem)
			}
		case connectors.VerticalPublicService:
			if p, ok := c.(connectors.PublicService); ok {
				out, err = collectItems(ctx, out, d.ID, p.SearchServices, serviceItem)
			}
		}
		if err != nil {
			out = out[:n]
			errs = append(errs, fmt.Errorf("demo: catalogue of %s: %w", d.ID, err))
		}
	}
	return out, errors.Join(errs...)
}

// catalogPage is the page size CatalogItems asks for.
const catalogPage = 1000

func collectItems[T any](ctx context.Context, out []supply.Item, provider string, search func(context.Context, connectors.Query) (connectors.Page[T], error), item func(string, T) supply.Item) ([]supply.Item, error) {
	q := connectors.Query{First: catalogPage}
	for {
		p, err := search(ctx, q)
		if err != nil {
			return out, err
		}
		for _, v := range p.Items {
			it := item(provider, v)
			it.Version = 1
			out = append(out, it)
		}
		if p.NextCursor == "" {
			return out, nil
		}
		q.After = p.NextCursor
	}
}

func productItem(provider string, v connectors.Product) supply.Item {
	return supply.Item{Provider: provider, Kind: supply.KindProduct, ID: v.ID, Name: v.Name, Description: joinText(v.Description, v.Origin),
		Category: v.Category, Tags: v.Tags, Cities: []string{v.City}, Price: v.Price.Amount, Currency: v.Price.Currency,
		Available: v.Stock > 0, Rating: v.Rating}
}

func storeItem(provider string, v connectors.Store) supply.Item {
	return supply.Item{Provider: provider, Kind: supply.KindStore, ID: v.ID, Name: v.Name, Description: v.Address, Tags: v.Tags,
		Cities: []string{v.City}, Available: true, Rating: v.Rating}
}

func doctorItem(provider string, v connectors.Doctor) supply.Item {
	var tags []string
	if sp := specialtyNamed(v.Specialty); sp != nil {
		tags = capTags(append([]string{sp.title}, splitKeywords(sp.keywords)...))
	}
	return supply.Item{Provider: provider, Kind: supply.KindDoctor, ID: v.ID, Name: v.Name,
		Description: joinText(append([]string{v.Hospital, v.Bio}, v.Languages...)...), Category: v.Specialty, Tags: tags,
		Cities: []string{v.City}, Price: v.Fee.Amount, Currency: v.Fee.Currency, Available: true, Rating: v.Rating}
}

func lawyerItem(provider string, v connectors.Lawyer) supply.Item {
	tags := slices.Clone(v.PracticeAreas)
	for _, a := range practiceAreas {
		if slices.Contains(v.PracticeAreas, a.name) {
			tags = append(tags, splitKeywords(a.keywords)...)
		}
	}
	it := supply.Item{Provider: provider, Kind: supply.KindLawyer, ID: v.ID, Name: v.Name,
		Description: joinText(append([]string{v.Firm, v.Bio}, v.Languages...)...), Tags: capTags(uniqueStrings(tags)),
		Cities: []string{v.City}, Price: v.Fee.Amount, Currency: v.Fee.Currency, Available: true, Rating: v.Rating}
	if len(v.PracticeAreas) > 0 {
		it.Category = v.PracticeAreas[0]
	}
	return it
}

func serviceItem(provider string, v connectors.GovService) supply.Item {
	return supply.Item{Provider: provider, Kind: supply.KindGovService, ID: v.ID, Name: v.Name, Description: v.Description,
		Category: v.Category, Tags: v.Tags, Cities: v.Cities, Price: v.Fee.Amount, Currency: v.Fee.Currency, Available: true, Rating: v.Rating}
}

func joinText(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " ")
}

// splitKeywords splits a catalogue keyword list ("skin, acne, rash").
func splitKeywords(s string) []string {
	var out []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

func uniqueStrings(s []string) []string {
	seen := make(map[string]bool, len(s))
	return slices.DeleteFunc(s, func(x string) bool {
		if seen[x] {
			return true
		}
		seen[x] = true
		return false
	})
}

// maxPublishedTags is the supply index's limit of tags per item: a lawyer
// of several practice areas keeps the first areas' keywords.
const maxPublishedTags = 32

func capTags(tags []string) []string { return tags[:min(len(tags), maxPublishedTags)] }
