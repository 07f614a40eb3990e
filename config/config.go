// Package config is everything Plaza reads from its command line and its
// environment: one Config, parsed and validated in one place before anything
// starts. Every setting is declared once in Settings (name, flag, default,
// description, parser); the help text and the README's configuration table
// are generated from those declarations, and a test keeps the README in step.
package config

import (
	"errors"
	"fmt"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/growth"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/limits"
	"github.com/plaza-gateway/plaza/live"
	"github.com/plaza-gateway/plaza/ratelimit"
	"github.com/plaza-gateway/plaza/telemetry"
	"github.com/plaza-gateway/plaza/traffic"
)

// Env is the deployment environment, PLAZA_ENV.
type Env string

// The two environments. Anything else refuses to start: a typo such as
// "prod" must not silently run with development tokens and keys.
const (
	Development Env = "development"
	Production  Env = "production"
)

// Command is the subcommand the process runs.
type Command string

// The subcommands.
const (
	Serve   Command = "serve"   // run the gateway (the default)
	Token   Command = "token"   // print a development token
	Help    Command = "help"    // print the usage
	Migrate Command = "migrate" // apply the directory's schema migrations
	// ProvidersImport and ProvidersGenerate are `plaza providers import FILE`
	// and `plaza providers generate`: they fill the directory at
	// PLAZA_DATABASE_URL.
	ProvidersImport   Command = "providers import"
	ProvidersGenerate Command = "providers generate"
)

// Config is every setting of the process, typed.
type Config struct {
	Env Env
	// Addr is the public listener; AdminAddr the admin one (pprof and
	// /metrics), "off" for none.
	Addr, AdminAddr string
	// ProvidersFile is the provider registry (YAML); empty: the embedded
	// demo providers, which production refuses.
	ProvidersFile string
	// Redis is the shared Redis; its URL is empty without one.
	Redis Redis
	// ShutdownTimeout bounds in-flight requests on shutdown; DrainDelay is how
	// long /readyz says 503 before the listener closes.
	ShutdownTimeout, DrainDelay time.Duration
	// RequestTimeout bounds one GraphQL request.
	RequestTimeout time.Duration
	// EventRetention bounds how long interaction events are kept.
	EventRetention time.Duration
	// AnalystKeys are the accepted analyst API keys; DevAnalystKey says
	// whether they are the development key (PLAZA_ANALYST_KEYS unset outside
	// production), which the playground's examples then fill in.
	AnalystKeys   *auth.APIKeys
	DevAnalystKey bool
	// CORSOrigins are the browser origins allowed; empty allows localhost
	// origins in development and none in production.
	CORSOrigins []string
	Auth        auth.Settings
	Limits      limits.Config
	Gateway     gateway.Config
	RateLimit   ratelimit.Config
	Tracing     telemetry.TracingConfig
	// DatabaseURL is the PostgreSQL holding the provider directory
	// (`plaza migrate`); empty: none.
	DatabaseURL string
	// MigrateCheck is `plaza migrate --check`: compare, apply nothing.
	MigrateCheck bool
	// MigrateAtStart (PLAZA_MIGRATE=auto, the default) applies the
	// directory's migrations when serve starts with a database.
	MigrateAtStart bool
	// DirectoryKey encrypts providers' signing secrets in the directory
	// (PLAZA_DIRECTORY_KEY); nil without one, and then no secret is stored.
	DirectoryKey *directory.Sealer
	// ImportFile is the registry file of `plaza providers import FILE`.
	ImportFile string
	// Generate holds `plaza providers generate`'s flags.
	Generate Generate
	// RecommendRefit is how often the recommendation engine's parameters
	// are refitted on the gateway's own events; zero switches refitting off.
	RecommendRefit time.Duration
	// SignatureV1Until ends the transition window in which providers' v1
	// signatures (which do not cover the query string) are still accepted;
	// zero refuses v1 now.
	SignatureV1Until time.Time
	// GC says whether the Go runtime's own variables are set (the runtime
	// parses them; gctune only steps aside).
	GC GC
	// TokenUser, TokenTTL and TokenRoles are the token subcommand's.
	TokenUser  string
	TokenTTL   time.Duration
	TokenRoles []string
	// TokenProvider makes the token a provider's (PROVIDER role).
	TokenProvider string
	// PersistedOnly runs only the app's persisted documents
	// (PLAZA_PERSISTED_ONLY).
	PersistedOnly bool
	// RequireApproval keeps a provider that passed certification CERTIFIED
	// until an operator approves it (PLAZA_REQUIRE_APPROVAL).
	RequireApproval bool
	// CertifyConcurrency bounds the certification runs of one instance.
	CertifyConcurrency int
	// IndexLagBound is the supply index's lag (the oldest catalogue pull
	// the instance owes) past which /readyz says degraded.
	IndexLagBound time.Duration
	// RewardPrograms and ServiceLevels configure merchant growth.
	RewardPrograms growth.Programs
	ServiceLevels  growth.Thresholds
	// TrafficRetention is how long traffic roll-ups are kept,
	// TrafficFlush how often an instance applies its roll-up, and
	// TrafficLowResults the most results a low-result search finds.
	TrafficRetention  time.Duration
	TrafficFlush      time.Duration
	TrafficLowResults int
	// Subscriptions caps subscriptions per user and per connection on one
	// instance and sizes each subscriber's buffer; SubscriptionIdle closes
	// a subscriber that missed keep-alives that long.
	Subscriptions    live.Limits
	SubscriptionIdle time.Duration
	// DemoStatusStep is how long an embedded demo provider's order or
	// booking stays in one status before it moves on (PLACED → PICKING →
	// OUT_FOR_DELIVERY → DELIVERED takes three steps).
	DemoStatusStep time.Duration

	given   map[string]bool // settings given explicitly (env or flag), by key
	tracing [3]string       // the three OTLP endpoint variables, in precedence order
}

// Production reports whether the production rules apply.
func (c Config) Production() bool { return c.Env == Production }

// LogJSON reports whether logs are JSON (production) rather than text.
func (c Config) LogJSON() bool { return c.Production() }

// Generate is what `plaza providers generate` makes: Count synthetic
// providers of Seed; Endpoints point verticals at demo-provider processes
// (round-robin), which all sign with Secret.
type Generate struct {
	Count     int
	Seed      int64
	Endpoints map[connectors.Vertical][]string
	Secret    string
	// ItemsPerProvider is how many catalogue items each synthetic provider
	// publishes into the supply index (through the catalogue contract).
	ItemsPerProvider int
}

// GC holds the Go runtime's garbage-collector variables as given.
type GC struct{ GOGC, GOMEMLIMIT string }

// Getenv answers gctune.Apply's questions from the configuration.
func (g GC) Getenv(name string) string {
	switch name {
	case "GOGC":
		return g.GOGC
	case "GOMEMLIMIT":
		return g.GOMEMLIMIT
	}
	return ""
}

// Redis is the shared Redis: a redis:// URL, or comma-separated host:port
// seeds of a Cluster.
type Redis struct{ URL string }

// Options returns the client options; Load has checked the URL.
func (r Redis) Options() *redis.UniversalOptions {
	if strings.Contains(r.URL, "://") {
		opt, err := redis.ParseURL(r.URL)
		if err != nil { // checked by Load
			return &redis.UniversalOptions{}
		}
		// The URL's connection and pool parameters too (?pool_size=64&pool_timeout=2s, as go-redis's ParseURL reads
		// them): go-redis's default pool is 10 connections per GOMAXPROCS, 10 for a gateway pinned to one core.
		return &redis.UniversalOptions{Addrs: []string{opt.Addr}, DB: opt.DB, Username: opt.Username,
			Password: opt.Password, TLSConfig: opt.TLSConfig, ClientName: opt.ClientName, Protocol: opt.Protocol,
			MaxRetries: opt.MaxRetries, MinRetryBackoff: opt.MinRetryBackoff, MaxRetryBackoff: opt.MaxRetryBackoff,
			DialTimeout: opt.DialTimeout, ReadTimeout: opt.ReadTimeout, WriteTimeout: opt.WriteTimeout,
			PoolFIFO: opt.PoolFIFO, PoolSize: opt.PoolSize, PoolTimeout: opt.PoolTimeout,
			MinIdleConns: opt.MinIdleConns, MaxIdleConns: opt.MaxIdleConns, MaxActiveConns: opt.MaxActiveConns,
			ConnMaxIdleTime: opt.ConnMaxIdleTime, ConnMaxLifetime: opt.ConnMaxLifetime}
	}
	return &redis.UniversalOptions{Addrs: strings.Split(r.URL, ",")}
}

// Redacted is the URL with any password hidden, for logs.
func (r Redis) Redacted() string {
	s := r.URL
	if at := strings.LastIndex(s, "@"); at >= 0 {
		if scheme := strings.Index(s, "://"); scheme >= 0 && scheme < at {
			return s[:scheme+3] + "***" + s[at:]
		}
	}
	return s
}

func parseRedis(s string) (Redis, error) {
	if strings.Contains(s, "://") {
		if _, err := redis.ParseURL(s); err != nil {
			var ue *url.Error // its text repeats the URL, password included
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return Redis{}, err
		}
		return Redis{URL: s}, nil
	}
	for _, addr := range strings.Split(s, ",") {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return Redis{}, fmt.Errorf("want a redis:// URL or comma-separated host:port addresses: %w", err)
		}
	}
	return Redis{URL: s}, nil
}

// Default is the configuration with nothing set (development).
func Default() Config {
	return Config{
		Env:              Development,
		Addr:             ":8080",
		AdminAddr:        telemetry.DefaultAdminAddr,
		ShutdownTimeout:  15 * time.Second,
		RequestTimeout:   10 * time.Second,
		EventRetention:   events.DefaultRetention,
		Auth:             auth.Settings{Leeway: auth.DefaultLeeway},
		Limits:           limits.DefaultConfig(),
		Gateway:          gateway.DefaultConfig(),
		RateLimit:        ratelimit.DefaultConfig(),
		Tracing:          telemetry.TracingConfig{ServiceName: "plaza", SampleRatio: 1},
		TokenTTL:         24 * time.Hour,
		SignatureV1Until: httpprovider.DefaultV1Until,
		RecommendRefit:   6 * time.Hour,
		Generate:         Generate{Seed: 1, ItemsPerProvider: 20},
		MigrateAtStart:   true,
		// Two runs at once: each is a few dozen calls to one provider, and
		// registrations arrive one by one.
		CertifyConcurrency: 2,
		// A pull is retried for about 30 s before it is given up: a lag
		// past that means the index or the providers are failing.
		IndexLagBound:     30 * time.Second,
		RewardPrograms:    growth.DefaultPrograms,
		ServiceLevels:     growth.DefaultThresholds,
		TrafficRetention:  traffic.Retention,
		TrafficFlush:      traffic.DefaultFlush,
		TrafficLowResults: traffic.DefaultLowResults,
		Subscriptions:     live.Limits{PerUser: 50, PerConnection: 20, Buffer: live.DefaultBuffer},
		SubscriptionIdle:  60 * time.Second,
		DemoStatusStep:    30 * time.Second,
	}
}

// Error is a setting that could not be used: which one, the value given and
// why. Load returns it for every malformed value.
type Error struct {
	Setting string // PLAZA_MAX_DEPTH or --addr
	Value   string
	Reason  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s=%q: %s", e.Setting, e.Value, e.Reason) }

// shown is how a value appears in an error: secrets never do, and a URL
// without its password.
func shown(s Setting, v string) string {
	switch {
	case s.secret:
		return "***"
	case s.Env == "REDIS_URL":
		return Redis{URL: v}.Redacted()
	}
	return v
}

// UsageError is a command line that names no known subcommand or has
// arguments left over; the process prints the usage and exits 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ErrHelp is returned when the command line asks for help.
var ErrHelp = errors.New("help requested")

// finish fills the defaults that depend on other settings and checks the
// rules that span settings, for cmd.
func (c *Config) finish(cmd Command) error {
	prod := c.Production()
	if !c.given["PLAZA_DRAIN_DELAY"] && prod {
		// Long enough for a load balancer's health check (typically every
		// 1-2 s, 2 failures) to notice before connections are refused.
		c.DrainDelay = 5 * time.Second
	}
	for _, endpoint := range c.tracing { // the first set wins
		if endpoint != "" {
			c.Tracing.Endpoint = endpoint
			break
		}
	}
	if c.AnalystKeys == nil {
		if !prod {
			c.AnalystKeys, _ = auth.ParseAPIKeys(auth.DevAnalystKey)
			c.DevAnalystKey = true
		} else {
			c.AnalystKeys, _ = auth.ParseAPIKeys("")
		}
	}
	if cmd != Serve && cmd != Token {
		// The other subcommands verify no token: the auth rules are not theirs.
		return c.finishProviders(cmd)
	}
	a := &c.Auth
	switch {
	case a.JWKSURL != "" && a.JWKSFile != "":
		return errors.New("set PLAZA_JWKS_URL or PLAZA_JWKS_FILE, not both")
	case a.Secret != "" && prod && len(a.Secret) < auth.MinProductionSecret:
		return &Error{Setting: "PLAZA_JWT_SECRET", Value: "***",
			Reason: fmt.Sprintf("production needs at least %d bytes", auth.MinProductionSecret)}
	case a.Secret == "" && !prod:
		a.Secret = auth.DevSecret
	case prod && a.Secret == "" && a.JWKSURL == "" && a.JWKSFile == "":
		return errors.New("PLAZA_ENV=production needs PLAZA_JWKS_URL or PLAZA_JWKS_FILE (RS256), or an explicit PLAZA_JWT_SECRET (HS256)")
	}
	switch cmd {
	case Serve:
		if c.ProvidersFile != "" && c.DatabaseURL != "" {
			return errors.New("set PLAZA_CONFIG or PLAZA_DATABASE_URL, not both: with a database the gateway serves the directory " +
				"(load the file into it with plaza providers import)")
		}
		if prod && c.ProvidersFile == "" && c.DatabaseURL == "" {
			return errors.New("PLAZA_ENV=production needs a provider registry (PLAZA_CONFIG or --config) or a directory (PLAZA_DATABASE_URL): " +
				"the embedded demo providers' webhook secrets are public")
		}
	case Token:
		switch {
		case c.TokenProvider != "" && len(c.TokenRoles) > 0:
			return &UsageError{Msg: "token: --provider makes a provider's token, which carries no --role"}
		case c.TokenProvider != "" && c.TokenUser == "":
			c.TokenUser = "dev-" + c.TokenProvider // the developer signed in for it
		case c.TokenUser == "":
			return &UsageError{Msg: "token: --user is required, e.g. --user demo-1 (or --provider freshcart for a provider's token)"}
		}
	}
	return nil
}

// finishProviders checks the providers subcommands' arguments.
func (c *Config) finishProviders(cmd Command) error {
	switch cmd {
	case ProvidersImport:
		if c.ImportFile == "" {
			return &UsageError{Msg: "providers import: name the registry file, e.g. plaza providers import plaza.yaml"}
		}
	case ProvidersGenerate:
		if !c.given["--count"] {
			return &UsageError{Msg: "providers generate: --count is required, e.g. --count 10000"}
		}
		if c.Generate.Secret != "" && len(c.Generate.Endpoints) == 0 {
			return &UsageError{Msg: "providers generate: --secret signs the calls to --endpoint providers; give an --endpoint"}
		}
	}
	return nil
}

// tracingVars are the OTLP endpoint variables; the first set wins.
var tracingVars = [3]string{"PLAZA_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"}
