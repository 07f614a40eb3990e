package providers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
)

// Directory builds Sets from the provider directory's snapshots: only
// ACTIVE providers are callable. A provider with an endpoint is reached over
// HTTP with its (decrypted) signing secret; one without is served in
// process by Embedded. Connectors of providers whose entry did not change
// are carried over from the previous Set, so a change costs the providers it
// touches, not a new connector for every provider.
type Directory struct {
	store directory.Store
	env   Env
	log   *slog.Logger

	mu    sync.Mutex // one build at a time
	built map[string]built
}

// built is a connector and the entry it was built from.
type built struct {
	fingerprint string
	conn        connectors.Connector
	settings    Settings
	closer      func()
}

// NewDirectory builds sets from store; env.Embedded serves the providers
// without an endpoint, env.Pool carries the HTTP ones' connections (a pool
// of its own when nil); env.Getenv is unused: secrets come from the store.
func NewDirectory(store directory.Store, env Env, log *slog.Logger) *Directory {
	if env.Pool == nil {
		env.Pool = httpprovider.NewPool(httpprovider.PoolConfig{})
	}
	return &Directory{store: store, env: env, log: log, built: map[string]built{}}
}

// Build returns the Set of snap's ACTIVE providers. A provider that cannot
// be built (no secret stored for its endpoint, say) is left out and logged:
// one bad entry must not take the others out of routing. Its cost is
// O(providers in snap) plus the providers that changed.
func (d *Directory) Build(ctx context.Context, snap *directory.Snapshot) (*Set, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	next := make(map[string]built, len(d.built))
	conns := make([]connectors.Connector, 0, snap.Len())
	out := &Set{Settings: make(map[string]Settings, snap.Len())}
	for i := range snap.Len() {
		e := snap.At(i)
		if e.Lifecycle() != directory.Active {
			continue
		}
		b, err := d.connector(ctx, e)
		if err != nil {
			d.log.Warn("directory provider left out of routing", "provider", e.ID(), "err", err)
			continue
		}
		next[b.conn.Describe().ID] = b
		conns = append(conns, b.conn)
		out.Settings[b.conn.Describe().ID] = b.settings
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		return nil, fmt.Errorf("directory at version %d: %w", snap.Version(), err)
	}
	out.Registry = reg
	// Connectors that left (or changed) may still serve requests in flight on
	// the previous Set; closing only idle connections is safe whenever, so
	// they go when this Set is itself replaced and closed.
	for id, b := range d.built {
		if n, ok := next[id]; (!ok || n.conn != b.conn) && b.closer != nil {
			out.closers = append(out.closers, b.closer)
		}
	}
	d.built = next
	return out, nil
}

// connector returns the entry's connector, the previous one when the entry
// is unchanged.
func (d *Directory) connector(ctx context.Context, e directory.Entry) (built, error) {
	fp := fingerprint(e)
	if b, ok := d.built[e.ID()]; ok && b.fingerprint == fp {
		return b, nil
	}
	desc := e.Descriptor()
	desc.Description = ""
	l := e.Limits()
	s := Settings{Timeout: l.Timeout, MaxConcurrent: l.MaxConcurrent, CacheTTL: e.CacheTTLs()}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.MaxConcurrent == 0 {
		s.MaxConcurrent = DefaultMaxConcurrent
	}
	if e.Endpoint() == "" {
		if d.env.Embedded == nil {
			return built{}, fmt.Errorf("no endpoint, and no in-process providers in this program")
		}
		c, err := d.env.Embedded(desc)
		return built{fingerprint: fp, conn: c, settings: s}, err
	}
	keys, err := d.store.SigningKeys(ctx, e.ID())
	if err != nil {
		return built{}, fmt.Errorf("signing secret: %w", err)
	}
	if keys.Current == "" {
		return built{}, fmt.Errorf("no signing secret stored for endpoint %s", e.Endpoint())
	}
	s.Secret, s.PreviousSecret, s.PreviousUntil = keys.Current, keys.Previous, keys.PreviousUntil
	c, err := httpprovider.New(httpprovider.Config{ID: desc.ID, Vertical: desc.Vertical, BaseURL: e.Endpoint(), Secret: s.Secret,
		Timeout: s.Timeout, MaxBatch: desc.MaxBatch, Name: desc.Name, Rating: desc.Rating, Cities: desc.Cities,
	}, httpprovider.WithPool(d.env.Pool))
	if err != nil {
		return built{}, err
	}
	return built{fingerprint: fp, conn: c, settings: s}, nil
}

// fingerprint is what a connector is built from; an entry whose fingerprint
// is unchanged keeps its connector. The entry's version covers what the
// snapshot does not hold: a rotated signing secret moves it.
func fingerprint(e directory.Entry) string {
	return fmt.Sprint(e.Version(), "|", e.Vertical(), "|", e.Endpoint(), "|", e.Name(), "|", strings.Join(e.Cities(), ","), "|",
		e.Rating(), "|", e.Limits(), "|", e.CacheTTLs())
}
