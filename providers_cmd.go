package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/config"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/providers"
	"github.com/plaza-gateway/plaza/supply"
)

// providersCommand runs `plaza providers import FILE` and `plaza providers
// generate` against the directory at PLAZA_DATABASE_URL and returns the exit
// status: 0 done, 1 a bad entry or a failing database (said on stderr), 2
// a required setting not set. getenv resolves the file's secret_env entries,
// as it does for the gateway's registry.
func providersCommand(ctx context.Context, cmd config.Command, cfg config.Config, getenv func(string) string, stdout, stderr io.Writer) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "plaza %s: %s\n", cmd, fmt.Sprintf(format, args...))
		return code
	}
	if cfg.DatabaseURL == "" {
		return fail(2, "PLAZA_DATABASE_URL is not set")
	}
	if cmd == config.ProvidersGenerate && cfg.Production() {
		return fail(1, "refuses to run in production (PLAZA_ENV=production): synthetic providers are for tests and the bench")
	}
	var entries []directory.ImportEntry
	if cmd == config.ProvidersImport {
		var err error
		if entries, err = importEntries(cfg.ImportFile, getenv); err != nil {
			return fail(1, "%v", err)
		}
	}
	if cfg.DirectoryKey == nil {
		for i, e := range entries {
			if e.Secret != "" {
				return fail(2, "PLAZA_DIRECTORY_KEY is not set, and providers[%d] (%s) has a signing secret: secrets are stored "+
					"encrypted with that key (base64 of 32 random bytes: openssl rand -base64 32)", i, e.ID)
			}
		}
		if cfg.Generate.Secret != "" {
			return fail(2, "PLAZA_DIRECTORY_KEY is not set, and --secret is given: secrets are stored "+
				"encrypted with that key (base64 of 32 random bytes: openssl rand -base64 32)")
		}
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return fail(2, "PLAZA_DATABASE_URL: %v", err)
	}
	defer pool.Close()
	st, err := directory.Status(ctx, pool)
	if err != nil {
		return fail(1, "%v", err)
	}
	if !st.UpToDate() {
		return fail(1, "the directory's schema is at version %d, this binary needs %d: run plaza migrate first", st.Current, st.Latest)
	}
	if cmd == config.ProvidersGenerate {
		g := cfg.Generate
		res, err := directory.Generate(ctx, pool, g.Count, g.Seed, cfg.Production(), directory.GenerateOptions{
			Endpoints: g.Endpoints, Secret: g.Secret, Sealer: cfg.DirectoryKey})
		if err != nil {
			if directory.FieldOf(err) != "" { // the flag it names
				return fail(1, "--%v", fieldError(err, nil))
			}
			return fail(1, "%v", err)
		}
		served := "served in process"
		if len(g.Endpoints) > 0 {
			served = fmt.Sprintf("verticals with --endpoint call %d endpoint(s), the others are served in process", countEndpoints(g))
		}
		fmt.Fprintf(stdout, "generated %d synthetic ACTIVE providers of seed %d (%s): %d inserted, %d already there; directory version %d\n",
			g.Count, g.Seed, served, res.Inserted, int64(g.Count)-res.Inserted, res.Version)
		if g.ItemsPerProvider > 0 {
			if err := indexSynthetic(ctx, pool, g, stdout); err != nil {
				return fail(1, "%v", err)
			}
		}
		return 0
	}
	res, err := directory.Import(ctx, pool, entries, directory.ImportOptions{Sealer: cfg.DirectoryKey,
		Policy: directory.Policy{Development: !cfg.Production()}, Actor: "plaza providers import",
		Reason: "imported from " + cfg.ImportFile})
	var ie *directory.ImportError
	if errors.As(err, &ie) {
		return fail(1, "%s: providers[%d] (%s): %v", cfg.ImportFile, ie.Index, ie.ID, fieldError(ie.Err, yamlFields))
	}
	if err != nil {
		return fail(1, "%v", err)
	}
	if len(res.Inserted)+len(res.Updated) == 0 {
		fmt.Fprintf(stdout, "%s: nothing to change: the directory already holds its %d provider(s) as the file says; directory version %d\n",
			cfg.ImportFile, len(res.Unchanged), res.Version)
		return 0
	}
	fmt.Fprintf(stdout, "%s: %d inserted (ACTIVE), %d updated, %d unchanged; directory version %d\n",
		cfg.ImportFile, len(res.Inserted), len(res.Updated), len(res.Unchanged), res.Version)
	for _, l := range []struct {
		what string
		ids  []string
	}{{"inserted", res.Inserted}, {"updated", res.Updated}} {
		if len(l.ids) > 0 {
			fmt.Fprintf(stdout, "  %s: %s\n", l.what, strings.Join(l.ids, ", "))
		}
	}
	return 0
}

// indexSynthetic publishes the first --items-per-provider items of each
// generated provider's own catalogue into the supply index in
// PLAZA_DATABASE_URL, through the gateway's ingest (the catalogue
// contract's checks and acknowledgements), four providers at a time: the
// in-process demo provider derived from its id, or, with --endpoint, its
// endpoint's catalogue pulled over the contract (signed with --secret). The
// items are the provider's own, so a search page completed from it finds
// them. A second run is acknowledged superseded and changes nothing. Each
// provider's catalogue cursor after its items is stored (catalog_cursors),
// so the gateway's syncer resumes after them rather than pulling them again.
func indexSynthetic(ctx context.Context, pool *pgxpool.Pool, g config.Generate, stdout io.Writer) error {
	if _, err := supply.Migrate(ctx, pool); err != nil {
		return err
	}
	if _, err := catalog.Migrate(ctx, pool); err != nil {
		return err
	}
	in := catalog.New(supply.NewPostgres(pool), nil)
	opts := directory.GenerateOptions{Endpoints: g.Endpoints}
	start := time.Now()
	res, err := catalog.IndexGenerated(ctx, in, catalog.NewPostgresCursors(pool), g.Count, g.ItemsPerProvider, 4, func(ctx context.Context, i int) (string, connectors.Catalog, error) {
		p := directory.Generated(g.Seed, i, opts)
		desc := connectors.Descriptor{ID: p.ID, Name: p.Name, Vertical: p.Vertical, Cities: p.Cities}
		var c connectors.Connector
		var err error
		if p.Endpoint == "" {
			c, err = demo.Embedded(desc)
		} else {
			c, err = httpprovider.New(httpprovider.Config{ID: p.ID, Vertical: p.Vertical, BaseURL: p.Endpoint, Secret: g.Secret, Timeout: 5 * time.Second})
		}
		if err != nil {
			return p.ID, nil, err
		}
		cat, ok := c.(connectors.Catalog)
		if !ok {
			return p.ID, nil, fmt.Errorf("provider %s publishes no catalogue", p.ID)
		}
		return p.ID, cat, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "indexed the catalogues of %d providers (up to %d items each) through the catalogue contract: %d indexed, %d already there, in %v\n",
		res.Providers, g.ItemsPerProvider, res.Indexed, res.Superseded, time.Since(start).Round(time.Millisecond))
	if res.Unreachable > 0 {
		fmt.Fprintf(stdout, "%d providers' catalogues could not be read (an endpoint down?): their items appear in search once they publish\n", res.Unreachable)
	}
	return nil
}

func countEndpoints(g config.Generate) int {
	n := 0
	for _, eps := range g.Endpoints {
		n += len(eps)
	}
	return n
}

// importEntries reads a registry file (the format of plaza.example.yaml,
// parsed strictly by package providers) and turns its providers into
// directory entries. Errors name the entry and the file's field.
func importEntries(path string, getenv func(string) string) ([]directory.ImportEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := providers.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]directory.ImportEntry, 0, len(f.Providers))
	for i, p := range f.Providers {
		e, err := importEntry(p, getenv)
		if err != nil {
			return nil, fmt.Errorf("%s: providers[%d] (%s): %w", path, i, p.ID, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func importEntry(p providers.Entry, getenv func(string) string) (directory.ImportEntry, error) {
	v, err := providers.ParseVertical(p.Vertical)
	if err != nil {
		return directory.ImportEntry{}, fmt.Errorf("vertical: %w", err)
	}
	e := directory.ImportEntry{ID: p.ID, Vertical: v, Name: p.Name, Description: p.Description, Cities: p.Cities,
		Endpoint: p.URL, Rating: p.Rating, CacheTTL: p.CacheTTL, Secret: p.Secret,
		Limits: directory.Limits{Timeout: p.Timeout, MaxConcurrent: p.MaxConcurrent, MaxBatch: p.MaxBatch}}
	switch {
	case p.URL != "" && p.Embedded != "":
		return e, errors.New("url: set either url or embedded, not both")
	case p.Embedded != "" && p.Embedded != "demo":
		return e, fmt.Errorf("embedded: %q: only \"demo\" is available", p.Embedded)
	case p.URL == "" && p.Embedded == "":
		return e, errors.New("url: url is required (or embedded: demo)")
	case p.Secret != "" && p.SecretEnv != "":
		return e, errors.New("secret: set either secret or secret_env, not both")
	}
	if p.SecretEnv != "" {
		if e.Secret = getenv(p.SecretEnv); e.Secret == "" {
			return e, fmt.Errorf("secret_env: %s is not set", p.SecretEnv)
		}
	}
	return e, nil
}

// yamlFields are the registry file's names for the directory's fields.
var yamlFields = map[string]string{"endpoint": "url", "limits.timeout": "timeout", "limits.maxConcurrent": "max_concurrent",
	"limits.maxBatch": "max_batch", "cacheTTL": "cache_ttl"}

// fieldError shows a directory validation error as "field: message", the
// field under its name in names when it has one there.
func fieldError(err error, names map[string]string) error {
	var de *directory.Error
	if !errors.As(err, &de) || de.Code != directory.Invalid || de.Field == "" {
		return err
	}
	field := de.Field
	if f, ok := names[field]; ok {
		field = f
	}
	return fmt.Errorf("%s: %s", field, de.Message)
}
