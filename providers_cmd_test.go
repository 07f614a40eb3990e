package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/supply"
)

// directoryKey is a PLAZA_DIRECTORY_KEY for the tests.
var directoryKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// migratedDirectory is a database of the test's own with the directory's
// schema applied by `plaza migrate`.
func migratedDirectory(t *testing.T) string {
	t.Helper()
	url := pgtest.DatabaseURL(t)
	if e := plazaProcess(t, map[string]string{"PLAZA_DATABASE_URL": url}, "migrate"); e.code != 0 {
		t.Fatalf("plaza migrate: exit %d\n%s", e.code, e.stderr)
	}
	return url
}

// openDirectory reads the directory as the gateway will: the snapshot and
// the sealed secrets.
func openDirectory(t *testing.T, url string) *directory.Postgres {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	sealer, err := directory.ParseSealerKey(directoryKey)
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.OpenPostgres(ctx, pool, sealer, directory.Policy{Development: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plaza.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const importYAML = `providers:
  - id: freshcart
    vertical: grocery
    name: FreshCart
    url: http://127.0.0.1:9101
    secret_env: PLAZA_SECRET_FRESHCART
    timeout: 2s
    max_batch: 200
    cache_ttl:
      Product: 30s
    cities: [Hangzhou, Shanghai]
  - id: lexassist
    vertical: legal
    name: LexAssist
    url: https://lex.example/plaza
    secret: lexassist-signing-secret-0001
    cities: [Beijing]
  - id: extra-legal
    vertical: public-service
    embedded: demo
`

func TestProvidersImport(t *testing.T) {
	url := migratedDirectory(t)
	path := writeFile(t, importYAML)
	env := map[string]string{"PLAZA_DATABASE_URL": url, "PLAZA_DIRECTORY_KEY": directoryKey,
		"PLAZA_SECRET_FRESHCART": "dev-secret-freshcart"}

	e := plazaProcess(t, env, "providers", "import", path)
	if e.code != 0 || !strings.Contains(e.stdout, "3 inserted (ACTIVE), 0 updated, 0 unchanged; directory version 1") {
		t.Fatalf("first import: exit %d\nstdout:\n%s\nstderr:\n%s", e.code, e.stdout, e.stderr)
	}
	d := openDirectory(t, url)
	snap := d.Snapshot()
	if snap.Len() != 3 || snap.Version() != 1 {
		t.Fatalf("snapshot: %d providers at version %d, want 3 at 1", snap.Len(), snap.Version())
	}
	ctx := context.Background()
	fc, err := d.Get(ctx, "freshcart")
	if err != nil {
		t.Fatal(err)
	}
	if fc.Lifecycle != directory.Active || fc.Vertical != connectors.VerticalGrocery || fc.Endpoint != "http://127.0.0.1:9101" ||
		!slices.Equal(fc.Cities, []string{"Hangzhou", "Shanghai"}) || fc.Limits.Timeout != 2*time.Second ||
		fc.Limits.MaxBatch != 200 || fc.CacheTTL["Product"] != 30*time.Second {
		t.Errorf("freshcart imported as %+v", fc)
	}
	if demo, err := d.Get(ctx, "extra-legal"); err != nil || demo.Endpoint != "" || demo.Name != "extra-legal" || demo.Lifecycle != directory.Active {
		t.Errorf("the embedded provider imported as %+v, %v", demo, err)
	}
	if s, err := d.Secrets(ctx, "freshcart"); err != nil || !slices.Equal(s, []string{"dev-secret-freshcart"}) {
		t.Errorf("freshcart's secrets %q, %v", s, err)
	}
	if s, err := d.Secrets(ctx, "extra-legal"); err != nil || len(s) != 0 {
		t.Errorf("extra-legal's secrets %q, %v; want none", s, err)
	}
	if h, err := d.History(ctx, "lexassist"); err != nil || len(h) != 1 || h[0].To != directory.Active || h[0].Actor != "plaza providers import" {
		t.Errorf("lexassist's history %+v, %v", h, err)
	}

	t.Run("the same file again changes nothing", func(t *testing.T) {
		e := plazaProcess(t, env, "providers", "import", path)
		if e.code != 0 || !strings.Contains(e.stdout, "nothing to change") || !strings.Contains(e.stdout, "3 provider(s)") ||
			!strings.Contains(e.stdout, "directory version 1") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", e.code, e.stdout, e.stderr)
		}
		after, err := d.Get(ctx, "freshcart")
		if err != nil || after.Version != 1 || !after.UpdatedAt.Equal(fc.UpdatedAt) {
			t.Fatalf("freshcart rewritten: version %d, updated %v (was %v), %v", after.Version, after.UpdatedAt, fc.UpdatedAt, err)
		}
	})
	t.Run("a changed entry and a changed secret are updated", func(t *testing.T) {
		changed := writeFile(t, strings.Replace(importYAML, "name: LexAssist", "name: LexAssist Legal", 1))
		env2 := map[string]string{}
		for k, v := range env {
			env2[k] = v
		}
		env2["PLAZA_SECRET_FRESHCART"] = "rotated-freshcart-secret"
		e := plazaProcess(t, env2, "providers", "import", changed)
		if e.code != 0 || !strings.Contains(e.stdout, "0 inserted (ACTIVE), 2 updated, 1 unchanged; directory version 2") ||
			!strings.Contains(e.stdout, "updated: freshcart, lexassist") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", e.code, e.stdout, e.stderr)
		}
		if p, err := d.Get(ctx, "lexassist"); err != nil || p.Name != "LexAssist Legal" || p.Version != 2 {
			t.Errorf("lexassist %+v, %v", p, err)
		}
		if s, err := d.Secrets(ctx, "freshcart"); err != nil || !slices.Equal(s, []string{"rotated-freshcart-secret"}) {
			t.Errorf("freshcart's secrets %q, %v", s, err)
		}
		if p, err := d.Get(ctx, "extra-legal"); err != nil || p.Version != 1 {
			t.Errorf("the unchanged entry moved to version %d, %v", p.Version, err)
		}
	})
}

func TestProvidersImportRefuses(t *testing.T) {
	url := migratedDirectory(t)
	env := func(extra ...string) map[string]string {
		m := map[string]string{"PLAZA_DATABASE_URL": url, "PLAZA_DIRECTORY_KEY": directoryKey}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	const good = "  - id: good\n    vertical: legal\n    embedded: demo\n"
	tests := []struct {
		name string
		yaml string // "" for a file that does not exist
		env  map[string]string
		code int
		want string
	}{
		{"an unknown key", "providers:\n" + good + "    colour: red\n", env(), 1, "field colour not found"},
		{"no providers", "providers: []\n", env(), 1, "no providers declared"},
		{"an unknown vertical", "providers:\n" + good + "  - id: bad\n    vertical: bakery\n    embedded: demo\n", env(), 1,
			`providers[1] (bad): vertical: unknown vertical "bakery"`},
		{"a bad id", "providers:\n  - id: Bad_ID\n    vertical: legal\n    embedded: demo\n", env(), 1, "providers[0] (Bad_ID): id: use 1 to 64"},
		{"a duplicate id", "providers:\n" + good + good, env(), 1, "providers[1] (good): id: declared twice (also providers[0])"},
		{"plain http off loopback", "providers:\n" + good + "  - id: web\n    vertical: grocery\n    url: http://grocer.example\n    secret: a-secret-of-twenty-four-chars\n",
			env(), 1, "providers[1] (web): url: http is allowed on loopback hosts only"},
		{"neither url nor embedded", "providers:\n  - id: lost\n    vertical: legal\n", env(), 1, "providers[0] (lost): url: url is required"},
		{"an unset secret_env", "providers:\n  - id: s\n    vertical: legal\n    url: https://s.example\n    secret_env: PLAZA_SECRET_NOPE\n",
			env(), 1, "providers[0] (s): secret_env: PLAZA_SECRET_NOPE is not set"},
		{"an endpoint without a secret", "providers:\n  - id: s\n    vertical: legal\n    url: https://s.example\n", env(), 1,
			"providers[0] (s): secret: a provider with an endpoint needs a signing secret"},
		{"a bad cache TTL", "providers:\n  - id: c\n    vertical: legal\n    embedded: demo\n    cache_ttl:\n      Banana: 1s\n", env(), 1,
			"providers[0] (c): cache_ttl: Banana"},
		{"a negative timeout", "providers:\n  - id: c\n    vertical: legal\n    embedded: demo\n    timeout: -1s\n", env(), 1,
			"providers[0] (c): timeout: between 0"},
		{"a secret without PLAZA_DIRECTORY_KEY", "providers:\n  - id: s\n    vertical: legal\n    url: https://s.example\n    secret: a-secret-of-twenty-four-chars\n",
			map[string]string{"PLAZA_DATABASE_URL": url}, 2, "PLAZA_DIRECTORY_KEY is not set, and providers[0] (s) has a signing secret"},
		{"a missing file", "", env(), 1, "no such file or directory"},
		{"no PLAZA_DATABASE_URL", "providers:\n" + good, nil, 2, "PLAZA_DATABASE_URL is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "missing.yaml")
			if tt.yaml != "" {
				path = writeFile(t, tt.yaml)
			}
			e := plazaProcess(t, tt.env, "providers", "import", path)
			if e.code != tt.code || !strings.HasPrefix(e.stderr, "plaza providers import: ") || !strings.Contains(e.stderr, tt.want) || e.stdout != "" {
				t.Fatalf("exit %d (want %d, %q)\nstdout:\n%s\nstderr:\n%s", e.code, tt.code, tt.want, e.stdout, e.stderr)
			}
		})
	}
	if n := openDirectory(t, url).Snapshot().Len(); n != 0 {
		t.Fatalf("refused imports left %d providers", n)
	}
	t.Run("an unmigrated database", func(t *testing.T) {
		e := plazaProcess(t, map[string]string{"PLAZA_DATABASE_URL": pgtest.DatabaseURL(t)}, "providers", "import", writeFile(t, "providers:\n"+good))
		if e.code != 1 || !strings.Contains(e.stderr, "run plaza migrate first") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", e.code, e.stdout, e.stderr)
		}
	})
}

func TestProvidersGenerate(t *testing.T) {
	url := migratedDirectory(t)
	env := map[string]string{"PLAZA_DATABASE_URL": url, "PLAZA_DIRECTORY_KEY": directoryKey}
	e := plazaProcess(t, env, "providers", "generate", "--count", "40", "--seed", "7")
	if e.code != 0 || !strings.Contains(e.stdout, "generated 40 synthetic ACTIVE providers of seed 7 (served in process): 40 inserted, 0 already there; directory version 1") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", e.code, e.stdout, e.stderr)
	}
	d := openDirectory(t, url)
	ctx := context.Background()
	for i := range 40 {
		want := directory.Generated(7, i, directory.GenerateOptions{})
		got, err := d.Get(ctx, want.ID)
		if err != nil || got.Name != want.Name || got.Vertical != want.Vertical || !slices.Equal(got.Cities, want.Cities) ||
			got.Endpoint != "" || got.Lifecycle != directory.Active {
			t.Fatalf("provider %d: %+v, %v; want %+v", i, got, err, want)
		}
	}
	// What each generated provider's own catalogue holds, read from the
	// demo connector its id derives: the first 20 items of it are indexed.
	wantItems, wantPer, wantCursor := 0, map[string]int{}, map[string]string{}
	for i := range 40 {
		p := directory.Generated(7, i, directory.GenerateOptions{})
		c, err := demo.Embedded(connectors.Descriptor{ID: p.ID, Name: p.Name, Vertical: p.Vertical, Cities: p.Cities})
		if err != nil {
			t.Fatal(err)
		}
		ch, err := c.(connectors.Catalog).CatalogChanges(ctx, "", 20)
		if err != nil {
			t.Fatal(err)
		}
		wantPer[p.ID] = min(20, len(ch.Upserts))
		wantItems += wantPer[p.ID]
		wantCursor[p.ID] = ch.Cursor
	}
	t.Run("the catalogue cursor after the items indexed is stored, so the syncer resumes there", func(t *testing.T) {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		cursors := catalog.NewPostgresCursors(pool)
		for id, want := range wantCursor {
			if want == "" {
				t.Fatalf("the demo catalogue of %s gave no cursor", id)
			}
			if got, err := cursors.Cursor(ctx, id); err != nil || got != want {
				t.Errorf("cursor of %s: %q, %v; want %q", id, got, err, want)
			}
		}
		if n := scalar(t, url, `SELECT count(*) FROM catalog_cursors`); n != int64(len(wantCursor)) {
			t.Errorf("%d cursors stored, want %d", n, len(wantCursor))
		}
	})
	t.Run("their own catalogues are indexed through the catalogue contract, up to 20 items each", func(t *testing.T) {
		if !strings.Contains(e.stdout, fmt.Sprintf("indexed the catalogues of 40 providers (up to 20 items each) through the catalogue contract: %d indexed, 0 already there", wantItems)) {
			t.Fatalf("want %d items indexed; stdout:\n%s", wantItems, e.stdout)
		}
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		page, err := supply.NewPostgres(pool).Search(ctx, supply.Query{Facets: true, First: 1})
		if err != nil || page.Total != wantItems || len(page.Facets.Providers) == 0 {
			t.Fatalf("index: total %d, providers %+v, %v; want %d items", page.Total, page.Facets.Providers, err, wantItems)
		}
		for _, f := range page.Facets.Providers {
			if f.Count != wantPer[f.Value] {
				t.Fatalf("index holds %d items of %s, want %d", f.Count, f.Value, wantPer[f.Value])
			}
		}
	})
	// A second run re-publishes the same items (the demo providers version
	// their catalogue from their own start, so the ingest counts them
	// indexed again) and leaves the index as it was.
	t.Run("the same seed and count again insert nothing", func(t *testing.T) {
		e := plazaProcess(t, env, "providers", "generate", "--count", "40", "--seed", "7")
		if e.code != 0 || !strings.Contains(e.stdout, "0 inserted, 40 already there; directory version 1") ||
			!strings.Contains(e.stdout, "indexed the catalogues of 40 providers") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", e.code, e.stdout, e.stderr)
		}
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		if page, err := supply.NewPostgres(pool).Search(ctx, supply.Query{First: 1}); err != nil || page.Total != wantItems {
			t.Fatalf("index after the second run: total %d, %v; want %d", page.Total, err, wantItems)
		}
	})
	t.Run("endpoints round-robin per vertical, signing with --secret", func(t *testing.T) {
		const secret = "generated-providers-secret"
		e := plazaProcess(t, env, "providers", "generate", "--count", "30", "--seed", "8", "--secret", secret,
			"--endpoint", "grocery=http://127.0.0.1:9101", "--endpoint", "grocery=http://127.0.0.1:9102")
		if e.code != 0 || !strings.Contains(e.stdout, "30 inserted") || !strings.Contains(e.stdout, "call 2 endpoint(s)") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", e.code, e.stdout, e.stderr)
		}
		grocers := 0
		for i := range 30 {
			id := directory.GeneratedID(8, i)
			p, err := d.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if p.Vertical == connectors.VerticalGrocery {
				grocers++
				want = []string{"http://127.0.0.1:9101", "http://127.0.0.1:9102"}[i%2]
			}
			if p.Endpoint != want {
				t.Errorf("%s (%s): endpoint %q, want %q", id, p.Vertical, p.Endpoint, want)
			}
			if s, err := d.Secrets(ctx, id); err != nil || !slices.Equal(s, []string{secret}) {
				t.Errorf("%s: secrets %q, %v", id, s, err)
			}
		}
		if grocers == 0 {
			t.Fatal("seed 8 generated no grocer; pick another seed")
		}
	})
	refusals := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"in production", map[string]string{"PLAZA_DATABASE_URL": url, "PLAZA_ENV": "production"}, []string{"--count", "5", "--seed", "9"}, 1,
			"refuses to run in production"},
		{"--secret without PLAZA_DIRECTORY_KEY", map[string]string{"PLAZA_DATABASE_URL": url},
			[]string{"--count", "5", "--seed", "9", "--endpoint", "legal=http://127.0.0.1:9105", "--secret", "generated-providers-secret"}, 2,
			"PLAZA_DIRECTORY_KEY is not set, and --secret is given"},
		{"a short --secret", env, []string{"--count", "5", "--seed", "9", "--endpoint", "legal=http://127.0.0.1:9105", "--secret", "short"}, 1,
			"--secret: secret is shorter than 24 characters"},
		{"an http --endpoint off loopback", env, []string{"--count", "5", "--seed", "9", "--endpoint", "legal=http://lex.example"}, 1,
			"--endpoint: http is allowed on loopback hosts only"},
		{"no PLAZA_DATABASE_URL", nil, []string{"--count", "5"}, 2, "PLAZA_DATABASE_URL is not set"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			e := plazaProcess(t, tt.env, append([]string{"providers", "generate"}, tt.args...)...)
			if e.code != tt.code || !strings.HasPrefix(e.stderr, "plaza providers generate: ") || !strings.Contains(e.stderr, tt.want) {
				t.Fatalf("exit %d (want %d, %q)\nstdout:\n%s\nstderr:\n%s", e.code, tt.code, tt.want, e.stdout, e.stderr)
			}
		})
	}
	if _, err := d.Get(ctx, directory.GeneratedID(9, 0)); directory.CodeOf(err) != directory.NotFound {
		t.Fatalf("a refused run wrote seed 9's providers: %v", err)
	}
}
