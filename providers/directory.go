package providers

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/idlecache"
	"github.com/plaza-gateway/plaza/resilience"
)

// Directory serves the provider directory's snapshots as Sets: only ACTIVE
// providers are callable. A Set is a view of one snapshot (View, O(1)): it
// holds nothing per provider, reads ids, limits and TTLs from the snapshot,
// and resolves a provider's connector on its first call. A provider with an
// endpoint is reached over HTTP with its (decrypted) signing secret; one
// without is served in process by Embedded, its data derived from its id
// when it is first called. Resolved connectors are shared by every view and
// kept in bounded caches that drop idle providers, so memory follows the
// providers being called, not the number registered; an entry that changed
// gets a new connector on its next call.
type Directory struct {
	store directory.Store
	env   Env
	log   *slog.Logger

	remote *idlecache.Cache[string, *slot] // providers with an endpoint
	local  *idlecache.Cache[string, *slot] // in-process providers
}

// Bounds of the resolved connectors. An HTTP connector is a few hundred
// bytes (its pool is per host, shared), so the remote bound is the call
// policy's (resilience.DefaultMaxProviders). An in-process provider holds
// its generated catalogue (about a megabyte), so fewer are kept; one pushed
// out is derived again from its id on its next call (milliseconds).
const (
	DefaultMaxRemote = resilience.DefaultMaxProviders
	DefaultMaxLocal  = 256
	// DefaultResolvedIdle drops a connector not called for this long.
	DefaultResolvedIdle = 5 * time.Minute
	// secretTimeout bounds reading a provider's secret on its first call.
	secretTimeout = 2 * time.Second
)

// DirectoryOption tunes a Directory.
type DirectoryOption func(*directoryConfig)

type directoryConfig struct {
	maxRemote, maxLocal int
	idle                time.Duration
}

// WithResolvedBounds bounds the connectors kept resolved (zero: the default).
func WithResolvedBounds(maxRemote, maxLocal int) DirectoryOption {
	return func(c *directoryConfig) { c.maxRemote, c.maxLocal = maxRemote, maxLocal }
}

// NewDirectory serves sets from store; env.Embedded serves the providers
// without an endpoint, env.Pool carries the HTTP ones' connections (a pool
// of its own when nil); env.Getenv is unused: secrets come from the store.
func NewDirectory(store directory.Store, env Env, log *slog.Logger, opts ...DirectoryOption) *Directory {
	if env.Pool == nil {
		env.Pool = httpprovider.NewPool(httpprovider.PoolConfig{})
	}
	cfg := directoryConfig{maxRemote: DefaultMaxRemote, maxLocal: DefaultMaxLocal, idle: DefaultResolvedIdle}
	for _, o := range opts {
		o(&cfg)
	}
	newSlot := func(string) *slot { return &slot{} }
	return &Directory{store: store, env: env, log: log,
		remote: idlecache.New(idlecache.Config[string, *slot]{New: newSlot, Max: cfg.maxRemote, IdleAfter: cfg.idle}),
		local:  idlecache.New(idlecache.Config[string, *slot]{New: newSlot, Max: cfg.maxLocal, IdleAfter: cfg.idle}),
	}
}

// View returns the Set of snap's ACTIVE providers. It costs O(1) whatever
// the number of providers: applying a directory change is installing its
// snapshot (the coverage index was updated by the directory itself).
func (d *Directory) View(snap *directory.Snapshot) *Set {
	v := &view{d: d, snap: snap}
	return &Set{Registry: connectors.NewSourceRegistry(v), settings: v.settings, policy: v.policy, cacheTTL: v.cacheTTL}
}

// Build is View, for callers that build sets from a file and a directory
// alike (it never fails).
func (d *Directory) Build(_ context.Context, snap *directory.Snapshot) (*Set, error) {
	return d.View(snap), nil
}

// Resolved is the number of connectors held (remote, in process).
func (d *Directory) Resolved() (remote, local int) { return d.remote.Len(), d.local.Len() }

// slot is one provider's resolved connector, replaced when its entry changes.
type slot struct {
	mu sync.Mutex // one resolution at a time
	b  atomic.Pointer[resolved]
}

// resolved is a connector and what it was built from.
type resolved struct {
	endpoint string
	name     string
	vertical connectors.Vertical
	rating   float64
	cities   []string
	limits   directory.Limits
	conn     connectors.Connector
	// keys sign the gateway's calls (Current) and verify the provider's
	// (Current, then Previous during a rotation's overlap).
	keys directory.SigningKeys
	// entryVersion is the version of the provider's last change: a rotated
	// secret, which the snapshot does not hold, moves it.
	entryVersion int64
	// err: the entry cannot be served (no secret stored, say); tried again
	// at the next directory version.
	err     error
	version int64
}

// matches reports whether r was built from e's current content (in O(cities),
// no allocation), and for a failure, at snap's version.
func (r *resolved) matches(e directory.Entry, version int64) bool {
	if r.err != nil && r.version != version {
		return false
	}
	return r.entryVersion == e.Version() && r.endpoint == e.Endpoint() && r.name == e.Name() && r.vertical == e.Vertical() &&
		r.rating == e.Rating() && r.limits == e.Limits() && e.CityCount() == len(r.cities) && e.CitiesEqual(r.cities)
}

// resolve returns e's connector, building it when e is new or changed.
func (d *Directory) resolve(e directory.Entry, version int64) *resolved {
	c := d.remote
	if e.Endpoint() == "" {
		c = d.local
	}
	ent := c.Acquire(e.ID())
	defer ent.Release()
	s := ent.Value
	if r := s.b.Load(); r != nil && r.matches(e, version) {
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.b.Load(); r != nil && r.matches(e, version) {
		return r
	}
	r := d.build(e, version)
	if r.err != nil {
		d.log.Warn("directory provider left out of routing", "provider", e.ID(), "version", version, "err", r.err)
	}
	s.b.Store(r)
	return r
}

// build makes e's connector.
func (d *Directory) build(e directory.Entry, version int64) *resolved {
	desc := e.Descriptor()
	r := &resolved{endpoint: e.Endpoint(), name: desc.Name, vertical: desc.Vertical, rating: desc.Rating,
		cities: slices.Clone(desc.Cities), limits: e.Limits(), version: version, entryVersion: e.Version()}
	r.endpoint = string([]byte(r.endpoint)) // not the snapshot's arena
	timeout := e.Limits().Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if r.endpoint == "" {
		if d.env.Embedded == nil {
			r.err = errNoEmbedded
			return r
		}
		r.conn, r.err = d.env.Embedded(desc)
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), secretTimeout)
	defer cancel()
	keys, err := d.store.SigningKeys(ctx, desc.ID)
	switch {
	case err != nil:
		r.err = &buildError{"signing secret: ", err}
		return r
	case keys.Current == "":
		r.err = &buildError{"no signing secret stored for endpoint " + r.endpoint, nil}
		return r
	}
	r.keys = keys
	r.conn, r.err = httpprovider.New(httpprovider.Config{ID: desc.ID, Vertical: desc.Vertical, BaseURL: r.endpoint,
		Secret: keys.Current, Timeout: timeout, MaxBatch: desc.MaxBatch, Name: desc.Name, Rating: desc.Rating, Cities: desc.Cities,
	}, httpprovider.WithPool(d.env.Pool))
	return r
}

type buildError struct {
	msg string
	err error
}

func (e *buildError) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + e.err.Error()
}

func (e *buildError) Unwrap() error { return e.err }

var errNoEmbedded = &buildError{"no endpoint, and no in-process providers in this program", nil}

// view is one snapshot's providers, as a connectors.Source.
type view struct {
	d    *Directory
	snap *directory.Snapshot
}

var _ connectors.Source = (*view)(nil)

// active returns id's entry if it is ACTIVE.
func (v *view) active(id string) (directory.Entry, bool) {
	e, ok := v.snap.Lookup(id)
	if !ok || e.Lifecycle() != directory.Active {
		return directory.Entry{}, false
	}
	return e, true
}

// Get resolves id's connector: O(1) (a snapshot lookup and a cache hit)
// once the provider has been called.
func (v *view) Get(id string) (connectors.Connector, bool) {
	e, ok := v.active(id)
	if !ok {
		return nil, false
	}
	r := v.d.resolve(e, v.snap.Version())
	return r.conn, r.err == nil
}

// ByVertical resolves every ACTIVE provider of vertical through the
// coverage index: O(providers of the vertical), the cost of the fan-out the
// caller is about to make.
func (v *view) ByVertical(vertical connectors.Vertical) []connectors.Connector {
	return v.serving(vertical, "")
}

// Covering resolves the ACTIVE providers of vertical that serve city,
// through the coverage index: O(those providers), never the vertical's.
func (v *view) Covering(vertical connectors.Vertical, city string) []connectors.Connector {
	return v.serving(vertical, city)
}

// Callable reports whether id is ACTIVE: a snapshot lookup, no connector
// resolved. (A provider that cannot be resolved, for want of a secret, is
// callable until its first call is refused, as Len counts it.)
func (v *view) Callable(id string) bool {
	_, ok := v.active(id)
	return ok
}

// Serves reports whether id is ACTIVE and declares city: a snapshot lookup,
// O(1) of the number of providers.
func (v *view) Serves(id, city string) bool {
	e, ok := v.active(id)
	return ok && e.ServesCityFold(city)
}

// All resolves every ACTIVE provider: O(providers).
func (v *view) All() []connectors.Connector { return v.serving("", "") }

func (v *view) serving(vertical connectors.Vertical, city string) []connectors.Connector {
	const page = 1024
	out := make([]connectors.Connector, 0, min(v.snap.CountServing(vertical, city), page))
	after := ""
	for {
		p := v.snap.Serving(vertical, city, after, page)
		for _, e := range p.Entries {
			if r := v.d.resolve(e, v.snap.Version()); r.err == nil {
				out = append(out, r.conn)
			}
		}
		if !p.HasNext || len(p.Entries) == 0 {
			return out
		}
		after = p.Entries[len(p.Entries)-1].ID()
	}
}

// Len counts the ACTIVE providers in O(1) (one that cannot be resolved, for
// want of a secret, is counted until its first call is refused).
func (v *view) Len() int { return v.snap.CountServing("", "") }

// settings are id's settings: limits from the snapshot, the secret from its
// resolved connector.
func (v *view) settings(id string) (Settings, bool) {
	e, ok := v.active(id)
	if !ok {
		return Settings{}, false
	}
	l := e.Limits()
	s := Settings{Timeout: l.Timeout, MaxConcurrent: l.MaxConcurrent, CacheTTL: e.CacheTTLs()}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.MaxConcurrent == 0 {
		s.MaxConcurrent = DefaultMaxConcurrent
	}
	if e.Endpoint() != "" {
		r := v.d.resolve(e, v.snap.Version())
		if r.err != nil {
			return Settings{}, false
		}
		s.Secret, s.PreviousSecret, s.PreviousUntil = r.keys.Current, r.keys.Previous, r.keys.PreviousUntil
	}
	return s, true
}

func (v *view) policy(id string) (resilience.ProviderConfig, bool) {
	e, ok := v.active(id)
	if !ok {
		return resilience.ProviderConfig{}, false
	}
	l := e.Limits()
	return resilience.ProviderConfig{Timeout: orDefault(l.Timeout, DefaultTimeout),
		MaxConcurrent: orDefault(l.MaxConcurrent, DefaultMaxConcurrent)}, true
}

func (v *view) cacheTTL(provider string, kind gid.Kind) time.Duration {
	e, ok := v.snap.Lookup(provider)
	if !ok {
		return 0
	}
	d, _ := e.CacheTTL(string(kind))
	return d
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
