package config

import (
	"errors"
	"fmt"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/growth"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/providers"
	"github.com/plaza-gateway/plaza/ratelimit"
	"github.com/plaza-gateway/plaza/supply"
	"github.com/plaza-gateway/plaza/telemetry"
)

// Kind is what a setting's value looks like.
type Kind string

// The kinds of value.
const (
	Text     Kind = "text"
	Integer  Kind = "integer"
	Duration Kind = "duration"
	Number   Kind = "number"
	List     Kind = "list"
)

// Setting declares one value of the configuration: its environment variable,
// its flag, or both (the flag wins), its default as shown to operators, its
// description and its parser.
type Setting struct {
	Env      string    // environment variable; empty for a flag-only setting
	Flag     string    // command-line flag without dashes; empty for none
	Commands []Command // subcommands whose flags include it (the environment applies to all)
	Kind     Kind
	Default  string // as the help text and the README show it
	Usage    string
	set      func(c *Config, v string) error // parses v into c; the error says why, Load names the setting
	secret   bool                            // never shown in an error
	boolFlag bool                            // a flag that takes no value (--check)
}

// key identifies a setting: its variable, else its flag.
func (s Setting) key() string {
	if s.Env != "" {
		return s.Env
	}
	return "--" + s.Flag
}

// Settings are the declarations, in the order the help text and the README
// list them.
var Settings = []Setting{
	{Env: "PLAZA_ENV", Kind: Text, Default: "development", Commands: nil,
		Usage: "`development` or `production` (the production rules: see \"Security settings\"); anything else refuses to start",
		set: func(c *Config, v string) error {
			switch Env(v) {
			case Development, Production:
				c.Env = Env(v)
				return nil
			}
			return fmt.Errorf("want %s or %s", Development, Production)
		}},
	textSetting("PLAZA_ADDR", "addr", ":8080", "public listen address", serveOnly, func(c *Config) *string { return &c.Addr }),
	textSetting("PLAZA_ADMIN_ADDR", "", telemetry.DefaultAdminAddr, "admin listener (pprof, /metrics); `off` disables", nil,
		func(c *Config) *string { return &c.AdminAddr }),
	textSetting("PLAZA_CONFIG", "config", "embedded demo providers", "provider registry file (YAML); required in production", serveOnly,
		func(c *Config) *string { return &c.ProvidersFile }),
	{Env: "REDIS_URL", Kind: Text, Default: "none (in-process)",
		Usage: "shared Redis: a `redis://` URL (with go-redis's connection parameters, e.g. `?pool_size=64`; the default pool is 10 connections per CPU the gateway may use), or comma-separated `host:port` seeds of a Cluster",
		set: func(c *Config, v string) (err error) {
			c.Redis, err = parseRedis(v)
			return err
		}},
	durationSetting("", "shutdown-timeout", "15s", "how long in-flight requests may finish on shutdown", serveOnly, positive,
		func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
	durationSetting("PLAZA_DRAIN_DELAY", "drain-delay", "5s in production, 0 otherwise",
		"on shutdown, how long /readyz reports 503 before the listener closes", serveOnly, nonNegative,
		func(c *Config) *time.Duration { return &c.DrainDelay }),
	durationSetting("PLAZA_REQUEST_TIMEOUT", "", "10s", "bound on one GraphQL request", nil, positive,
		func(c *Config) *time.Duration { return &c.RequestTimeout }),
	durationSetting("PLAZA_EVENT_RETENTION", "", "2160h", "how long interaction events are kept (90 days by default)", nil, positive,
		func(c *Config) *time.Duration { return &c.EventRetention }),
	{Env: "PLAZA_ANALYST_KEYS", Kind: List, secret: true, Default: "`dev-analyst-key` in development, none in production",
		Usage: "analysts' API keys: comma-separated `key` or `key:scope1+scope2` (keys of 12+ characters)",
		set: func(c *Config, v string) (err error) {
			c.AnalystKeys, err = auth.ParseAPIKeys(v)
			return err
		}},
	{Env: "PLAZA_CORS_ORIGINS", Kind: List, Default: "localhost in development, none in production",
		Usage: "comma-separated browser origins allowed to call the API",
		set: func(c *Config, v string) error {
			c.CORSOrigins = nil
			for o := range strings.SplitSeq(v, ",") {
				if o = strings.TrimSpace(o); o != "" {
					c.CORSOrigins = append(c.CORSOrigins, o)
				}
			}
			return nil
		}},
	textSetting("PLAZA_JWKS_URL", "", "unset", "RS256 user tokens verified against this JSON Web Key Set", nil,
		func(c *Config) *string { return &c.Auth.JWKSURL }),
	textSetting("PLAZA_JWKS_FILE", "", "unset", "the same from a file (not both)", nil, func(c *Config) *string { return &c.Auth.JWKSFile }),
	secretSetting(textSetting("PLAZA_JWT_SECRET", "", "dev secret in development", "HS256 secret; production needs 32+ bytes", nil,
		func(c *Config) *string { return &c.Auth.Secret })),
	textSetting("PLAZA_JWT_ISSUER", "", "unset (not checked)", "required `iss` claim", nil, func(c *Config) *string { return &c.Auth.Issuer }),
	textSetting("PLAZA_JWT_AUDIENCE", "", "unset (not checked)", "required `aud` claim", nil, func(c *Config) *string { return &c.Auth.Audience }),
	durationSetting("PLAZA_JWT_LEEWAY", "", "30s", "clock skew tolerated on `exp`, `nbf`, `iat`", nil, nonNegative,
		func(c *Config) *time.Duration { return &c.Auth.Leeway }),
	limitSetting("PLAZA_MAX_BODY_BYTES", "1048576", "request body bytes", func(c *Config, v int64) { c.Limits.MaxBodyBytes = v }),
	limitSetting("PLAZA_MAX_VARIABLES_BYTES", "65536", "bytes of `variables` JSON", func(c *Config, v int64) { c.Limits.MaxVariablesBytes = int(v) }),
	limitSetting("PLAZA_MAX_TOKENS", "2000", "parser tokens per document", func(c *Config, v int64) { c.Limits.MaxTokens = int(v) }),
	limitSetting("PLAZA_MAX_DEPTH", "12", "query depth", func(c *Config, v int64) { c.Limits.MaxDepth = int(v) }),
	limitSetting("PLAZA_MAX_ALIASES", "30", "aliases per operation", func(c *Config, v int64) { c.Limits.MaxAliases = int(v) }),
	limitSetting("PLAZA_MAX_ROOT_FIELDS", "20", "root fields per operation", func(c *Config, v int64) { c.Limits.MaxRootFields = int(v) }),
	limitSetting("PLAZA_MAX_OPERATIONS", "5", "operations per document", func(c *Config, v int64) { c.Limits.MaxOperations = int(v) }),
	limitSetting("PLAZA_MAX_FIELD_REPEATS", "16", "repeats of one field in a selection", func(c *Config, v int64) { c.Limits.MaxFieldRepeats = int(v) }),
	limitSetting("PLAZA_MAX_COMPLEXITY", "5000", "operation complexity", func(c *Config, v int64) { c.Limits.MaxComplexity = int(v) }),
	limitSetting("PLAZA_MAX_INFLIGHT", "32 per CPU", "operations executing at once, weighted by complexity", func(c *Config, v int64) { c.Limits.MaxInFlight = int(v) }),
	limitSetting("PLAZA_MAX_BATCH", "10", "operations in one batched request (a JSON array)", func(c *Config, v int64) { c.Limits.MaxBatch = int(v) }),
	limitSetting("PLAZA_MAX_BATCH_COMPLEXITY", "10000", "total complexity of a batch's operations", func(c *Config, v int64) { c.Limits.MaxBatchComplexity = int(v) }),
	durationSetting("PLAZA_BODY_READ_TIMEOUT", "", "10s", "limit: time to read one request's body (a slow body gets 408); negative: no limit", nil, nonZero,
		func(c *Config) *time.Duration { return &c.Limits.BodyReadTimeout }),
	sizeSetting("PLAZA_MAX_FIRST", "100", "`first` on any connection", func(c *Config) *int { return &c.Gateway.MaxFirst }),
	{Env: "PLAZA_SEARCH_CANDIDATES", Kind: Integer, Default: strconv.Itoa(gateway.IndexCandidates),
		Usage: "how many of the supply index's best matches a search re-ranks (two-stage ranking's depth): deeper ranks more items by " +
			"popularity, affinity and diversity, and costs CPU in every search over a large index (README, \"Re-ranking depth\")",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < gateway.MinIndexCandidates || n > supply.MaxFirst {
				return fmt.Errorf("want an integer from %d to %d", gateway.MinIndexCandidates, supply.MaxFirst)
			}
			c.Gateway.IndexCandidates = n
			return nil
		}},
	sizeSetting("PLAZA_MAX_IDS", "100", "ids in `nodes(ids:)` and items per order", func(c *Config) *int { return &c.Gateway.MaxIDs }),
	sizeSetting("PLAZA_SUBSCRIPTIONS_PER_USER", "50", "open subscriptions of one user on one instance (over all their connections)",
		func(c *Config) *int { return &c.Subscriptions.PerUser }),
	sizeSetting("PLAZA_SUBSCRIPTIONS_PER_CONNECTION", "20", "subscriptions on one websocket", func(c *Config) *int { return &c.Subscriptions.PerConnection }),
	sizeSetting("PLAZA_SUBSCRIPTION_BUFFER", "16", "status updates a subscriber may have waiting; one more and it is dropped as too slow",
		func(c *Config) *int { return &c.Subscriptions.Buffer }),
	durationSetting("PLAZA_SUBSCRIPTION_IDLE_TIMEOUT", "", "60s", "limit: a websocket that answered no keep-alive ping, or an SSE stream not read, for this long is closed "+
		"(websocket pings go out every half of it, SSE keep-alive comments every third)", nil, positive, func(c *Config) *time.Duration { return &c.SubscriptionIdle }),
	durationSetting("PLAZA_DEMO_STATUS_STEP", "", "30s", "how long an embedded demo provider's new order or booking stays in each status before it moves on "+
		"(an order reaches DELIVERED after three steps)", nil, positive, func(c *Config) *time.Duration { return &c.DemoStatusStep }),
	rateSetting("PLAZA_RATE_USER", "20/s:40", "rate limit per signed-in user: `RATE/UNIT[:BURST]` or `off`", func(c *Config) *ratelimit.Limit { return &c.RateLimit.User }),
	rateSetting("PLAZA_RATE_IP", "50/s:100", "rate limit per client address", func(c *Config) *ratelimit.Limit { return &c.RateLimit.IP }),
	rateSetting("PLAZA_RATE_KEY", "10/s:20", "rate limit per analyst API key", func(c *Config) *ratelimit.Limit { return &c.RateLimit.Key }),
	rateSetting("PLAZA_RATE_APQ", "100/h:50", "persisted-query registrations per caller (each stores a document for a day)", func(c *Config) *ratelimit.Limit { return &c.RateLimit.Register }),
	{Env: "PLAZA_PERSISTED_ONLY", Kind: Text, Default: "false",
		Usage: "`true`: run only the app's persisted operations (sent by hash, built with the app in web/); any other operation gets 400 PERSISTED_QUERY_NOT_ALLOWED, except an analyst's",
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("want true or false")
			}
			c.PersistedOnly = b
			return nil
		}},
	secretSetting(textSetting("PLAZA_DATABASE_URL", "", "unset", "PostgreSQL URL of the provider directory: the gateway serves its ACTIVE providers "+
		"(instead of the demo providers or PLAZA_CONFIG); `plaza migrate` and `plaza providers` fill it", nil,
		func(c *Config) *string { return &c.DatabaseURL })),
	{Env: "PLAZA_MIGRATE", Kind: Text, Default: "auto",
		Usage: "with PLAZA_DATABASE_URL: `auto` applies the directory's migrations at start-up (instances take turns), `off` skips them",
		set: func(c *Config, v string) error {
			switch v {
			case "auto", "off":
				c.MigrateAtStart = v == "auto"
				return nil
			}
			return errors.New("want auto or off")
		}},
	{Env: "PLAZA_DIRECTORY_KEY", Kind: Text, secret: true, Default: "unset (no secret may be stored)",
		Usage: "key that encrypts providers' signing secrets in the directory: base64 of 32 random bytes (`openssl rand -base64 32`)",
		set: func(c *Config, v string) (err error) {
			c.DirectoryKey, err = directory.ParseSealerKey(v)
			return err
		}},
	{Flag: "check", Commands: []Command{Migrate}, Kind: Text, Default: "false",
		Usage: "migrate: only compare the schema with this binary's migrations; apply nothing", boolFlag: true,
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("want true or false")
			}
			c.MigrateCheck = b
			return nil
		}},
	{Flag: "count", Commands: []Command{ProvidersGenerate}, Kind: Integer, Default: "",
		Usage: "providers generate: how many synthetic providers the directory holds (required)",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return errors.New("want a positive integer")
			}
			c.Generate.Count = n
			return nil
		}},
	{Flag: "seed", Commands: []Command{ProvidersGenerate}, Kind: Integer, Default: "1",
		Usage: "providers generate: the same seed and count give the same providers",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errors.New("want an integer")
			}
			c.Generate.Seed = n
			return nil
		}},
	{Flag: "items-per-provider", Commands: []Command{ProvidersGenerate}, Kind: Integer, Default: "20",
		Usage: "providers generate: catalogue items each synthetic provider publishes into the supply index, through the catalogue contract (0: none)",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1000 {
				return errors.New("want an integer from 0 to 1000")
			}
			c.Generate.ItemsPerProvider = n
			return nil
		}},
	{Flag: "endpoint", Commands: []Command{ProvidersGenerate}, Kind: List, Default: "none (served in process)",
		Usage: "providers generate: `VERTICAL=URL`, repeatable: that vertical's providers call these demo-provider processes, round-robin",
		set: func(c *Config, v string) error {
			vert, u, ok := strings.Cut(v, "=")
			if !ok || u == "" {
				return errors.New("want VERTICAL=URL, e.g. grocery=http://127.0.0.1:9101")
			}
			vertical, err := providers.ParseVertical(vert)
			if err != nil {
				return err
			}
			if c.Generate.Endpoints == nil {
				c.Generate.Endpoints = map[connectors.Vertical][]string{}
			}
			c.Generate.Endpoints[vertical] = append(c.Generate.Endpoints[vertical], u)
			return nil
		}},
	secretSetting(textSetting("", "secret", "", "providers generate: the secret every --endpoint provider signs with (needs PLAZA_DIRECTORY_KEY)",
		[]Command{ProvidersGenerate}, func(c *Config) *string { return &c.Generate.Secret })),
	{Env: "PLAZA_RECOMMEND_REFIT", Kind: Duration, Default: "6h",
		Usage: "how often the recommendation engine's parameters are refitted on the gateway's own events (one instance at a time); `off` disables",
		set: func(c *Config, v string) error {
			if v == "off" {
				c.RecommendRefit = 0
				return nil
			}
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return errors.New("want a positive duration such as 6h, or off")
			}
			c.RecommendRefit = d
			return nil
		}},
	{Env: "PLAZA_SIGNATURE_V1_UNTIL", Kind: Text, Default: httpprovider.DefaultV1Until.Format(time.RFC3339),
		Usage: "end of the window in which providers' v1 signatures (not covering the query string) are accepted: an RFC 3339 time, or `none` to refuse v1 now",
		set: func(c *Config, v string) error {
			t, err := httpprovider.ParseV1Until(v)
			if err != nil {
				return errors.New("want an RFC 3339 time such as 2027-03-01T00:00:00Z, or none")
			}
			c.SignatureV1Until = t
			return nil
		}},
	{Env: "PLAZA_TRUSTED_PROXIES", Kind: List, Default: "none",
		Usage: "comma-separated addresses or CIDRs whose `X-Forwarded-For` is believed",
		set: func(c *Config, v string) (err error) {
			c.RateLimit.TrustedProxies, err = ratelimit.ParseTrustedProxies(v)
			return err
		}},
	endpointSetting(0, "OTLP/HTTP collector URL or full traces URL: turns tracing on", false),
	endpointSetting(1, "full OTLP traces URL (used when PLAZA_OTLP_ENDPOINT is unset)", false),
	endpointSetting(2, "OTLP collector base URL, `/v1/traces` appended (used when the two above are unset)", true),
	textSetting("OTEL_SERVICE_NAME", "", "plaza", "`service.name` of the spans", nil, func(c *Config) *string { return &c.Tracing.ServiceName }),
	{Env: "PLAZA_TRACE_SAMPLE_RATIO", Kind: Number, Default: "1",
		Usage: "share of new traces recorded, 0 to 1 (a sampled `traceparent` is always followed)",
		set: func(c *Config, v string) error {
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || r < 0 || r > 1 {
				return fmt.Errorf("want a number in [0, 1]")
			}
			c.Tracing.SampleRatio = r
			return nil
		}},
	textSetting("GOGC", "", "200", "Go runtime: garbage collector target (parsed by the runtime; Plaza's default applies when unset)", nil,
		func(c *Config) *string { return &c.GC.GOGC }),
	textSetting("GOMEMLIMIT", "", "90% of the cgroup limit, else 32 MiB + 48 MiB per CPU", "Go runtime: soft memory limit (parsed by the runtime)", nil,
		func(c *Config) *string { return &c.GC.GOMEMLIMIT }),
	textSetting("", "user", "", "the user the token is for, e.g. demo-1 (required without --provider)", []Command{Token}, func(c *Config) *string { return &c.TokenUser }),
	textSetting("", "provider", "", "token: a provider's token (role PROVIDER) for this provider id, e.g. freshcart; --user then names its developer (default dev-ID)",
		[]Command{Token}, func(c *Config) *string { return &c.TokenProvider }),
	durationSetting("", "ttl", "24h", "how long the token is valid", []Command{Token}, positive, func(c *Config) *time.Duration { return &c.TokenTTL }),
	{Flag: "role", Commands: []Command{Token}, Kind: Text, Default: "none (an app user)",
		Usage: "a role the token grants: `OPERATOR` runs the provider directory (registers, approves, suspends providers)",
		set: func(c *Config, v string) error {
			r := strings.ToUpper(strings.TrimSpace(v))
			if !slices.Contains(auth.TokenRoles, r) {
				return fmt.Errorf("want one of %s", strings.Join(auth.TokenRoles, ", "))
			}
			if !slices.Contains(c.TokenRoles, r) {
				c.TokenRoles = append(c.TokenRoles, r)
			}
			return nil
		}},
	{Env: "PLAZA_REQUIRE_APPROVAL", Kind: Text, Default: "false",
		Usage: "`true`: a provider that passes certification waits as CERTIFIED until an operator approves it; `false`: it becomes ACTIVE at once (without a sandbox endpoint an operator must always approve)",
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("want true or false")
			}
			c.RequireApproval = b
			return nil
		}},
	{Env: "PLAZA_REWARD_PROGRAMS", Kind: Text, Default: "per-order=100,first-order=500,monthly-ok=10000,currency=CNY",
		Usage: "providers' reward programs, amounts in minor units (0 turns one off): `per-order` for each completed order, `first-order` for a user's first with the provider, `monthly-ok` for a month spent OK",
		set: func(c *Config, v string) (err error) {
			c.RewardPrograms, err = growth.ParsePrograms(v)
			return err
		}},
	{Env: "PLAZA_SERVICE_LEVELS", Kind: Text, Default: "window=15m,min-calls=20,slow-call=2s,warning-errors=0.02,demoted-errors=0.1,suspended-errors=0.5,warning-slow=0.01,demoted-slow=0.05," +
		"cancel-window=24h,min-orders=10,warning-cancels=0.1,demoted-cancels=0.25,stale-catalog=48h,demoted-catalog=168h,failed-conformance=DEMOTED",
		Usage: "service-level thresholds: error-and-timeout rates and shares of calls over `slow-call` (over `window`), cancellation rates (over `cancel-window`, from `min-orders`), a catalogue not indexed for `stale-catalog`/`demoted-catalog` (0 off), and the state a failed conformance run gives (OK off), from which a provider is WARNING, DEMOTED or SUSPENDED",
		set: func(c *Config, v string) (err error) {
			c.ServiceLevels, err = growth.ParseThresholds(v)
			return err
		}},
	{Env: "PLAZA_CERTIFY_CONCURRENCY", Kind: Integer, Default: "2",
		Usage: "certification runs (the conformance kit against a newly registered provider) at once, per instance",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 64 {
				return errors.New("want an integer from 1 to 64")
			}
			c.CertifyConcurrency = n
			return nil
		}},
	durationSetting("PLAZA_INDEX_LAG_BOUND", "", "30s",
		"supply index lag (the oldest catalogue pull an instance owes) past which /readyz says degraded", serveOnly, positive,
		func(c *Config) *time.Duration { return &c.IndexLagBound }),
	// Providers' traffic roll-ups (issue 18).
	durationSetting("PLAZA_TRAFFIC_RETENTION", "", "9600h",
		"how long providers' traffic roll-ups are kept (9600h: 400 days, a year and a month, so the portal's year view is whole); older days are deleted daily",
		serveOnly, durationCheck{func(d time.Duration) bool { return d >= 24*time.Hour }, "want a duration of at least 24h, such as 9600h (400 days)"},
		func(c *Config) *time.Duration { return &c.TrafficRetention }),
	durationSetting("PLAZA_TRAFFIC_FLUSH", "", "5s",
		"how often an instance adds its traffic roll-up to the shared store (one transaction per interval, whatever the traffic; what a crash can lose)",
		serveOnly, durationCheck{func(d time.Duration) bool { return d >= 100*time.Millisecond && d <= 10*time.Minute }, "want a duration from 100ms to 10m, such as 5s"},
		func(c *Config) *time.Duration { return &c.TrafficFlush }),
	{Env: "PLAZA_TRAFFIC_LOW_RESULTS", Kind: Integer, Default: "3",
		Usage: "the most results a search may find and still count as a low-result search in providers' demand (0 results count as zero-result)",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				return errors.New("want an integer from 1 to 1000")
			}
			c.TrafficLowResults = n
			return nil
		}},
}

var serveOnly = []Command{Serve}

func textSetting(env, flag, def, usage string, cmds []Command, field func(*Config) *string) Setting {
	return Setting{Env: env, Flag: flag, Commands: cmds, Kind: Text, Default: def, Usage: usage,
		set: func(c *Config, v string) error { *field(c) = v; return nil }}
}

func secretSetting(s Setting) Setting { s.secret = true; return s }

type durationCheck struct {
	ok     func(time.Duration) bool
	reason string
}

var (
	positive    = durationCheck{func(d time.Duration) bool { return d > 0 }, "want a positive duration such as 10s"}
	nonZero     = durationCheck{func(d time.Duration) bool { return d != 0 }, "want a duration such as 10s (negative disables the check)"}
	nonNegative = durationCheck{func(d time.Duration) bool { return d >= 0 }, "want a non-negative duration such as 5s"}
)

func durationSetting(env, flag, def, usage string, cmds []Command, check durationCheck, field func(*Config) *time.Duration) Setting {
	return Setting{Env: env, Flag: flag, Commands: cmds, Kind: Duration, Default: def, Usage: usage,
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || !check.ok(d) {
				return fmt.Errorf("%s", check.reason)
			}
			*field(c) = d
			return nil
		}}
}

// limitSetting is a request limit (limits.Config): any integer, a negative
// one turning the check off.
func limitSetting(env, def, what string, set func(*Config, int64)) Setting {
	return Setting{Env: env, Kind: Integer, Default: def, Usage: "limit: " + what + " (negative: no limit)",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("want an integer (negative disables the check)")
			}
			set(c, n)
			return nil
		}}
}

// sizeSetting is a size bound of the gateway: a positive integer.
func sizeSetting(env, def, what string, field func(*Config) *int) Setting {
	return Setting{Env: env, Kind: Integer, Default: def, Usage: "limit: " + what,
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return fmt.Errorf("want a positive integer")
			}
			*field(c) = n
			return nil
		}}
}

func rateSetting(env, def, usage string, field func(*Config) *ratelimit.Limit) Setting {
	return Setting{Env: env, Kind: Text, Default: def, Usage: usage,
		set: func(c *Config, v string) (err error) {
			*field(c), err = ratelimit.ParseLimit(v)
			return err
		}}
}

func endpointSetting(i int, usage string, base bool) Setting {
	return Setting{Env: tracingVars[i], Kind: Text, Default: "unset (tracing off)", Usage: usage,
		set: func(c *Config, v string) (err error) {
			c.tracing[i], err = telemetry.TracesURL(v, base)
			return err
		}}
}
