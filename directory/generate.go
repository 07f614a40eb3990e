package directory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/connectors"
)

// ErrProduction is returned by Generate in production.
var ErrProduction = errors.New("directory: generate refuses to run in production")

// GenerateOptions shape synthetic providers.
type GenerateOptions struct {
	// Endpoints: a vertical's providers point at these URLs, round-robin.
	// Verticals without any are served in process (empty endpoint).
	Endpoints map[connectors.Vertical][]string
	// Secret every generated provider signs with (requires Sealer); empty:
	// no secret (in-process providers need none).
	Secret string
	Sealer *Sealer
}

// GenerateResult says what Generate did.
type GenerateResult struct {
	// Inserted providers; 0 when the same seed and count ran before.
	Inserted int64
	// Version the directory moved to (unchanged when nothing was inserted).
	Version int64
}

// GeneratedID is the id of the i-th synthetic provider of seed.
func GeneratedID(seed int64, i int) string {
	return "gen" + strconv.FormatInt(seed, 10) + "-" + fmt.Sprintf("%07d", i)
}

// Generated derives the i-th synthetic provider of seed. It depends on
// nothing else, so growing count keeps the providers generated before and
// any instance can recompute a provider's data from its id.
func Generated(seed int64, i int, opts GenerateOptions) Provider {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
	v := connectors.Verticals[r.IntN(len(connectors.Verticals))]
	words := nameWords[v]
	name := prefixes[r.IntN(len(prefixes))] + " " + words[r.IntN(len(words))]
	n := 1 + r.IntN(3)
	cities := make([]string, 0, n)
	// Skewed towards the big cities, as real supply is.
	for len(cities) < n {
		c := GeneratedCities[int(float64(len(GeneratedCities))*r.Float64()*r.Float64())]
		dup := false
		for _, x := range cities {
			dup = dup || x == c
		}
		if !dup {
			cities = append(cities, c)
		}
	}
	p := Provider{ID: GeneratedID(seed, i), Vertical: v, Name: name, Cities: cities, Lifecycle: Active,
		Rating:       float64(30+r.IntN(21)) / 10,
		Description:  name + " serves " + strings.Join(cities, ", ") + ".",
		ContactEmail: "ops@" + GeneratedID(seed, i) + ".example"}
	if eps := opts.Endpoints[v]; len(eps) > 0 {
		p.Endpoint = eps[i%len(eps)]
	}
	return p
}

var prefixes = []string{"Golden", "Lotus", "Jade", "Harmony", "Sunrise", "River", "Bamboo", "Peony", "Pearl", "Summit",
	"Orchid", "Crane", "Willow", "Evergreen", "Silk Road", "Lakeside", "Morning Star", "Phoenix", "Maple", "Spring",
	"Blue Sky", "Red Lantern", "East Gate", "West Lake", "North Star", "Bright", "Happy Family", "Five Grains",
	"Green Valley", "Dragon Well"}

var nameWords = map[connectors.Vertical][]string{
	connectors.VerticalGrocery:       {"Market", "Fresh Mart", "Grocers", "Farm Store", "Supermarket", "Greens", "Pantry", "Food Hall"},
	connectors.VerticalMedical:       {"Clinic", "Health", "Medical Centre", "Family Doctors", "Care", "Hospital", "Wellness", "Pharmacy"},
	connectors.VerticalLegal:         {"Law Firm", "Legal", "Advocates", "Counsel", "Attorneys", "Legal Aid", "Notary", "Partners"},
	connectors.VerticalPublicService: {"Citizen Services", "Service Hall", "Civic Desk", "Permit Office", "Records Office", "One-Stop Centre"},
}

// generateBatch is how many rows one COPY carries.
const generateBatch = 50000

// Generate fills the directory at pool with count synthetic ACTIVE providers
// (Generated(seed, 0..count-1)) using COPY. It is idempotent: providers that
// exist are left alone, and a run that inserts nothing changes no version.
// All of it is one change (one version, a bulk entry in the change log), after
// which followers reload their snapshot. It refuses in production.
func Generate(ctx context.Context, pool *pgxpool.Pool, count int, seed int64, production bool, opts GenerateOptions) (GenerateResult, error) {
	if production {
		return GenerateResult{}, ErrProduction
	}
	if count < 0 {
		return GenerateResult{}, invalid("count", "count must not be negative")
	}
	if opts.Secret != "" {
		if err := validateSecret("secret", opts.Secret); err != nil {
			return GenerateResult{}, err
		}
		if opts.Sealer == nil {
			return GenerateResult{}, ErrNoSealer
		}
	}
	// Generate runs outside production only: http on loopback is fine.
	dev := Policy{Development: true}
	for v, eps := range opts.Endpoints {
		if !v.Valid() {
			return GenerateResult{}, invalid("endpoint", "unknown vertical %q", v)
		}
		for _, ep := range eps {
			if err := dev.validateURL("endpoint", ep, true); err != nil {
				return GenerateResult{}, err
			}
		}
	}
	var res GenerateResult
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `UPDATE directory_version SET version = version + 1 RETURNING version`).Scan(&res.Version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE generated_providers (LIKE providers INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return err
		}
		cols := []string{"id", "vertical", "name", "description", "cities", "endpoint", "contact_email", "rating",
			"lifecycle", "secret", "version"}
		for start := 0; start < count; start += generateBatch {
			end := min(start+generateBatch, count)
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"generated_providers"}, cols,
				pgx.CopyFromSlice(end-start, func(k int) ([]any, error) {
					p := Generated(seed, start+k, opts)
					var sealed []byte
					if opts.Secret != "" {
						var err error
						if sealed, err = opts.Sealer.Seal(p.ID, opts.Secret); err != nil {
							return nil, err
						}
					}
					return []any{p.ID, string(p.Vertical), p.Name, p.Description, p.Cities, p.Endpoint, p.ContactEmail,
						float32(p.Rating), p.Lifecycle.String(), sealed, res.Version}, nil
				})); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO providers SELECT * FROM generated_providers ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return err
		}
		res.Inserted = tag.RowsAffected()
		if res.Inserted == 0 {
			return errNothingGenerated
		}
		if _, err := tx.Exec(ctx, `INSERT INTO directory_changes (version, provider_id, kind) VALUES ($1, NULL, 'generate')`, res.Version); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, strconv.FormatInt(res.Version, 10))
		return err
	})
	if errors.Is(err, errNothingGenerated) {
		// Rolled back: the version bump is undone too.
		var v int64
		if err := pool.QueryRow(ctx, `SELECT version FROM directory_version`).Scan(&v); err != nil {
			return GenerateResult{}, fmt.Errorf("directory: generate: %w", classify(ctx, err))
		}
		return GenerateResult{Version: v}, nil
	}
	if err != nil {
		return GenerateResult{}, fmt.Errorf("directory: generate: %w", classify(ctx, err))
	}
	return res, nil
}

var errNothingGenerated = errors.New("nothing to generate")
