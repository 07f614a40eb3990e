package conformance

import (
	"context"
	"fmt"
	"slices"

	"github.com/plaza-gateway/plaza/connectors"
)

// catalogKinds are the kinds a provider of each vertical publishes.
var catalogKinds = map[connectors.Vertical][]connectors.CatalogKind{
	connectors.VerticalGrocery:       {connectors.CatalogProduct, connectors.CatalogStore},
	connectors.VerticalMedical:       {connectors.CatalogDoctor},
	connectors.VerticalLegal:         {connectors.CatalogLawyer},
	connectors.VerticalPublicService: {connectors.CatalogGovService, connectors.CatalogOffice},
}

// maxCatalogPages bounds how much of a catalogue the check reads.
const maxCatalogPages = 500

// remoteDescriber is the HTTP client's view of what the provider says
// about itself (its contract version).
type remoteDescriber interface {
	RemoteDescriptor(ctx context.Context) (connectors.Descriptor, error)
}

// contractVersion is the version the provider declares: its own
// descriptor over HTTP, else the connector's.
func (e *env) contractVersion(ctx context.Context) string {
	if r, ok := e.conn.(remoteDescriber); ok {
		ctx, cancel := e.call(ctx)
		defer cancel()
		if d, err := r.RemoteDescriptor(ctx); err == nil {
			return d.ContractVersion
		}
	}
	return e.desc.ContractVersion
}

// checkCatalog: a provider of contract 1.2 serves its catalogue changes.
// Paging from no cursor to the end yields every item once, each valid for
// the index (a kind of its vertical, an id, a name, a city, a version, no
// other provider's name), pages within the limit, a cursor on every page;
// a pull from the last cursor holds nothing older; a cursor the provider
// never issued is BAD_USER_INPUT. A provider of 1.1 is skipped: it stays
// callable by ID, and its items are not in search until it publishes.
func checkCatalog(ctx context.Context, e *env) (string, error) {
	declared := e.contractVersion(ctx)
	cat, ok := e.conn.(connectors.Catalog)
	if !ok {
		if connectors.ContractAtLeast(declared, connectors.ContractPublishing) {
			return "", fmt.Errorf("the descriptor declares contract %s but the connector has no catalogue (connectors.Catalog)", declared)
		}
		return "", skipf("contract %s: the provider does not publish its catalogue; callable by ID, absent from search until it publishes", legacy(declared))
	}
	pull := func(since string, first int) (connectors.CatalogChanges, error) {
		ctx, cancel := e.call(ctx)
		defer cancel()
		return cat.CatalogChanges(ctx, since, first)
	}
	const pageSize = 200
	first, err := pull("", pageSize)
	if connectors.KindOf(err) == connectors.KindNotFound && !connectors.ContractAtLeast(declared, connectors.ContractPublishing) {
		return "", skipf("contract %s: GET %s answers NOT_FOUND, the provider does not publish its catalogue; callable by ID, absent from search until it publishes",
			legacy(declared), "/v1/catalog")
	}
	if err != nil {
		return "", fmt.Errorf("pull of the whole catalogue: %w", err)
	}
	kinds := catalogKinds[e.desc.Vertical]
	seen := map[string]int64{}
	page, pages, deletes := first, 0, 0
	for {
		pages++
		if n := len(page.Upserts) + len(page.Deletes); n > pageSize {
			return "", fmt.Errorf("page %d holds %d changes, %d were asked", pages, n, pageSize)
		}
		if page.Cursor == "" {
			return "", fmt.Errorf("page %d has no cursor: a later pull could not resume", pages)
		}
		for _, it := range page.Upserts {
			if err := validItem(e.desc.ID, kinds, it); err != nil {
				return "", fmt.Errorf("page %d: %w", pages, err)
			}
			key := string(it.Kind) + "/" + it.ID
			if _, dup := seen[key]; dup {
				return "", fmt.Errorf("page %d: %s appears twice in one pull of the catalogue", pages, key)
			}
			seen[key] = version(it.Version, it)
		}
		deletes += len(page.Deletes)
		if !page.More {
			break
		}
		if pages >= maxCatalogPages {
			return "", fmt.Errorf("the catalogue did not end within %d pages of %d", maxCatalogPages, pageSize)
		}
		if page, err = pull(page.Cursor, pageSize); err != nil {
			return "", fmt.Errorf("page %d: %w", pages+1, err)
		}
	}
	if len(seen) == 0 {
		if ids, err := e.sampleIDs(ctx, 1); err == nil && len(ids) > 0 {
			return "", fmt.Errorf("the catalogue is empty, but a search finds %s %s", e.v.entity, ids[0])
		}
	}
	again, err := pull(page.Cursor, pageSize)
	if err != nil {
		return "", fmt.Errorf("pull since the last cursor: %w", err)
	}
	for _, it := range again.Upserts {
		if v, ok := seen[string(it.Kind)+"/"+it.ID]; ok && version(it.Version, it) <= v {
			return "", fmt.Errorf("a pull since the last cursor returns %s/%s again at version %d, not newer than %d", it.Kind, it.ID, it.Version, v)
		}
	}
	if _, err := pull("conformance-not-a-cursor", pageSize); connectors.KindOf(err) != connectors.KindInvalid {
		return "", fmt.Errorf("a cursor the provider never issued: got %v, want BAD_USER_INPUT", err)
	}
	return fmt.Sprintf("publishes %d items (and %d deletes) in %d pages; cursors resume; a foreign cursor is BAD_USER_INPUT", len(seen), deletes, pages), nil
}

func legacy(v string) string {
	if v == "" {
		return connectors.ContractLegacy
	}
	return v
}

func version(v int64, it connectors.CatalogItem) int64 {
	if v == 0 && !it.UpdatedAt.IsZero() {
		return it.UpdatedAt.UnixMicro()
	}
	return v
}

// validItem reports what the gateway's index would refuse in it.
func validItem(provider string, kinds []connectors.CatalogKind, it connectors.CatalogItem) error {
	key := string(it.Kind) + "/" + it.ID
	switch {
	case !slices.Contains(kinds, it.Kind):
		return fmt.Errorf("%s: kind %q is not one this vertical publishes (%v)", key, it.Kind, kinds)
	case it.ID == "":
		return fmt.Errorf("an item of kind %s has no id", it.Kind)
	case it.Provider != "" && it.Provider != provider:
		return fmt.Errorf("%s names provider %q, not %q", key, it.Provider, provider)
	case it.Name == "":
		return fmt.Errorf("%s has no name", key)
	case len(it.Cities) == 0:
		return fmt.Errorf("%s has no city", key)
	case version(it.Version, it) <= 0:
		return fmt.Errorf("%s has neither a version nor updatedAt", key)
	case len(it.Tags) > 32:
		return fmt.Errorf("%s has %d tags, at most 32", key, len(it.Tags))
	}
	return nil
}
