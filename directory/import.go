package directory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/connectors"
)

// ImportEntry is one provider of an imported registry file (plaza.yaml): the
// fields the file can say. An empty Endpoint is a provider served in process
// (embedded: demo); an empty Secret stores none.
type ImportEntry struct {
	ID          string
	Vertical    connectors.Vertical
	Name        string
	Description string
	Cities      []string
	Endpoint    string
	Rating      float64
	Limits      Limits
	CacheTTL    map[string]time.Duration
	Secret      string
}

// ImportOptions are what Import depends on besides the entries.
type ImportOptions struct {
	// Sealer encrypts secrets; required when an entry has one.
	Sealer *Sealer
	// Policy checks endpoints (http on loopback in development only).
	Policy Policy
	// Actor and Reason are recorded in the lifecycle history of the
	// providers the import creates.
	Actor, Reason string
}

// ImportResult counts what Import did, by provider.
type ImportResult struct {
	Inserted, Updated, Unchanged []string
	// Version the directory moved to; unchanged when nothing changed.
	Version int64
}

// ImportError is an entry that cannot be imported: its index and id, and the
// *Error naming the field.
type ImportError struct {
	Index int
	ID    string
	Err   error
}

func (e *ImportError) Error() string {
	return fmt.Sprintf("providers[%d] (%s): %v", e.Index, e.ID, e.Err)
}

func (e *ImportError) Unwrap() error { return e.Err }

// Import loads entries into the directory at pool in one transaction and one
// directory version: a new id is inserted ACTIVE (it was live in the file),
// an entry that differs from its row updates it, and an identical one is left
// alone, so importing the same file twice changes nothing the second time.
// An existing provider keeps its lifecycle (an operator's suspension stands)
// and the fields a file cannot say (contact, sandbox, quotas). Every entry is
// checked first: one bad entry imports nothing.
func Import(ctx context.Context, pool *pgxpool.Pool, entries []ImportEntry, opts ImportOptions) (ImportResult, error) {
	seen := make(map[string]int, len(entries))
	for i := range entries {
		e := &entries[i]
		if err := opts.validate(e); err != nil {
			return ImportResult{}, &ImportError{Index: i, ID: e.ID, Err: err}
		}
		if j, dup := seen[e.ID]; dup {
			return ImportResult{}, &ImportError{Index: i, ID: e.ID, Err: invalid("id", "declared twice (also providers[%d])", j)}
		}
		seen[e.ID] = i
	}
	var res ImportResult
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Lock the version row first: writers queue here, as in mutate.
		if err := tx.QueryRow(ctx, `SELECT version FROM directory_version FOR UPDATE`).Scan(&res.Version); err != nil {
			return err
		}
		version := res.Version + 1
		existing, err := importedRows(ctx, tx, slices.Collect(maps.Keys(seen)))
		if err != nil {
			return err
		}
		for _, e := range entries {
			row, found := existing[e.ID]
			switch {
			case !found:
				if err := opts.insert(ctx, tx, e, version); err != nil {
					return fmt.Errorf("%s: %w", e.ID, err)
				}
				res.Inserted = append(res.Inserted, e.ID)
			case row.same(e, opts.Sealer):
				res.Unchanged = append(res.Unchanged, e.ID)
			default:
				if err := opts.update(ctx, tx, e, row, version); err != nil {
					return fmt.Errorf("%s: %w", e.ID, err)
				}
				res.Updated = append(res.Updated, e.ID)
			}
		}
		if len(res.Inserted)+len(res.Updated) == 0 {
			return nil // nothing written; the version stays
		}
		res.Version = version
		if _, err := tx.Exec(ctx, `UPDATE directory_version SET version = $1`, version); err != nil {
			return err
		}
		// A bulk change: followers reload the snapshot.
		if _, err := tx.Exec(ctx, `INSERT INTO directory_changes (version, provider_id, kind) VALUES ($1, NULL, 'import')`, version); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, strconv.FormatInt(version, 10))
		return err
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("directory: import: %w", classify(ctx, err))
	}
	return res, nil
}

// validate normalizes e and checks it with the registration rules, except
// that a file may leave cities out (the provider then serves no named city)
// and name an in-process provider (no endpoint, no secret).
func (o ImportOptions) validate(e *ImportEntry) error {
	e.ID = strings.TrimSpace(e.ID)
	if !connectors.ValidProviderID(e.ID) {
		return invalid("id", "use 1 to 64 characters of a-z, 0-9 and -")
	}
	if !e.Vertical.Valid() {
		return invalid("vertical", "unknown vertical %q", e.Vertical)
	}
	if e.Name = strings.TrimSpace(e.Name); e.Name == "" {
		e.Name = e.ID
	}
	if !utf8.ValidString(e.Name) || utf8.RuneCountInString(e.Name) > MaxNameLength {
		return invalid("name", "name is longer than %d characters", MaxNameLength)
	}
	if !utf8.ValidString(e.Description) || utf8.RuneCountInString(e.Description) > MaxDescriptionLength {
		return invalid("description", "description is longer than %d characters", MaxDescriptionLength)
	}
	if len(e.Cities) > 0 {
		cities, err := normalizeCities(e.Cities)
		if err != nil {
			return err
		}
		e.Cities = cities
	} else {
		e.Cities = []string{}
	}
	if err := o.Policy.validateURL("endpoint", e.Endpoint, false); err != nil {
		return err
	}
	if e.Rating < 0 || e.Rating > 5 {
		return invalid("rating", "between 0 and 5")
	}
	if err := validateLimits(e.Limits); err != nil {
		return err
	}
	if err := validateCacheTTL(e.CacheTTL); err != nil {
		return err
	}
	switch {
	case e.Secret == "" && e.Endpoint != "":
		return invalid("secret", "a provider with an endpoint needs a signing secret")
	case e.Secret == "":
		return nil
	case len(e.Secret) > MaxSecretLength:
		return invalid("secret", "secret is longer than %d characters", MaxSecretLength)
	case !o.Policy.Development && len(e.Secret) < MinSecretLength:
		// Development files (scripts/run-http.sh) use short demo secrets.
		return invalid("secret", "secret is shorter than %d characters", MinSecretLength)
	case o.Sealer == nil:
		return ErrNoSealer
	}
	return nil
}

// ErrNoSealer is an import or generation given a secret without a key to
// encrypt it with: secrets are never stored in the clear.
var ErrNoSealer = &Error{Code: Invalid, Field: "secret",
	Message: "secrets are stored encrypted, and no key is configured (PLAZA_DIRECTORY_KEY)"}

// importedRow is what an import compares an entry with.
type importedRow struct {
	vertical, name, description, endpoint string
	cities                                []string
	rating                                float32
	timeoutMs, maxConcurrent, maxBatch    int32
	maxItems, pushesPerMinute             int32
	cacheTTL                              string
	secret                                []byte
}

func importedRows(ctx context.Context, tx pgx.Tx, ids []string) (map[string]importedRow, error) {
	rows, err := tx.Query(ctx, `SELECT id, vertical, name, description, endpoint, cities, rating, timeout_ms,
			max_concurrent, max_batch, max_items, pushes_per_minute, cache_ttl_ms::text, secret
		FROM providers WHERE id = ANY($1) FOR UPDATE`, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]importedRow, len(ids))
	for rows.Next() {
		var id string
		var r importedRow
		if err := rows.Scan(&id, &r.vertical, &r.name, &r.description, &r.endpoint, &r.cities, &r.rating,
			&r.timeoutMs, &r.maxConcurrent, &r.maxBatch, &r.maxItems, &r.pushesPerMinute, &r.cacheTTL, &r.secret); err != nil {
			rows.Close()
			return nil, err
		}
		out[id] = r
	}
	return out, rows.Err()
}

// same reports whether the row already says what e says. Secrets are sealed
// with a fresh nonce, so they are compared opened.
func (r importedRow) same(e ImportEntry, sealer *Sealer) bool {
	ttl, err := parseTTL(r.cacheTTL)
	if err != nil || !maps.Equal(ttl, roundTTL(e.CacheTTL)) {
		return false
	}
	if r.vertical != string(e.Vertical) || r.name != e.Name || r.description != e.Description ||
		r.endpoint != e.Endpoint || !slices.Equal(r.cities, e.Cities) || r.rating != float32(e.Rating) ||
		int64(r.timeoutMs) != e.Limits.Timeout.Milliseconds() || int(r.maxConcurrent) != e.Limits.MaxConcurrent ||
		int(r.maxBatch) != e.Limits.MaxBatch {
		return false
	}
	if e.Secret == "" || sealer == nil {
		return len(r.secret) == 0
	}
	if len(r.secret) == 0 {
		return false
	}
	// Under another key (or damaged) the secret is resealed.
	old, err := sealer.Open(e.ID, r.secret)
	return err == nil && old == e.Secret
}

// roundTTL is m as stored (milliseconds).
func roundTTL(m map[string]time.Duration) map[string]time.Duration {
	out := make(map[string]time.Duration, len(m))
	for k, v := range m {
		out[k] = v.Truncate(time.Millisecond)
	}
	return out
}

func (o ImportOptions) seal(e ImportEntry) ([]byte, error) {
	if e.Secret == "" {
		return nil, nil
	}
	return o.Sealer.Seal(e.ID, e.Secret)
}

func (o ImportOptions) insert(ctx context.Context, tx pgx.Tx, e ImportEntry, version int64) error {
	sealed, err := o.seal(e)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO providers (id, vertical, name, description, cities, endpoint, rating,
			timeout_ms, max_concurrent, max_batch, cache_ttl_ms, lifecycle, secret, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'ACTIVE', $12, $13)`,
		e.ID, string(e.Vertical), e.Name, e.Description, e.Cities, e.Endpoint, float32(e.Rating),
		e.Limits.Timeout.Milliseconds(), e.Limits.MaxConcurrent, e.Limits.MaxBatch, formatTTL(e.CacheTTL),
		sealed, version); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO provider_lifecycle_history (provider_id, from_state, to_state, actor, reason, version)
		VALUES ($1, 'PENDING', 'ACTIVE', $2, $3, $4)`, e.ID, o.Actor, o.Reason, version)
	return err
}

// update writes e over row, and records in the provider's history what
// changed of its cities, limits and secret (as operators' changes are).
func (o ImportOptions) update(ctx context.Context, tx pgx.Tx, e ImportEntry, row importedRow, version int64) error {
	sealed, err := o.seal(e)
	if err != nil {
		return err
	}
	now := time.Now()
	change := func(what ChangeKind, from, to string) error {
		if from == to {
			return nil
		}
		return recordChange(ctx, tx, e.ID, Change{What: what, From: from, To: to, Actor: o.Actor, Reason: o.Reason, At: now, Version: version})
	}
	before := Limits{Timeout: time.Duration(row.timeoutMs) * time.Millisecond, MaxConcurrent: int(row.maxConcurrent),
		MaxBatch: int(row.maxBatch), MaxItems: int(row.maxItems), PushesPerMinute: int(row.pushesPerMinute)}
	after := before
	after.Timeout, after.MaxConcurrent, after.MaxBatch = e.Limits.Timeout.Truncate(time.Millisecond), e.Limits.MaxConcurrent, e.Limits.MaxBatch
	oldFP, newFP := "none", "none"
	if o.Sealer != nil {
		oldFP = o.Sealer.fingerprintSealed(e.ID, row.secret)
		if e.Secret != "" {
			newFP = o.Sealer.Fingerprint(e.ID, e.Secret)
		}
	}
	for _, c := range []struct {
		what     ChangeKind
		from, to string
	}{
		{ChangeCities, describeCities(row.cities), describeCities(e.Cities)},
		{ChangeLimits, describeLimits(before), describeLimits(after)},
		{ChangeSecret, oldFP, newFP},
	} {
		if err := change(c.what, c.from, c.to); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `UPDATE providers SET vertical = $2, name = $3, description = $4, cities = $5,
			endpoint = $6, rating = $7, timeout_ms = $8, max_concurrent = $9, max_batch = $10, cache_ttl_ms = $11,
			secret = $12, updated_at = now(), version = $13
		WHERE id = $1`,
		e.ID, string(e.Vertical), e.Name, e.Description, e.Cities, e.Endpoint, float32(e.Rating),
		e.Limits.Timeout.Milliseconds(), e.Limits.MaxConcurrent, e.Limits.MaxBatch, formatTTL(e.CacheTTL),
		sealed, version)
	return err
}
