package providers_test

import (
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/providers"
)

// env resolves secret_env from vars and builds embedded providers with the
// demo package, as the wiring root does.
func env(vars map[string]string) providers.Env {
	return providers.Env{Getenv: func(k string) string { return vars[k] },
		Embedded: func(d connectors.Descriptor) (connectors.Connector, error) { return demo.New(d) }}
}

func TestParseAndBuild(t *testing.T) {
	e := env(map[string]string{"FRESH_SECRET": "from-env"})
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, l *providers.Set)
	}{
		{name: "an HTTP provider with every setting builds a client described by the file", yaml: `
providers:
  - id: freshcart
    vertical: grocery
    name: FreshCart
    url: http://127.0.0.1:9101
    secret_env: FRESH_SECRET
    timeout: 750ms
    max_batch: 50
    max_concurrent: 8
    cache_ttl: {Product: 30s}
    cities: [Hangzhou, Shanghai]
    description: Fresh food
    rating: 4.5
`, check: func(t *testing.T, l *providers.Set) {
			c, ok := l.Registry.Get("freshcart")
			if !ok {
				t.Fatal("freshcart missing")
			}
			if _, isHTTP := c.(*httpprovider.Client); !isHTTP {
				t.Fatalf("connector is %T, want *httpprovider.Client", c)
			}
			d := c.Describe()
			if d.Vertical != connectors.VerticalGrocery || d.Name != "FreshCart" || d.MaxBatch != 50 || d.Rating != 4.5 ||
				strings.Join(d.Cities, ",") != "Hangzhou,Shanghai" || d.Description != "Fresh food" {
				t.Fatalf("descriptor %+v", d)
			}
			s, _ := l.Settings("freshcart")
			if s.Timeout != 750*time.Millisecond || s.MaxConcurrent != 8 || s.CacheTTL["Product"] != 30*time.Second || s.Secret != "from-env" {
				t.Fatalf("settings %+v", s)
			}
		}},
		{name: "left-out settings take the defaults and the name defaults to the id", yaml: `
providers:
  - id: lexassist
    vertical: LEGAL
    url: http://127.0.0.1:9105
    secret: dev
`, check: func(t *testing.T, l *providers.Set) {
			s, _ := l.Settings("lexassist")
			if s.Timeout != providers.DefaultTimeout || s.MaxConcurrent != providers.DefaultMaxConcurrent || s.Secret != "dev" {
				t.Fatalf("settings %+v", s)
			}
			c, _ := l.Registry.Get("lexassist")
			if c.Describe().Name != "lexassist" || c.Describe().Vertical != connectors.VerticalLegal {
				t.Fatalf("descriptor %+v", c.Describe())
			}
		}},
		{name: "an embedded demo provider needs no url or secret", yaml: `
providers:
  - id: extra-legal
    vertical: legal
    embedded: demo
  - id: govdesk
    vertical: public-service
    embedded: demo
`, check: func(t *testing.T, l *providers.Set) {
			if got := len(l.Registry.All()); got != 2 {
				t.Fatalf("%d providers", got)
			}
			if len(l.Registry.ByVertical(connectors.VerticalPublicService)) != 1 {
				t.Fatal("public-service (dash form) not recognised")
			}
		}},
		{name: "a syntax error", yaml: "providers: [", wantErr: "parse"},
		{name: "an unknown key", yaml: "providers:\n  - id: a\n    vertical: legal\n    embedded: demo\n    colour: red\n", wantErr: "field colour not found"},
		{name: "no providers", yaml: "providers: []\n", wantErr: "no providers declared"},
		{name: "an unknown vertical", yaml: "providers:\n  - id: a\n    vertical: pets\n    embedded: demo\n", wantErr: `unknown vertical "pets"`},
		{name: "a duplicate id", yaml: "providers:\n  - id: a\n    vertical: legal\n    embedded: demo\n  - id: a\n    vertical: legal\n    embedded: demo\n", wantErr: `duplicate provider id "a"`},
		{name: "an invalid id", yaml: "providers:\n  - id: Fresh_Cart\n    vertical: grocery\n    embedded: demo\n", wantErr: "use 1-64 characters"},
		{name: "an HTTP provider without a secret", yaml: "providers:\n  - id: a\n    vertical: legal\n    url: http://127.0.0.1:1\n", wantErr: "secret or secret_env is required"},
		{name: "a secret_env that is not set", yaml: "providers:\n  - id: a\n    vertical: legal\n    url: http://127.0.0.1:1\n    secret_env: NOPE\n", wantErr: "secret_env NOPE is not set"},
		{name: "both url and embedded", yaml: "providers:\n  - id: a\n    vertical: legal\n    url: http://127.0.0.1:1\n    embedded: demo\n    secret: s\n", wantErr: "either url or embedded"},
		{name: "neither url nor embedded", yaml: "providers:\n  - id: a\n    vertical: legal\n    secret: s\n", wantErr: "url is required"},
		{name: "an embedded kind that does not exist", yaml: "providers:\n  - id: a\n    vertical: legal\n    embedded: mock\n", wantErr: `embedded "mock"`},
		{name: "a url that is not http", yaml: "providers:\n  - id: a\n    vertical: legal\n    url: ftp://x\n    secret: s\n", wantErr: "absolute http(s) URL"},
		{name: "a cache_ttl for a type that does not exist", yaml: "providers:\n  - id: a\n    vertical: legal\n    embedded: demo\n    cache_ttl:\n      Lawyers: 30s\n", wantErr: "cache_ttl Lawyers"},
		{name: "a cache_ttl that is not positive", yaml: "providers:\n  - id: a\n    vertical: legal\n    embedded: demo\n    cache_ttl:\n      Lawyer: 0s\n", wantErr: "cache_ttl Lawyer"},
		{name: "a timeout that is not a duration", yaml: "providers:\n  - id: a\n    vertical: legal\n    embedded: demo\n    timeout: soon\n", wantErr: "parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := providers.Parse([]byte(tt.yaml))
			var l *providers.Set
			if err == nil {
				l, err = f.Build(e)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			tt.check(t, l)
		})
	}
}

func TestParseVertical(t *testing.T) {
	for in, want := range map[string]connectors.Vertical{
		"grocery": connectors.VerticalGrocery, "MEDICAL": connectors.VerticalMedical, " Legal ": connectors.VerticalLegal,
		"public-service": connectors.VerticalPublicService, "PUBLIC_SERVICE": connectors.VerticalPublicService,
	} {
		if got, err := providers.ParseVertical(in); err != nil || got != want {
			t.Errorf("ParseVertical(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := providers.ParseVertical("food"); err == nil {
		t.Error("ParseVertical(food) succeeded")
	}
}

// A rotated-out secret verifies until its overlap ends, and not after.
func TestSettingsVerifyingFollowsTheOverlap(t *testing.T) {
	until := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	s := providers.Settings{Secret: "new", PreviousSecret: "old", PreviousUntil: until}
	for _, tc := range []struct {
		name string
		s    providers.Settings
		now  time.Time
		want string
	}{
		{"during the overlap both verify, the current one first", s, until.Add(-time.Second), "new,old"},
		{"at its end only the current one", s, until, "new"},
		{"without a previous secret only the current one", providers.Settings{Secret: "new"}, until.Add(-time.Hour), "new"},
		{"without any secret none", providers.Settings{}, until, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(tc.s.Verifying(tc.now), ","); got != tc.want {
				t.Fatalf("Verifying = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAddedListsTheProvidersNewToTheNextSet(t *testing.T) {
	set := func(ids ...string) *providers.Set {
		t.Helper()
		var conns []connectors.Connector
		for _, id := range ids {
			c, err := demo.New(connectors.Descriptor{ID: id, Name: id, Vertical: connectors.VerticalGrocery})
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		reg, err := connectors.NewRegistry(conns...)
		if err != nil {
			t.Fatal(err)
		}
		return providers.NewSet(reg, nil)
	}
	store := mustMemory(t, inProcess("grocer-a", connectors.VerticalGrocery, directory.Active, "Hangzhou"))
	view := providers.NewDirectory(store, providers.Env{Embedded: countingEmbedded(new(atomic.Int64))},
		slog.New(slog.NewTextHandler(io.Discard, nil))).View(store.Snapshot())
	for _, tc := range []struct {
		name       string
		prev, next *providers.Set
		want       string
	}{
		{"a provider only in the next set is added", set("a", "b"), set("a", "b", "c"), "c"},
		{"added ones come ordered by provider ID", set("b"), set("a", "b", "c"), "a,c"},
		{"a removed provider is not added", set("a", "b"), set("a"), ""},
		{"the same providers add none", set("a"), set("a"), ""},
		{"a directory view is never walked, as the previous set", view, set("a"), ""},
		{"a directory view is never walked, as the next set", set("a"), view, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range providers.Added(tc.prev, tc.next) {
				got = append(got, c.Describe().ID)
			}
			if strings.Join(got, ",") != tc.want {
				t.Fatalf("Added = %v, want %q", got, tc.want)
			}
		})
	}
}
