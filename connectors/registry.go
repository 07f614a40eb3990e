package connectors

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Registry maps provider IDs to connectors. It is immutable once built: the
// gateway swaps whole registries on reload, so a request that started on one
// registry finishes on it. It either holds its connectors (NewRegistry: a
// registry file, the demo providers) or reads them from a Source
// (NewSourceRegistry: the provider directory's snapshot, whose connectors
// are resolved on first use).
type Registry struct {
	byID       map[string]Connector
	byVertical map[Vertical][]Connector
	// covering[vertical][city folded to lower case]: the coverage index,
	// the connectors that declare the city, ordered by provider ID.
	covering map[Vertical]map[string][]Connector
	all      []Connector
	src      Source
}

// Source is a registry's providers when they are too many to hold as
// connectors: an immutable view (one directory version) that resolves a
// provider's connector when it is asked for. Get is the hot path and must
// cost O(1) whatever Len is; ByVertical and All visit every provider they
// return, so they cost what the caller fans out to.
type Source interface {
	// Get returns the connector of provider id, false if it is not callable.
	Get(id string) (Connector, bool)
	// ByVertical returns the callable connectors of v, ordered by provider ID.
	ByVertical(v Vertical) []Connector
	// All returns every callable connector, ordered by provider ID.
	All() []Connector
	// Len is the number of callable providers.
	Len() int
	// Covering returns the callable connectors of v that serve city,
	// ordered by provider ID, from a coverage index: it visits only them.
	Covering(v Vertical, city string) []Connector
	// Callable reports whether provider id is callable, as Get's ok does,
	// without resolving its connector: a snapshot lookup.
	Callable(id string) bool
	// Serves reports whether provider id is callable and declares city
	// (compared without case) among the cities it serves, in O(1) of the
	// number of providers.
	Serves(id, city string) bool
}

// NewSourceRegistry returns a registry that reads src. Building it costs
// nothing per provider, so a new directory version is served in O(1).
func NewSourceRegistry(src Source) *Registry { return &Registry{src: src} }

// NewRegistry checks each connector's descriptor and indexes it. It rejects
// an empty or duplicate provider ID, an unknown vertical, and a connector that
// does not implement the interface of the vertical it declares.
func NewRegistry(conns ...Connector) (*Registry, error) {
	r := &Registry{byID: map[string]Connector{}, byVertical: map[Vertical][]Connector{}, covering: map[Vertical]map[string][]Connector{}}
	for _, c := range conns {
		d := c.Describe()
		if d.ID == "" {
			return nil, fmt.Errorf("registry: provider with empty id (%q)", d.Name)
		}
		if !ValidProviderID(d.ID) {
			return nil, fmt.Errorf("registry: provider id %q: only a-z, 0-9 and - are allowed", d.ID)
		}
		if _, dup := r.byID[d.ID]; dup {
			return nil, fmt.Errorf("registry: duplicate provider id %q", d.ID)
		}
		if err := checkVertical(c, d.Vertical); err != nil {
			return nil, fmt.Errorf("registry: provider %q: %w", d.ID, err)
		}
		r.byID[d.ID] = c
		r.byVertical[d.Vertical] = append(r.byVertical[d.Vertical], c)
		r.all = append(r.all, c)
		cov := r.covering[d.Vertical]
		if cov == nil {
			cov = map[string][]Connector{}
			r.covering[d.Vertical] = cov
		}
		for _, city := range d.Cities {
			k := strings.ToLower(city)
			if l := cov[k]; len(l) == 0 || l[len(l)-1] != c { // a city declared twice counts once
				cov[k] = append(l, c)
			}
		}
	}
	byID := func(s []Connector) {
		sort.Slice(s, func(i, j int) bool { return s[i].Describe().ID < s[j].Describe().ID })
	}
	byID(r.all)
	for _, s := range r.byVertical {
		byID(s)
	}
	for _, cov := range r.covering {
		for _, s := range cov {
			byID(s)
		}
	}
	return r, nil
}

// ValidProviderID reports whether id is a usable provider ID: 1 to 64
// characters of a-z, 0-9 and '-'. IDs end up in global IDs, cache keys,
// metrics labels and URLs, so they are kept boring.
func ValidProviderID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func checkVertical(c Connector, v Vertical) error {
	var ok bool
	switch v {
	case VerticalGrocery:
		_, ok = c.(Grocery)
	case VerticalMedical:
		_, ok = c.(Medical)
	case VerticalLegal:
		_, ok = c.(Legal)
	case VerticalPublicService:
		_, ok = c.(PublicService)
	default:
		return fmt.Errorf("unknown vertical %q", v)
	}
	if !ok {
		return fmt.Errorf("declares vertical %s but does not implement its interface", v)
	}
	return nil
}

// Get returns the connector registered under id.
func (r *Registry) Get(id string) (Connector, bool) {
	if r.src != nil {
		return r.src.Get(id)
	}
	c, ok := r.byID[id]
	return c, ok
}

// All returns every connector, ordered by provider ID. Over a Source it
// resolves every callable provider: use Len to count them.
func (r *Registry) All() []Connector {
	if r.src != nil {
		return r.src.All()
	}
	return r.all
}

// ByVertical returns the connectors of one vertical, ordered by provider ID.
func (r *Registry) ByVertical(v Vertical) []Connector {
	if r.src != nil {
		return r.src.ByVertical(v)
	}
	return r.byVertical[v]
}

// Len is the number of providers, in O(1).
func (r *Registry) Len() int {
	if r.src != nil {
		return r.src.Len()
	}
	return len(r.all)
}

// Covering returns the connectors of vertical v that declare city among the
// cities they serve (compared without case), ordered by provider ID: a
// lookup in the coverage index, whatever the number of providers. A
// provider that declares no cities serves no named city.
func (r *Registry) Covering(v Vertical, city string) []Connector {
	if r.src != nil {
		return r.src.Covering(v, city)
	}
	return r.covering[v][strings.ToLower(city)]
}

// Callable reports whether provider id is callable (Get would succeed)
// without resolving its connector: the supply index's candidates, hundreds
// per search from as many providers, are checked with it, so a search
// builds no connector it does not call.
func (r *Registry) Callable(id string) bool {
	if r.src != nil {
		return r.src.Callable(id)
	}
	_, ok := r.byID[id]
	return ok
}

// Serves reports whether provider id is callable and declares city among
// the cities it serves, compared without case as Covering compares them: a
// request that names a city calls no other provider, even when an item a
// provider published claims the city. A provider that declares no cities
// serves no named city.
func (r *Registry) Serves(id, city string) bool {
	if r.src != nil {
		return r.src.Serves(id, city)
	}
	c, ok := r.byID[id]
	return ok && slices.ContainsFunc(c.Describe().Cities, func(d string) bool { return strings.EqualFold(d, city) })
}

// Grocery returns the grocery connector registered under id, or a
// KindNotFound error when there is none.
func (r *Registry) Grocery(id string) (Grocery, error) { return lookup[Grocery](r, id) }

// Medical returns the medical connector registered under id.
func (r *Registry) Medical(id string) (Medical, error) { return lookup[Medical](r, id) }

// Legal returns the legal connector registered under id.
func (r *Registry) Legal(id string) (Legal, error) { return lookup[Legal](r, id) }

// PublicService returns the public-service connector registered under id.
func (r *Registry) PublicService(id string) (PublicService, error) {
	return lookup[PublicService](r, id)
}

func lookup[T Connector](r *Registry, id string) (T, error) {
	var zero T
	c, ok := r.Get(id)
	if !ok {
		return zero, Errorf(KindNotFound, "provider %q not found", id)
	}
	t, ok := c.(T)
	if !ok {
		return zero, Errorf(KindNotFound, "provider %q does not serve this kind of object", id)
	}
	return t, nil
}
