// Package registry builds the gateway's provider registry from a config file
// (YAML) and keeps it current: on SIGHUP and when the file changes, it loads
// the file again and swaps the registry atomically. A bad file is rejected
// with a log line and the running registry stays.
package registry

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/resilience"
)

// File is the provider config file.
type File struct {
	Providers []Provider `yaml:"providers"`
}

// Provider declares one provider.
type Provider struct {
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
	Secret        string
}

// Defaults for fields a provider entry leaves out.
const (
	DefaultTimeout       = 2 * time.Second
	DefaultMaxConcurrent = 64
)

// Loaded is a built registry with its settings.
type Loaded struct {
	Registry *connectors.Registry
	Settings map[string]Settings
	// closers release the HTTP pool's idle connections when replaced, if
	// the pool is the registry's own.
	closers []func()
}

// Close releases resources held by the loaded connectors.
// PolicySettings maps the per-provider settings onto the call policy
// (timeout, bulkhead size); everything else keeps the policy's defaults.
func (l *Loaded) PolicySettings() map[string]resilience.ProviderConfig {
	out := make(map[string]resilience.ProviderConfig, len(l.Settings))
	for id, s := range l.Settings {
		out[id] = resilience.ProviderConfig{Timeout: s.Timeout, MaxConcurrent: s.MaxConcurrent}
	}
	return out
}

func (l *Loaded) Close() {
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

// BuildOption configures Build.
type BuildOption func(*buildOptions)

type buildOptions struct{ pool *httpprovider.Pool }

// WithPool sends every HTTP provider's calls through pool (one pool of
// connections per host, package httpprovider), so that pools outlive a
// reload. Without it, each Build has a pool of its own, shared by its
// providers and closed with it.
func WithPool(pool *httpprovider.Pool) BuildOption {
	return func(o *buildOptions) { o.pool = pool }
}

// Build turns the file into a registry. getenv resolves secret_env. HTTP
// providers share one pool of connections per host; a provider's
// max_concurrent caps its calls in flight through the call policy's
// bulkhead (PolicySettings), not through a pool of its own.
func (f *File) Build(getenv func(string) string, opts ...BuildOption) (*Loaded, error) {
	var o buildOptions
	for _, opt := range opts {
		opt(&o)
	}
	out := &Loaded{Settings: map[string]Settings{}}
	if o.pool == nil {
		o.pool = httpprovider.NewPool(httpprovider.PoolConfig{})
		out.closers = append(out.closers, o.pool.CloseIdleConnections)
	}
	var conns []connectors.Connector
	for i, p := range f.Providers {
		c, s, err := p.build(getenv, o.pool)
		if err != nil {
			out.Close()
			return nil, fmt.Errorf("providers[%d] (%s): %w", i, p.ID, err)
		}
		conns = append(conns, c)
		out.Settings[p.ID] = s
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		out.Close()
		return nil, err
	}
	out.Registry = reg
	return out, nil
}

func (p Provider) build(getenv func(string) string, pool *httpprovider.Pool) (connectors.Connector, Settings, error) {
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
		if s.Secret = getenv(p.SecretEnv); s.Secret == "" {
			return nil, s, fmt.Errorf("secret_env %s is not set", p.SecretEnv)
		}
	}
	desc := connectors.Descriptor{ID: p.ID, Name: p.Name, Vertical: v, Cities: p.Cities,
		Description: p.Description, Rating: p.Rating, MaxBatch: p.MaxBatch}
	switch {
	case p.URL != "" && p.Embedded != "":
		return nil, s, errors.New("set either url or embedded, not both")
	case p.Embedded == "demo":
		c, err := demo.New(desc)
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
	}, httpprovider.WithPool(pool))
	if err != nil {
		return nil, s, err
	}
	return c, s, nil
}

// LoadFile reads, parses and builds path.
func LoadFile(path string, getenv func(string) string, opts ...BuildOption) (*Loaded, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return f.Build(getenv, opts...)
}
