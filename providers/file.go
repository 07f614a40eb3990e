// Package providers builds the set of providers the gateway calls (a
// connectors.Registry with each provider's settings) from where they are
// declared: a registry file (YAML), kept current on SIGHUP and when the file
// changes (a bad file is rejected with a log line and the running set
// stays), or the provider directory, followed through its change feed.
// "Registry" is one thing in Plaza: connectors.Registry, the immutable index
// from provider id to connector that a Set carries and the gateway swaps.
package providers

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/resilience"
)

// File is the provider config file.
type File struct {
	Providers []Entry `yaml:"providers"`
}

// Entry declares one provider of the file.
type Entry struct {
	ID string `yaml:"id"`
	// Vertical: grocery, medical, legal or public-service (the enum names
	// GROCERY, MEDICAL, LEGAL, PUBLIC_SERVICE work too).
	Vertical string `yaml:"vertical"`
	Name     string `yaml:"name"`
	// URL of a provider speaking the HTTP contract. Leave it out and set
	// Embedded: demo for an in-process demo provider.
	URL      string `yaml:"url"`
	Embedded string `yaml:"embedded"`
	// Secret, or the name of the environment variable holding it (preferred:
	// secrets do not belong in files).
	Secret    string `yaml:"secret"`
	SecretEnv string `yaml:"secret_env"`
	// Timeout bounds one call to the provider (default 2s).
	Timeout time.Duration `yaml:"timeout"`
	// MaxBatch splits larger batches (0: the provider's own limit / none).
	MaxBatch int `yaml:"max_batch"`
	// MaxConcurrent caps in-flight calls to this provider (bulkhead; default 64).
	MaxConcurrent int `yaml:"max_concurrent"`
	// CacheTTL overrides the entity cache TTL per GraphQL type, e.g. Product: 30s.
	CacheTTL    map[string]time.Duration `yaml:"cache_ttl"`
	Cities      []string                 `yaml:"cities"`
	Description string                   `yaml:"description"`
	Rating      float64                  `yaml:"rating"`
}

// Settings are the per-provider policy settings the gateway applies.
type Settings struct {
	Timeout       time.Duration
	MaxConcurrent int
	CacheTTL      map[string]time.Duration
	// Secret signs the gateway's requests to the provider and verifies the
	// provider's requests to the gateway.
	Secret string
	// PreviousSecret verifies the provider's requests too, until
	// PreviousUntil: the overlap window of a rotation.
	PreviousSecret string
	PreviousUntil  time.Time
}

// Verifying returns the secrets that verify a provider's request at now:
// Secret, then PreviousSecret during its overlap.
func (s Settings) Verifying(now time.Time) []string {
	return directory.SigningKeys{Current: s.Secret, Previous: s.PreviousSecret, PreviousUntil: s.PreviousUntil}.Verifying(now)
}

// Defaults for fields a provider entry leaves out.
const (
	DefaultTimeout       = 2 * time.Second
	DefaultMaxConcurrent = 64
)

// Set is a registry with its providers' settings. The settings are read
// through lookups, not held in a map, so a set over the directory (View)
// holds nothing per provider.
type Set struct {
	Registry *connectors.Registry
	settings func(id string) (Settings, bool)
	policy   func(id string) (resilience.ProviderConfig, bool)
	cacheTTL func(provider string, kind gid.Kind) time.Duration
	// closers release the HTTP pool's idle connections when replaced, if
	// the pool is the registry's own.
	closers []func()
	// listed: the set holds its providers (a file, the demo), so walking
	// them is cheap. A directory view is not listed: walking it would
	// build a connector for each of up to millions of providers.
	listed bool
}

// Listed reports whether walking the set's providers is cheap (a file or
// the demo providers), as opposed to a view of the directory, which a
// caller must never walk per change.
func (l *Set) Listed() bool { return l.listed }

// NewSet is reg with the settings of each of its providers (a registry
// file, the demo providers: a set small enough to hold).
func NewSet(reg *connectors.Registry, settings map[string]Settings) *Set {
	return &Set{Registry: reg, listed: true,
		settings: func(id string) (Settings, bool) { s, ok := settings[id]; return s, ok },
		policy: func(id string) (resilience.ProviderConfig, bool) {
			s, ok := settings[id]
			return resilience.ProviderConfig{Timeout: s.Timeout, MaxConcurrent: s.MaxConcurrent}, ok
		},
		cacheTTL: func(provider string, kind gid.Kind) time.Duration { return settings[provider].CacheTTL[string(kind)] },
	}
}

// Added returns the providers next serves that prev did not, ordered by
// provider ID (as Registry.All): the ones whose catalogues must reach the
// index on a reload. Both sets must be Listed (a file, the demo providers); a directory view is
// never walked (its providers are queued when they become ACTIVE), so
// Added returns nothing when either is not.
func Added(prev, next *Set) []connectors.Connector {
	if !prev.Listed() || !next.Listed() {
		return nil
	}
	var out []connectors.Connector
	for _, c := range next.Registry.All() {
		if _, ok := prev.Registry.Get(c.Describe().ID); !ok {
			out = append(out, c)
		}
	}
	return out
}

// Settings returns provider id's settings.
func (l *Set) Settings(id string) (Settings, bool) { return l.settings(id) }

// PolicySettings returns provider id's settings for the call policy
// (timeout, bulkhead size; everything else keeps the policy's defaults): a
// resilience.Config.Lookup.
func (l *Set) PolicySettings(id string) (resilience.ProviderConfig, bool) { return l.policy(id) }

// CacheTTL returns provider's override of the entity cache TTL for kind, 0
// for none: a gateway.TTLLookup.
func (l *Set) CacheTTL(provider string, kind gid.Kind) time.Duration {
	return l.cacheTTL(provider, kind)
}

// Close releases resources held by the loaded connectors.
func (l *Set) Close() {
	for _, c := range l.closers {
		c()
	}
}

// Parse decodes a config file strictly: an unknown key is an error (a typo
// must not silently drop a setting).
func Parse(data []byte) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(f.Providers) == 0 {
		return nil, errors.New("no providers declared")
	}
	return &f, nil
}

// ParseVertical accepts grocery, medical, legal, public-service and the
// GraphQL enum names, in any case.
func ParseVertical(s string) (connectors.Vertical, error) {
	v := connectors.Vertical(strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_")))
	if !v.Valid() {
		return "", fmt.Errorf("unknown vertical %q (want grocery, medical, legal or public-service)", s)
	}
	return v, nil
}

// Env is what building a set depends on besides the file: the variables
// secret_env names, how an `embedded: demo` provider is built (the wiring
// root passes the demo package's; nil refuses embedded providers), and the
// pool of connections per host every HTTP provider's calls go through (so
// pools outlive a reload; nil gives the set a pool of its own, closed with
// it). This package builds no provider itself.
type Env struct {
	Getenv   func(string) string
	Embedded func(connectors.Descriptor) (connectors.Connector, error)
	Pool     *httpprovider.Pool
}

// Build turns the file into a set of connectors. HTTP providers share one
// pool of connections per host; a provider's max_concurrent caps its calls
// in flight through the call policy's bulkhead (PolicySettings), not
// through a pool of its own.
func (f *File) Build(env Env) (*Set, error) {
	settings := map[string]Settings{}
	var closers []func()
	if env.Pool == nil {
		env.Pool = httpprovider.NewPool(httpprovider.PoolConfig{})
		closers = append(closers, env.Pool.CloseIdleConnections)
	}
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	var conns []connectors.Connector
	for i, p := range f.Providers {
		c, s, err := p.build(env)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("providers[%d] (%s): %w", i, p.ID, err)
		}
		conns = append(conns, c)
		settings[p.ID] = s
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		closeAll()
		return nil, err
	}
	out := NewSet(reg, settings)
	out.closers = closers
	return out, nil
}

func (p Entry) build(env Env) (connectors.Connector, Settings, error) {
	v, err := ParseVertical(p.Vertical)
	if err != nil {
		return nil, Settings{}, err
	}
	if !connectors.ValidProviderID(p.ID) {
		return nil, Settings{}, fmt.Errorf("id %q: use 1-64 characters of a-z, 0-9 and -", p.ID)
	}
	for typ, ttl := range p.CacheTTL {
		if !gid.Kind(typ).Valid() || ttl <= 0 {
			return nil, Settings{}, fmt.Errorf("cache_ttl %s: %v: want a GraphQL type such as Product and a positive duration", typ, ttl)
		}
	}
	s := Settings{Timeout: p.Timeout, MaxConcurrent: p.MaxConcurrent, CacheTTL: p.CacheTTL, Secret: p.Secret}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.MaxConcurrent == 0 {
		s.MaxConcurrent = DefaultMaxConcurrent
	}
	if p.SecretEnv != "" {
		if s.Secret = env.Getenv(p.SecretEnv); s.Secret == "" {
			return nil, s, fmt.Errorf("secret_env %s is not set", p.SecretEnv)
		}
	}
	desc := connectors.Descriptor{ID: p.ID, Name: p.Name, Vertical: v, Cities: p.Cities,
		Description: p.Description, Rating: p.Rating, MaxBatch: p.MaxBatch}
	switch {
	case p.URL != "" && p.Embedded != "":
		return nil, s, errors.New("set either url or embedded, not both")
	case p.Embedded == "demo" && env.Embedded == nil:
		return nil, s, errors.New("embedded: demo providers are not available to this program")
	case p.Embedded == "demo":
		c, err := env.Embedded(desc)
		return c, s, err
	case p.Embedded != "":
		return nil, s, fmt.Errorf("embedded %q: only \"demo\" is available", p.Embedded)
	case p.URL == "":
		return nil, s, errors.New("url is required (or embedded: demo)")
	}
	if s.Secret == "" {
		return nil, s, errors.New("secret or secret_env is required for an HTTP provider")
	}
	if p.Name == "" {
		desc.Name = p.ID
	}
	c, err := httpprovider.New(httpprovider.Config{
		ID: p.ID, Vertical: v, BaseURL: p.URL, Secret: s.Secret, Timeout: s.Timeout, MaxBatch: p.MaxBatch,
		Name: desc.Name, Description: p.Description, Rating: p.Rating, Cities: p.Cities,
	}, httpprovider.WithPool(env.Pool))
	if err != nil {
		return nil, s, err
	}
	return c, s, nil
}

// LoadFile reads, parses and builds path.
func LoadFile(path string, env Env) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return f.Build(env)
}
