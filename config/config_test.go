package config_test

import (
	"encoding/base64"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/config"
	"github.com/plaza-gateway/plaza/connectors"
)

var update = flag.Bool("update", false, "rewrite the README's configuration table from the declarations")

func load(tb testing.TB, env map[string]string, args ...string) (config.Command, config.Config, error) {
	tb.Helper()
	return config.Load(args, func(k string) string { return env[k] })
}

func mustLoad(tb testing.TB, env map[string]string, args ...string) config.Config {
	tb.Helper()
	_, c, err := load(tb, env, args...)
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return c
}

var longSecret = strings.Repeat("s", auth.MinProductionSecret)

// production is the smallest environment production accepts.
func production(extra map[string]string) map[string]string {
	env := map[string]string{"PLAZA_ENV": "production", "PLAZA_CONFIG": "/etc/plaza/plaza.yaml", "PLAZA_JWT_SECRET": longSecret}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func TestLoad(t *testing.T) {
	t.Run("nothing set is development with the documented defaults", func(t *testing.T) {
		c := mustLoad(t, nil)
		d := config.Default()
		if c.Env != config.Development || c.Addr != ":8080" || c.AdminAddr != "127.0.0.1:6060" || c.DrainDelay != 0 ||
			c.Limits != d.Limits || c.Gateway != d.Gateway || c.RateLimit.User != d.RateLimit.User ||
			c.Auth.Secret != auth.DevSecret || c.Auth.Leeway != auth.DefaultLeeway || !c.DevAnalystKey || c.Tracing.Endpoint != "" {
			t.Fatalf("%+v", c)
		}
		if _, ok := c.AnalystKeys.Lookup(auth.DevAnalystKey); !ok {
			t.Error("the development analyst key is not accepted in development")
		}
	})
	t.Run("each kind of variable is read into its typed field", func(t *testing.T) {
		c := mustLoad(t, map[string]string{
			"PLAZA_ADDR": "127.0.0.1:9", "PLAZA_MAX_DEPTH": "7", "PLAZA_MAX_COMPLEXITY": "-1", "PLAZA_MAX_BODY_BYTES": "8388608",
			"PLAZA_MAX_IDS": "1000", "PLAZA_MAX_FIRST": "50", "PLAZA_SEARCH_CANDIDATES": "200", "PLAZA_REQUEST_TIMEOUT": "3s", "PLAZA_JWT_LEEWAY": "5s",
			"PLAZA_RATE_USER": "5/s", "PLAZA_RATE_IP": "3000/m:100", "PLAZA_RATE_KEY": "off",
			"PLAZA_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1", "PLAZA_CORS_ORIGINS": "https://a.example, https://b.example",
			"PLAZA_TRACE_SAMPLE_RATIO": "0.25", "PLAZA_ANALYST_KEYS": "k3y-for-bi-123:analytics", "REDIS_URL": "redis://127.0.0.1:6379/2",
		})
		if c.Addr != "127.0.0.1:9" || c.Limits.MaxDepth != 7 || c.Limits.MaxComplexity != -1 || c.Limits.MaxBodyBytes != 8<<20 ||
			c.Gateway.MaxIDs != 1000 || c.Gateway.MaxFirst != 50 || c.Gateway.IndexCandidates != 200 || c.RequestTimeout != 3*time.Second || c.Auth.Leeway != 5*time.Second ||
			c.RateLimit.User.String() != "5/s:5" || c.RateLimit.IP.String() != "3000/m:100" || c.RateLimit.Key.Enabled() ||
			len(c.RateLimit.TrustedProxies) != 2 || !reflect.DeepEqual(c.CORSOrigins, []string{"https://a.example", "https://b.example"}) ||
			c.Tracing.SampleRatio != 0.25 || c.DevAnalystKey || c.Redis.Options().DB != 2 {
			t.Fatalf("%+v", c)
		}
		if _, ok := c.AnalystKeys.Lookup(auth.DevAnalystKey); ok {
			t.Error("the development key is accepted although keys are configured")
		}
	})
	t.Run("the Redis URL's connection parameters reach the client", func(t *testing.T) {
		c := mustLoad(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/3?pool_size=64&pool_timeout=2s&min_idle_conns=4&read_timeout=500ms"})
		o := c.Redis.Options()
		if o.DB != 3 || o.PoolSize != 64 || o.PoolTimeout != 2*time.Second || o.MinIdleConns != 4 || o.ReadTimeout != 500*time.Millisecond {
			t.Fatalf("%+v", o)
		}
		if o := mustLoad(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:6379"}).Redis.Options(); o.PoolSize != 0 {
			t.Fatalf("pool size %d without one in the URL, want go-redis's default (0)", o.PoolSize)
		}
	})
	t.Run("the traffic roll-ups' retention, flush and low-result threshold are read", func(t *testing.T) {
		d := config.Default()
		if d.TrafficRetention != 400*24*time.Hour || d.TrafficFlush != 5*time.Second || d.TrafficLowResults != 3 {
			t.Fatalf("defaults %v %v %d", d.TrafficRetention, d.TrafficFlush, d.TrafficLowResults)
		}
		c := mustLoad(t, map[string]string{"PLAZA_TRAFFIC_RETENTION": "48h", "PLAZA_TRAFFIC_FLUSH": "250ms", "PLAZA_TRAFFIC_LOW_RESULTS": "10"})
		if c.TrafficRetention != 48*time.Hour || c.TrafficFlush != 250*time.Millisecond || c.TrafficLowResults != 10 {
			t.Fatalf("%v %v %d", c.TrafficRetention, c.TrafficFlush, c.TrafficLowResults)
		}
	})
	t.Run("a flag wins over its variable", func(t *testing.T) {
		c := mustLoad(t, map[string]string{"PLAZA_ADDR": ":1", "PLAZA_DRAIN_DELAY": "1s"}, "--addr", ":2", "--drain-delay", "2s")
		if c.Addr != ":2" || c.DrainDelay != 2*time.Second {
			t.Fatalf("addr %q drain %v", c.Addr, c.DrainDelay)
		}
	})
	t.Run("production defaults the drain delay to 5s unless set", func(t *testing.T) {
		if c := mustLoad(t, production(nil)); c.DrainDelay != 5*time.Second || c.DevAnalystKey || !c.LogJSON() {
			t.Fatalf("%+v", c)
		}
		if c := mustLoad(t, production(map[string]string{"PLAZA_DRAIN_DELAY": "0s"})); c.DrainDelay != 0 {
			t.Fatalf("drain %v", c.DrainDelay)
		}
	})
	t.Run("the first OTLP endpoint set wins", func(t *testing.T) {
		c := mustLoad(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://b:2/base/", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:3/t"})
		if c.Tracing.Endpoint != "http://c:3/t" {
			t.Fatalf("endpoint %q", c.Tracing.Endpoint)
		}
		c = mustLoad(t, map[string]string{"PLAZA_OTLP_ENDPOINT": "http://a:1", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://b:2"})
		if c.Tracing.Endpoint != "http://a:1/v1/traces" {
			t.Fatalf("endpoint %q", c.Tracing.Endpoint)
		}
		c = mustLoad(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://b:2/base/"})
		if c.Tracing.Endpoint != "http://b:2/base/v1/traces" {
			t.Fatalf("endpoint %q", c.Tracing.Endpoint)
		}
	})
	t.Run("the token subcommand reads its own flags", func(t *testing.T) {
		cmd, c, err := load(t, nil, "token", "--user", "demo-3", "--ttl", "1h")
		if err != nil || cmd != config.Token || c.TokenUser != "demo-3" || c.TokenTTL != time.Hour {
			t.Fatalf("%v %v %+v", cmd, err, c)
		}
	})
}

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // in the error
	}{
		{"PLAZA_ENV=prod", map[string]string{"PLAZA_ENV": "prod"}, nil, `PLAZA_ENV="prod": want development or production`},
		{"PLAZA_ENV=Production", map[string]string{"PLAZA_ENV": "Production"}, nil, `PLAZA_ENV="Production": want development or production`},
		{"PLAZA_ENV=staging", map[string]string{"PLAZA_ENV": "staging"}, nil, `PLAZA_ENV="staging"`},
		{"production without a provider registry", production(map[string]string{"PLAZA_CONFIG": ""}), nil, "needs a provider registry (PLAZA_CONFIG or --config)"},
		{"production without any token key", production(map[string]string{"PLAZA_JWT_SECRET": ""}), nil, "PLAZA_JWKS_URL"},
		{"production with a short secret", production(map[string]string{"PLAZA_JWT_SECRET": "short"}), nil, "PLAZA_JWT_SECRET=\"***\": production needs at least 32 bytes"},
		{"production with the development secret", production(map[string]string{"PLAZA_JWT_SECRET": auth.DevSecret}), nil, "at least 32"},
		{"a JWKS URL and file together", map[string]string{"PLAZA_JWKS_URL": "http://x", "PLAZA_JWKS_FILE": "/x"}, nil, "not both"},
		{"a malformed REDIS_URL, password hidden", map[string]string{"REDIS_URL": "redis://u:hunter2@h:port/0"}, nil, `REDIS_URL="redis://***@h:port/0": invalid port`},
		{"a REDIS_URL seed without a port", map[string]string{"REDIS_URL": "redis-a:6379,redis-b"}, nil, `REDIS_URL="redis-a:6379,redis-b": want a redis:// URL`},
		{"a bad rate limit", map[string]string{"PLAZA_RATE_USER": "fast"}, nil, `PLAZA_RATE_USER="fast": rate limit "fast": want RATE/UNIT`},
		{"a bad trusted proxy", map[string]string{"PLAZA_TRUSTED_PROXIES": "10.0.0.0/99"}, nil, `PLAZA_TRUSTED_PROXIES="10.0.0.0/99"`},
		{"a short analyst key, not shown", map[string]string{"PLAZA_ANALYST_KEYS": "short"}, nil, `PLAZA_ANALYST_KEYS="***": auth: API key`},
		{"an OTLP endpoint that is not a URL", map[string]string{"PLAZA_OTLP_ENDPOINT": "collector:4318"}, nil, `PLAZA_OTLP_ENDPOINT="collector:4318": want an http(s) URL`},
		{"a sample ratio above 1", map[string]string{"PLAZA_TRACE_SAMPLE_RATIO": "2"}, nil, `PLAZA_TRACE_SAMPLE_RATIO="2": want a number in [0, 1]`},
		{"a zero size bound", map[string]string{"PLAZA_MAX_FIRST": "0"}, nil, `PLAZA_MAX_FIRST="0": want a positive integer`},
		{"a negative drain delay flag", nil, []string{"--drain-delay", "-1s"}, `--drain-delay="-1s": want a non-negative duration`},
		{"a malformed duration flag", nil, []string{"--shutdown-timeout", "soon"}, `--shutdown-timeout="soon": want a positive duration`},
		{"a traffic retention under a day", map[string]string{"PLAZA_TRAFFIC_RETENTION": "12h"}, nil, `PLAZA_TRAFFIC_RETENTION="12h": want a duration of at least 24h`},
		{"a traffic flush of zero", map[string]string{"PLAZA_TRAFFIC_FLUSH": "0s"}, nil, `PLAZA_TRAFFIC_FLUSH="0s": want a duration from 100ms to 10m`},
		{"a traffic flush of an hour", map[string]string{"PLAZA_TRAFFIC_FLUSH": "1h"}, nil, `PLAZA_TRAFFIC_FLUSH="1h": want a duration from 100ms to 10m`},
		{"a re-ranking depth below a page", map[string]string{"PLAZA_SEARCH_CANDIDATES": "10"}, nil, `PLAZA_SEARCH_CANDIDATES="10": want an integer from 20 to 1000`},
		{"a re-ranking depth past the index's limit", map[string]string{"PLAZA_SEARCH_CANDIDATES": "5000"}, nil, `PLAZA_SEARCH_CANDIDATES="5000": want an integer from 20 to 1000`},
		{"a low-result threshold of zero", map[string]string{"PLAZA_TRAFFIC_LOW_RESULTS": "0"}, nil, `PLAZA_TRAFFIC_LOW_RESULTS="0": want an integer from 1 to 1000`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := load(t, tt.env, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadCommandLine(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		cmd   config.Command
		help  bool
		usage string // a *UsageError containing it
	}{
		{"no arguments serve", nil, config.Serve, false, ""},
		{"serve may be named", []string{"serve", "--addr", ":1"}, config.Serve, false, ""},
		{"--help asks for help", []string{"--help"}, config.Serve, true, ""},
		{"-h asks for help", []string{"-h"}, config.Serve, true, ""},
		{"help asks for help", []string{"help"}, config.Help, true, ""},
		{"token --help asks for help", []string{"token", "--help"}, config.Token, true, ""},
		{"an unknown subcommand", []string{"frobnicate"}, "", false, `unknown command "frobnicate"`},
		{"an unknown flag", []string{"--nope"}, config.Serve, false, "flag provided but not defined: -nope"},
		{"a token flag on serve", []string{"--user", "demo-1"}, config.Serve, false, "not defined: -user"},
		{"a stray argument", []string{"--addr", ":1", "extra"}, config.Serve, false, `unexpected argument "extra"`},
		{"token without --user", []string{"token"}, config.Token, false, "--user is required"},
		{"providers import names its file", []string{"providers", "import", "plaza.yaml"}, config.ProvidersImport, false, ""},
		{"providers import without a file", []string{"providers", "import"}, config.ProvidersImport, false, "name the registry file"},
		{"providers import with two files", []string{"providers", "import", "a.yaml", "b.yaml"}, config.ProvidersImport, false, `unexpected argument "b.yaml"`},
		{"providers generate", []string{"providers", "generate", "--count", "10"}, config.ProvidersGenerate, false, ""},
		{"providers generate without --count", []string{"providers", "generate"}, config.ProvidersGenerate, false, "--count is required"},
		{"providers generate --secret without --endpoint", []string{"providers", "generate", "--count", "1", "--secret", "s"},
			config.ProvidersGenerate, false, "give an --endpoint"},
		{"providers generate --help", []string{"providers", "generate", "--help"}, config.ProvidersGenerate, true, ""},
		{"providers alone", []string{"providers"}, "", false, "want providers import FILE or providers generate"},
		{"an unknown providers subcommand", []string{"providers", "delete"}, "", false, `unknown command "providers delete"`},
		{"a generate flag on import", []string{"providers", "import", "--count", "1", "f.yaml"}, config.ProvidersImport, false, "not defined: -count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, _, err := load(t, nil, tt.args...)
			var usage *config.UsageError
			switch {
			case tt.help:
				if !errors.Is(err, config.ErrHelp) {
					t.Fatalf("err = %v, want ErrHelp", err)
				}
			case tt.usage != "":
				if !errors.As(err, &usage) || !strings.Contains(err.Error(), tt.usage) {
					t.Fatalf("err = %#v, want a UsageError with %q", err, tt.usage)
				}
			case err != nil:
				t.Fatal(err)
			}
			if tt.cmd != "" && cmd != tt.cmd {
				t.Errorf("command %q, want %q", cmd, tt.cmd)
			}
		})
	}
}

// numeric are the settings whose value is a number or a duration.
func numeric() []config.Setting {
	var out []config.Setting
	for _, s := range config.Settings {
		if s.Kind == config.Integer || s.Kind == config.Duration || s.Kind == config.Number {
			out = append(out, s)
		}
	}
	return out
}

func TestEveryNumericSettingRefusesMalformedValues(t *testing.T) {
	if n := len(numeric()); n < 19 { // 12 limits, 6 durations, the sample ratio
		t.Fatalf("only %d numeric settings declared", n)
	}
	for _, s := range numeric() {
		for _, bad := range []string{"abc", "1.5.0", "12 monkeys"} {
			name := s.Env
			var args []string
			env := map[string]string{}
			if name != "" {
				env[name] = bad
			} else {
				name = "--" + s.Flag
				args = []string{name, bad}
				switch s.Commands[0] {
				case config.Token:
					args = append([]string{"token", "--user", "demo-1"}, args...)
				case config.ProvidersGenerate:
					args = append([]string{"providers", "generate"}, args...)
				}
			}
			t.Run(name+"="+bad, func(t *testing.T) {
				_, _, err := load(t, env, args...)
				var cerr *config.Error
				if !errors.As(err, &cerr) || cerr.Setting != name || cerr.Value != bad || !strings.HasPrefix(cerr.Reason, "want ") {
					t.Fatalf("err = %v, want a config.Error naming %s and the reason", err, name)
				}
			})
		}
	}
}

// TestDocumentedDefaultsAreTheDefaults sets each numeric setting to the
// default the help and the README show, and expects nothing to change.
func TestDocumentedDefaultsAreTheDefaults(t *testing.T) {
	base := mustLoad(t, nil)
	for _, s := range numeric() {
		if s.Env == "" {
			continue
		}
		t.Run(s.Env, func(t *testing.T) {
			_, c, err := load(t, map[string]string{s.Env: s.Default})
			if err != nil {
				t.Skipf("default %q is prose, not a value", s.Default)
			}
			if !reflect.DeepEqual(c.Limits, base.Limits) || c.Gateway != base.Gateway || c.Auth != base.Auth ||
				c.RequestTimeout != base.RequestTimeout || c.EventRetention != base.EventRetention || c.Tracing != base.Tracing {
				t.Fatalf("setting %s to its documented default %q changed the configuration", s.Env, s.Default)
			}
		})
	}
}

func TestSettingsAreDeclaredOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range config.Settings {
		for _, name := range []string{s.Env, "--" + s.Flag} {
			if name == "" || name == "--" {
				continue
			}
			if seen[name] {
				t.Errorf("%s is declared twice", name)
			}
			seen[name] = true
		}
		if s.Usage == "" || s.Kind == "" {
			t.Errorf("%s%s lacks a usage or kind", s.Env, s.Flag)
		}
	}
}

const (
	tableBegin = "<!-- configuration table: generated from config.Settings; go test ./config -update rewrites it -->\n"
	tableEnd   = "<!-- end of configuration table -->"
)

// TestREADMETable fails when the README's configuration table and the
// declarations differ; -update rewrites the table.
func TestREADMETable(t *testing.T) {
	path := filepath.Join("..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, tableBegin), strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no configuration table between %q and %q", tableBegin, tableEnd)
	}
	want := readme[:i+len(tableBegin)] + config.Markdown() + readme[j:]
	if want == readme {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's configuration table differs from config.Settings; run go test ./config -update")
}

// TestNoVariableIsReadElsewhere keeps the configuration in one place: no
// Go file outside this package reads a Plaza, Redis or OpenTelemetry
// variable by name (bench/ is a harness with its own switches, and
// cache/cachetest and directory/pgtest pick the tests' Redis and PostgreSQL).
func TestNoVariableIsReadElsewhere(t *testing.T) {
	read := regexp.MustCompile(`(?i)getenv\("(PLAZA_|REDIS_URL|OTEL_)`)
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "config" || rel == "bench" || rel == filepath.Join("cache", "cachetest") || rel == filepath.Join("directory", "pgtest") || rel == "testdata" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if m := read.Find(b); m != nil {
			t.Errorf("%s reads %s; declare it in config.Settings instead", rel, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestProvidersGenerateFlags(t *testing.T) {
	_, c, err := load(t, nil, "providers", "generate", "--count", "500", "--seed", "-7",
		"--endpoint", "grocery=http://127.0.0.1:9101", "--endpoint", "GROCERY=http://127.0.0.1:9102",
		"--endpoint", "public-service=http://127.0.0.1:9107", "--secret", "a-secret-of-twenty-four-chars")
	if err != nil {
		t.Fatal(err)
	}
	want := config.Generate{Count: 500, Seed: -7, ItemsPerProvider: 20, Secret: "a-secret-of-twenty-four-chars", Endpoints: map[connectors.Vertical][]string{
		connectors.VerticalGrocery:       {"http://127.0.0.1:9101", "http://127.0.0.1:9102"},
		connectors.VerticalPublicService: {"http://127.0.0.1:9107"},
	}}
	if !reflect.DeepEqual(c.Generate, want) {
		t.Fatalf("got %+v, want %+v", c.Generate, want)
	}
	if _, c, err := load(t, nil, "providers", "generate", "--count", "3"); err != nil || c.Generate.Seed != 1 {
		t.Fatalf("default seed %d, %v; want 1", c.Generate.Seed, err)
	}
	for _, tt := range []struct {
		args []string
		flag string
	}{
		{[]string{"--count", "0"}, "--count"},
		{[]string{"--count", "-3"}, "--count"},
		{[]string{"--count", "1", "--endpoint", "grocery"}, "--endpoint"},
		{[]string{"--count", "1", "--endpoint", "bakery=http://127.0.0.1:1"}, "--endpoint"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := load(t, nil, append([]string{"providers", "generate"}, tt.args...)...)
			var cerr *config.Error
			if !errors.As(err, &cerr) || cerr.Setting != tt.flag {
				t.Fatalf("err = %v, want a config.Error naming %s", err, tt.flag)
			}
		})
	}
}

func TestDirectoryKey(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	if _, c, err := load(t, map[string]string{"PLAZA_DIRECTORY_KEY": key}); err != nil || c.DirectoryKey == nil {
		t.Fatalf("a 32-byte key: %v", err)
	}
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		_, _, err := load(t, map[string]string{"PLAZA_DIRECTORY_KEY": bad})
		var cerr *config.Error
		if !errors.As(err, &cerr) || cerr.Setting != "PLAZA_DIRECTORY_KEY" || cerr.Value != "***" {
			t.Fatalf("err = %v, want a config.Error naming PLAZA_DIRECTORY_KEY without its value", err)
		}
	}
}

// TestDirectoryCommandsNeedNoTokenSettings: migrate and the providers
// commands verify no token, so production's token rules are not theirs;
// serve keeps them.
func TestDirectoryCommandsNeedNoTokenSettings(t *testing.T) {
	env := map[string]string{"PLAZA_ENV": "production"}
	for _, args := range [][]string{{"migrate"}, {"providers", "import", "plaza.yaml"}, {"providers", "generate", "--count", "1"}} {
		if _, c, err := load(t, env, args...); err != nil || !c.Production() {
			t.Errorf("%v in production: %v", args, err)
		}
	}
	if _, _, err := load(t, env, "serve", "--config", "plaza.yaml"); err == nil || !strings.Contains(err.Error(), "PLAZA_JWKS_URL") {
		t.Errorf("serve in production without token settings: %v", err)
	}
}
