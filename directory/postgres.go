package directory

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/connectors"
)

// channel is the NOTIFY channel that carries directory versions.
const channel = "plaza_directory"

// Postgres is the directory in PostgreSQL, shared by every instance. Each
// instance follows the change feed into its own snapshot: a LISTEN connection
// wakes it, and it reads what changed from directory_changes by version, so
// a missed notification (reconnect, restart) costs nothing but a catch-up.
type Postgres struct {
	pool   *pgxpool.Pool
	sealer *Sealer
	policy Policy
	opts   options
	pgOpts pgOptions
	view   *view

	catchMu sync.Mutex // one catch-up at a time

	stateMu  sync.Mutex
	degraded bool
	lastErr  string

	cancel context.CancelFunc
	done   chan struct{}
}

var _ Store = (*Postgres)(nil)

// PostgresOption tunes the follower.
type PostgresOption func(*pgOptions)

type pgOptions struct {
	poll    time.Duration
	backoff time.Duration
}

// WithPoll sets how often the follower checks the change table without a
// notification (default 5s): a bound on staleness if a NOTIFY is lost, and
// how a silent network partition is noticed.
func WithPoll(d time.Duration) PostgresOption { return func(o *pgOptions) { o.poll = d } }

// WithReconnectBackoff sets the wait between attempts to reconnect the feed
// (default 500ms).
func WithReconnectBackoff(d time.Duration) PostgresOption {
	return func(o *pgOptions) { o.backoff = d }
}

// OpenPostgres loads the full snapshot from pool (the instance is ready when
// this returns) and starts following the change feed until Close. The schema
// must be migrated (Migrate).
func OpenPostgres(ctx context.Context, pool *pgxpool.Pool, sealer *Sealer, policy Policy, opts []Option, pgOpts ...PostgresOption) (*Postgres, error) {
	p := &Postgres{pool: pool, sealer: sealer, policy: policy, opts: buildOptions(opts), view: newView(),
		pgOpts: pgOptions{poll: 5 * time.Second, backoff: 500 * time.Millisecond}, done: make(chan struct{})}
	for _, f := range pgOpts {
		f(&p.pgOpts)
	}
	snap, err := p.load(ctx)
	if err != nil {
		return nil, err
	}
	p.view.replace(snap)
	fctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go p.follow(fctx)
	return p, nil
}

// Close stops following the feed. It does not close the pool.
func (p *Postgres) Close() {
	p.cancel()
	<-p.done
}

// Snapshot implements Store.
func (p *Postgres) Snapshot() *Snapshot { return p.view.snapshot() }

// State implements Store.
func (p *Postgres) State() State {
	s := p.view.snapshot()
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	return State{Ready: true, Degraded: p.degraded, Err: p.lastErr, Version: s.Version(), Providers: s.Len()}
}

func (p *Postgres) setDegraded(err error) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	p.degraded = err != nil
	p.lastErr = ""
	if err != nil {
		p.lastErr = err.Error()
	}
}

// follow keeps a LISTEN connection open, catching up after every
// notification, every poll interval and every (re)connection.
func (p *Postgres) follow(ctx context.Context) {
	defer close(p.done)
	for ctx.Err() == nil {
		err := p.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		p.setDegraded(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(p.pgOpts.backoff):
		}
	}
}

func (p *Postgres) listen(ctx context.Context) error {
	// A dedicated connection, outside the pool: LISTEN is per session and
	// must not hold one of the pool's slots.
	conn, err := pgx.ConnectConfig(ctx, p.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("directory feed: connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return fmt.Errorf("directory feed: listen: %w", err)
	}
	for {
		// Catch up after LISTEN, so nothing committed before it is missed.
		if err := p.catchUp(ctx); err != nil {
			return err
		}
		p.setDegraded(nil)
		wctx, cancel := context.WithTimeout(ctx, p.pgOpts.poll)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil:
			if v, perr := strconv.ParseInt(n.Payload, 10, 64); perr == nil && v <= p.view.snapshot().Version() {
				continue // already served (our own write, or an older notification)
			}
		case errors.Is(err, context.DeadlineExceeded) && wctx.Err() != nil:
			// The poll: check the connection is alive, then catch up anyway.
			if err := conn.Ping(ctx); err != nil {
				return fmt.Errorf("directory feed: %w", err)
			}
		default:
			return fmt.Errorf("directory feed: %w", err)
		}
	}
}

// catchUpBatch bounds one read of the change table.
const catchUpBatch = 10000

// catchUp applies every change after the served version. A gap (the change
// log was pruned past us) or a bulk change (generate, import) reloads the
// whole snapshot instead.
func (p *Postgres) catchUp(ctx context.Context) error {
	p.catchMu.Lock()
	defer p.catchMu.Unlock()
	for {
		served := p.view.snapshot().Version()
		rows, err := p.pool.Query(ctx, `SELECT version, provider_id FROM directory_changes
			WHERE version > $1 ORDER BY version LIMIT $2`, served, catchUpBatch)
		if err != nil {
			return fmt.Errorf("directory catch-up: %w", err)
		}
		var (
			last   = served
			ids    []string
			seen   = map[string]bool{}
			reload bool
			n      int
		)
		for rows.Next() {
			var v int64
			var id *string
			if err := rows.Scan(&v, &id); err != nil {
				rows.Close()
				return fmt.Errorf("directory catch-up: %w", err)
			}
			if n == 0 && v != served+1 {
				reload = true // versions are gapless: a gap means pruned history
			}
			n++
			last = v
			if id == nil {
				reload = true
			} else if !seen[*id] {
				seen[*id] = true
				ids = append(ids, *id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("directory catch-up: %w", err)
		}
		if n == 0 {
			return nil
		}
		if reload {
			snap, err := p.load(ctx)
			if err != nil {
				return err
			}
			p.view.replace(snap)
			return nil
		}
		recs, err := p.records(ctx, ids)
		if err != nil {
			return err
		}
		p.view.apply(last, recs)
		if n < catchUpBatch {
			return nil
		}
	}
}

// snapshotColumns are what a snapshot holds of a provider.
const snapshotColumns = `id, vertical, name, cities, endpoint, sandbox_endpoint, rating, timeout_ms,
	max_concurrent, max_batch, max_items, pushes_per_minute, cache_ttl_ms::text, lifecycle, version`

func scanRecord(rows pgx.Rows, r *record) error {
	var (
		vertical, lifecycle, ttl string
		rating                   float32
		timeoutMs                int32
		mc, mb, mi, ppm          int32
	)
	if err := rows.Scan(&r.ID, &vertical, &r.Name, &r.Cities, &r.Endpoint, &r.Sandbox, &rating, &timeoutMs,
		&mc, &mb, &mi, &ppm, &ttl, &lifecycle, &r.Version); err != nil {
		return err
	}
	r.Vertical = connectors.Vertical(vertical)
	r.Lifecycle, _ = ParseLifecycle(lifecycle)
	r.Rating = float64(rating)
	r.Limits = Limits{Timeout: time.Duration(timeoutMs) * time.Millisecond, MaxConcurrent: int(mc), MaxBatch: int(mb),
		MaxItems: int(mi), PushesPerMinute: int(ppm)}
	r.CacheTTL = nil
	if ttl != "{}" {
		m, err := parseTTL(ttl)
		if err != nil {
			return err
		}
		r.CacheTTL = m
	}
	return nil
}

func parseTTL(s string) (map[string]time.Duration, error) {
	var ms map[string]int64
	if err := json.Unmarshal([]byte(s), &ms); err != nil {
		return nil, fmt.Errorf("cache_ttl_ms: %w", err)
	}
	out := make(map[string]time.Duration, len(ms))
	for k, v := range ms {
		out[k] = time.Duration(v) * time.Millisecond
	}
	return out, nil
}

func formatTTL(m map[string]time.Duration) string {
	ms := make(map[string]int64, len(m))
	for k, v := range m {
		ms[k] = v.Milliseconds()
	}
	b, _ := json.Marshal(ms)
	return string(b)
}

func (p *Postgres) records(ctx context.Context, ids []string) ([]record, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+snapshotColumns+` FROM providers WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("directory catch-up: %w", err)
	}
	defer rows.Close()
	var out []record
	for rows.Next() {
		var r record
		if err := scanRecord(rows, &r); err != nil {
			return nil, fmt.Errorf("directory catch-up: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// load reads the whole directory in one repeatable-read transaction, so the
// snapshot matches the version it is stamped with.
func (p *Postgres) load(ctx context.Context) (*Snapshot, error) {
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("directory load: %w", classify(ctx, err))
	}
	defer tx.Rollback(context.Background())
	var version, count int64
	if err := tx.QueryRow(ctx, `SELECT version, (SELECT count(*) FROM providers) FROM directory_version`).Scan(&version, &count); err != nil {
		return nil, fmt.Errorf("directory load: %w", classify(ctx, err))
	}
	b := newBuild(int(count))
	// Ordered by id, the coverage lists fill already sorted. Cities come as
	// one string (names cannot hold control characters), and rows are
	// decoded from their raw bytes without allocating: the builder copies
	// what it keeps into its arena before the next row.
	rows, err := tx.Query(ctx, `SELECT id, vertical, name, array_to_string(cities, E'\x1f'), endpoint,
		sandbox_endpoint, rating, timeout_ms, max_concurrent, max_batch, max_items, pushes_per_minute,
		cache_ttl_ms::text, lifecycle, version FROM providers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("directory load: %w", classify(ctx, err))
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	var r record
	for rows.Next() {
		if err := decodeRaw(rows.RawValues(), fds, &r); err != nil {
			return nil, fmt.Errorf("directory load: %w", err)
		}
		b.upsert(r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory load: %w", classify(ctx, err))
	}
	return b.finish(version), nil
}

// classify turns a database error into what a client sees: a lost or refused
// connection is Unavailable; errors the server reports stay as they are
// (mapped by the caller, or Internal).
func classify(ctx context.Context, err error) error {
	var de *Error
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de):
		return err
	case ctx.Err() != nil:
		return err
	case errors.As(err, &pe):
		if pe.Code == "57P01" || pe.Code == "57P03" || pe.Code[:2] == "08" { // shutdown, cannot connect, connection exceptions
			return unavailable(err)
		}
		return err
	default:
		// Dial failures, broken connections, timeouts inside the driver.
		return unavailable(err)
	}
}

// mutate runs change in a transaction that takes the next directory version,
// logs the change and notifies the feed; then it catches this instance up,
// so it reads its own writes.
func (p *Postgres) mutate(ctx context.Context, providerID, kind string, change func(tx pgx.Tx, version int64) error) (int64, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return 0, classify(ctx, err)
	}
	defer tx.Rollback(context.Background())
	var version int64
	// The single row is locked until commit: writers queue here, so versions
	// commit in order and without gaps.
	if err := tx.QueryRow(ctx, `UPDATE directory_version SET version = version + 1 RETURNING version`).Scan(&version); err != nil {
		return 0, classify(ctx, err)
	}
	if err := change(tx, version); err != nil {
		return 0, classify(ctx, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO directory_changes (version, provider_id, kind) VALUES ($1, $2, $3)`,
		version, providerID, kind); err != nil {
		return 0, classify(ctx, err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, strconv.FormatInt(version, 10)); err != nil {
		return 0, classify(ctx, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, classify(ctx, err)
	}
	// Committed: a failed catch-up only delays this instance's view (the
	// feed retries), it does not fail the mutation.
	_ = p.catchUp(ctx)
	return version, nil
}

const providerColumns = `id, vertical, name, description, cities, endpoint, sandbox_endpoint, contact_email, rating,
	timeout_ms, max_concurrent, max_batch, max_items, pushes_per_minute, cache_ttl_ms::text, lifecycle, version,
	created_at, updated_at, owner`

func scanProvider(row pgx.Row) (Provider, error) {
	var (
		p                        Provider
		vertical, lifecycle, ttl string
		rating                   float32
		timeoutMs                int32
		mc, mb, mi, ppm          int32
	)
	if err := row.Scan(&p.ID, &vertical, &p.Name, &p.Description, &p.Cities, &p.Endpoint, &p.SandboxEndpoint,
		&p.ContactEmail, &rating, &timeoutMs, &mc, &mb, &mi, &ppm, &ttl, &lifecycle, &p.Version, &p.CreatedAt,
		&p.UpdatedAt, &p.Owner); err != nil {
		return Provider{}, err
	}
	p.Vertical = connectors.Vertical(vertical)
	p.Lifecycle, _ = ParseLifecycle(lifecycle)
	p.Rating = float64(rating)
	p.Limits = Limits{Timeout: time.Duration(timeoutMs) * time.Millisecond, MaxConcurrent: int(mc), MaxBatch: int(mb),
		MaxItems: int(mi), PushesPerMinute: int(ppm)}
	if ttl != "{}" {
		m, err := parseTTL(ttl)
		if err != nil {
			return Provider{}, err
		}
		p.CacheTTL = m
	}
	return p, nil
}

// Get implements Store.
func (p *Postgres) Get(ctx context.Context, id string) (Provider, error) {
	pr, err := scanProvider(p.pool.QueryRow(ctx, `SELECT `+providerColumns+` FROM providers WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Provider{}, notFound(id)
	}
	if err != nil {
		return Provider{}, classify(ctx, err)
	}
	return pr, nil
}

// Register implements Store.
func (p *Postgres) Register(ctx context.Context, r Registration, actor string) (Provider, error) {
	if err := validateActor(actor, ""); err != nil {
		return Provider{}, err
	}
	if err := p.policy.validateRegistration(&r); err != nil {
		return Provider{}, err
	}
	return p.register(ctx, "", r)
}

func (p *Postgres) register(ctx context.Context, code string, r Registration) (Provider, error) {
	sealed, err := p.sealer.Seal(r.ID, r.Secret)
	if err != nil {
		return Provider{}, err
	}
	var out Provider
	now := p.opts.now()
	_, err = p.mutate(ctx, r.ID, "register", func(tx pgx.Tx, version int64) error {
		if code != "" {
			tag, err := tx.Exec(ctx, `UPDATE onboarding_codes SET used_at = $2, provider_id = $3
				WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2`, hashCode(code), now, r.ID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return errBadCode()
			}
		}
		row := tx.QueryRow(ctx, `INSERT INTO providers (id, vertical, name, description, cities, endpoint,
				sandbox_endpoint, contact_email, timeout_ms, max_concurrent, max_batch, max_items, pushes_per_minute,
				cache_ttl_ms, lifecycle, secret, created_at, updated_at, version, owner)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'PENDING', $15, $16, $16, $17, $18)
			ON CONFLICT (id) DO NOTHING
			RETURNING `+providerColumns,
			r.ID, string(r.Vertical), r.Name, r.Description, r.Cities, r.Endpoint, r.SandboxEndpoint, r.ContactEmail,
			r.Limits.Timeout.Milliseconds(), r.Limits.MaxConcurrent, r.Limits.MaxBatch, r.Limits.MaxItems,
			r.Limits.PushesPerMinute, formatTTL(r.CacheTTL), sealed, now, version, r.Owner)
		pr, err := scanProvider(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return invalid("id", "provider %q is already registered", r.ID)
		}
		out = pr
		return err
	})
	return out, err
}

// CreateOnboardingCode implements Store.
func (p *Postgres) CreateOnboardingCode(ctx context.Context, actor string, ttl time.Duration) (string, error) {
	code, hash, err := newOnboardingCodeFor(actor, ttl)
	if err != nil {
		return "", err
	}
	now := p.opts.now()
	if _, err := p.pool.Exec(ctx, `INSERT INTO onboarding_codes (code_hash, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4)`, hash[:], actor, now, now.Add(ttl)); err != nil {
		return "", classify(ctx, err)
	}
	return code, nil
}

// RegisterWithCode implements Store.
func (p *Postgres) RegisterWithCode(ctx context.Context, code string, r Registration) (Provider, error) {
	if err := p.policy.validateRegistration(&r); err != nil {
		return Provider{}, err
	}
	if code == "" {
		return Provider{}, errBadCode()
	}
	return p.register(ctx, code, r)
}

func hashCode(code string) []byte {
	h := sha256.Sum256([]byte(code))
	return h[:]
}

// Transition implements Store.
func (p *Postgres) Transition(ctx context.Context, id string, to Lifecycle, actor, reason string) (Provider, error) {
	if err := validateActor(actor, reason); err != nil {
		return Provider{}, err
	}
	var out Provider
	now := p.opts.now()
	_, err := p.mutate(ctx, id, "lifecycle", func(tx pgx.Tx, version int64) error {
		var cur string
		err := tx.QueryRow(ctx, `SELECT lifecycle FROM providers WHERE id = $1 FOR UPDATE`, id).Scan(&cur)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		from, _ := ParseLifecycle(cur)
		if !CanTransition(from, to) {
			return errTransition(from, to)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO provider_lifecycle_history
			(provider_id, from_state, to_state, actor, reason, at, version) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			id, from.String(), to.String(), actor, reason, now, version); err != nil {
			return err
		}
		out, err = scanProvider(tx.QueryRow(ctx, `UPDATE providers SET lifecycle = $2, version = $3, updated_at = $4
			WHERE id = $1 RETURNING `+providerColumns, id, to.String(), version, now))
		return err
	})
	return out, err
}

// UpdateCities implements Store.
func (p *Postgres) UpdateCities(ctx context.Context, id string, cities []string, actor, reason string) (Provider, error) {
	cities, err := normalizeCities(cities)
	if err != nil {
		return Provider{}, err
	}
	return p.update(ctx, id, actor, reason, ChangeCities, func(pr Provider) string { return describeCities(pr.Cities) },
		`cities = $4`, cities)
}

// UpdateLimits implements Store.
func (p *Postgres) UpdateLimits(ctx context.Context, id string, l Limits, actor, reason string) (Provider, error) {
	if err := validateLimits(l); err != nil {
		return Provider{}, err
	}
	return p.update(ctx, id, actor, reason, ChangeLimits, func(pr Provider) string { return describeLimits(pr.Limits) },
		`timeout_ms = $4, max_concurrent = $5, max_batch = $6, max_items = $7, pushes_per_minute = $8`,
		l.Timeout.Milliseconds(), l.MaxConcurrent, l.MaxBatch, l.MaxItems, l.PushesPerMinute)
}

// update sets one aspect of a provider (set, with args from $4) and records
// it in provider_changes as describe shows it before and after.
func (p *Postgres) update(ctx context.Context, id, actor, reason string, what ChangeKind, describe func(Provider) string,
	set string, args ...any) (Provider, error) {
	if err := validateActor(actor, reason); err != nil {
		return Provider{}, err
	}
	var out Provider
	now := p.opts.now()
	_, err := p.mutate(ctx, id, strings.ToLower(string(what)), func(tx pgx.Tx, version int64) error {
		before, err := scanProvider(tx.QueryRow(ctx, `SELECT `+providerColumns+` FROM providers WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		pr, err := scanProvider(tx.QueryRow(ctx, `UPDATE providers SET version = $2, updated_at = $3, `+set+`
			WHERE id = $1 RETURNING `+providerColumns, append([]any{id, version, now}, args...)...))
		if err != nil {
			return err
		}
		out = pr
		return recordChange(ctx, tx, id, Change{What: what, From: describe(before), To: describe(pr), Actor: actor, Reason: reason,
			At: now, Version: version})
	})
	return out, err
}

func recordChange(ctx context.Context, tx pgx.Tx, id string, c Change) error {
	_, err := tx.Exec(ctx, `INSERT INTO provider_changes (provider_id, what, from_value, to_value, actor, reason, at, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, string(c.What), c.From, c.To, c.Actor, c.Reason, c.At, c.Version)
	return err
}

// RotateSecret implements Store.
func (p *Postgres) RotateSecret(ctx context.Context, id, secret string, overlap time.Duration, actor, reason string) error {
	if err := validateActor(actor, reason); err != nil {
		return err
	}
	if err := validateSecret("secret", secret); err != nil {
		return err
	}
	if overlap < 0 || overlap > MaxSecretOverlap {
		return invalid("overlap", "between 0 and %v", MaxSecretOverlap)
	}
	sealed, err := p.sealer.Seal(id, secret)
	if err != nil {
		return err
	}
	now := p.opts.now()
	_, err = p.mutate(ctx, id, "secret", func(tx pgx.Tx, version int64) error {
		var old []byte
		err := tx.QueryRow(ctx, `SELECT secret FROM providers WHERE id = $1 FOR UPDATE`, id).Scan(&old)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE providers SET previous_secret = secret, previous_secret_until = $3,
			secret = $2, version = $4, updated_at = $5 WHERE id = $1`, id, sealed, now.Add(overlap), version, now); err != nil {
			return err
		}
		return recordChange(ctx, tx, id, Change{What: ChangeSecret, From: p.sealer.fingerprintSealed(id, old),
			To: p.sealer.Fingerprint(id, secret), Actor: actor, Reason: reason, At: now, Version: version})
	})
	return err
}

// Secrets implements Store.
func (p *Postgres) Secrets(ctx context.Context, id string) ([]string, error) {
	k, err := p.SigningKeys(ctx, id)
	if err != nil {
		return nil, err
	}
	return k.Verifying(p.opts.now()), nil
}

// SigningKeys implements Store.
func (p *Postgres) SigningKeys(ctx context.Context, id string) (SigningKeys, error) {
	var cur, prev []byte
	var until *time.Time
	err := p.pool.QueryRow(ctx, `SELECT secret, previous_secret, previous_secret_until FROM providers WHERE id = $1`, id).
		Scan(&cur, &prev, &until)
	if errors.Is(err, pgx.ErrNoRows) {
		return SigningKeys{}, notFound(id)
	}
	if err != nil {
		return SigningKeys{}, classify(ctx, err)
	}
	var u time.Time
	if until != nil {
		u = *until
	}
	return openKeys(p.sealer, id, cur, prev, u, p.opts.now())
}

func (p *Postgres) exists(ctx context.Context, id string) error {
	var one int
	err := p.pool.QueryRow(ctx, `SELECT 1 FROM providers WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(id)
	}
	return classify(ctx, err)
}

// History implements Store.
func (p *Postgres) History(ctx context.Context, id string) ([]LifecycleChange, error) {
	if err := p.exists(ctx, id); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, `SELECT from_state, to_state, actor, reason, at, version
		FROM provider_lifecycle_history WHERE provider_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, classify(ctx, err)
	}
	defer rows.Close()
	var out []LifecycleChange
	for rows.Next() {
		var c LifecycleChange
		var from, to string
		if err := rows.Scan(&from, &to, &c.Actor, &c.Reason, &c.At, &c.Version); err != nil {
			return nil, classify(ctx, err)
		}
		c.From, _ = ParseLifecycle(from)
		c.To, _ = ParseLifecycle(to)
		out = append(out, c)
	}
	return out, classify(ctx, rows.Err())
}

// Changes implements Store: the lifecycle history and provider_changes,
// merged by version (every change has its own).
func (p *Postgres) Changes(ctx context.Context, id string) ([]Change, error) {
	if err := p.exists(ctx, id); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, `SELECT 'LIFECYCLE', from_state, to_state, actor, reason, at, version
			FROM provider_lifecycle_history WHERE provider_id = $1
		UNION ALL
		SELECT what, from_value, to_value, actor, reason, at, version
			FROM provider_changes WHERE provider_id = $1
		ORDER BY version`, id)
	if err != nil {
		return nil, classify(ctx, err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var what string
		if err := rows.Scan(&what, &c.From, &c.To, &c.Actor, &c.Reason, &c.At, &c.Version); err != nil {
			return nil, classify(ctx, err)
		}
		c.What = ChangeKind(what)
		out = append(out, c)
	}
	return out, classify(ctx, rows.Err())
}

// SaveCertification implements Store. Runs are not part of the snapshot, so
// saving one does not take a directory version; the lifecycle change that
// follows a run does.
func (p *Postgres) SaveCertification(ctx context.Context, run CertificationRun) (CertificationRun, error) {
	if err := validateRun(&run); err != nil {
		return CertificationRun{}, err
	}
	if err := p.exists(ctx, run.ProviderID); err != nil {
		return CertificationRun{}, err
	}
	var finished *time.Time
	if !run.FinishedAt.IsZero() {
		finished = &run.FinishedAt
	}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if run.ID == 0 {
			if err := tx.QueryRow(ctx, `INSERT INTO certification_runs (provider_id, outcome, sandbox, started_at, finished_at)
				VALUES ($1, $2, $3, $4, $5) RETURNING id`, run.ProviderID, string(run.Outcome), run.Sandbox, run.StartedAt, finished).
				Scan(&run.ID); err != nil {
				return err
			}
		} else {
			tag, err := tx.Exec(ctx, `UPDATE certification_runs SET outcome = $3, sandbox = $4, started_at = $5, finished_at = $6
				WHERE id = $1 AND provider_id = $2`, run.ID, run.ProviderID, string(run.Outcome), run.Sandbox, run.StartedAt, finished)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return &Error{Code: NotFound, Field: "run", Message: fmt.Sprintf("certification run %d not found", run.ID)}
			}
			if _, err := tx.Exec(ctx, `DELETE FROM certification_checks WHERE run_id = $1`, run.ID); err != nil {
				return err
			}
		}
		for i, c := range run.Checks {
			if _, err := tx.Exec(ctx, `INSERT INTO certification_checks (run_id, seq, name, outcome, message)
				VALUES ($1, $2, $3, $4, $5)`, run.ID, i, c.Name, string(c.Outcome), c.Message); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return CertificationRun{}, classify(ctx, err)
	}
	return run, nil
}

// Certifications implements Store.
func (p *Postgres) Certifications(ctx context.Context, id string) ([]CertificationRun, error) {
	if err := p.exists(ctx, id); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, `SELECT r.id, r.outcome, r.sandbox, r.started_at, r.finished_at,
			c.name, c.outcome, c.message
		FROM certification_runs r LEFT JOIN certification_checks c ON c.run_id = r.id
		WHERE r.provider_id = $1 ORDER BY r.id DESC, c.seq`, id)
	if err != nil {
		return nil, classify(ctx, err)
	}
	defer rows.Close()
	var out []CertificationRun
	for rows.Next() {
		var (
			runID                   int64
			outcome                 string
			sandbox                 bool
			started                 time.Time
			finished                *time.Time
			name, checkOut, message *string
		)
		if err := rows.Scan(&runID, &outcome, &sandbox, &started, &finished, &name, &checkOut, &message); err != nil {
			return nil, classify(ctx, err)
		}
		if len(out) == 0 || out[len(out)-1].ID != runID {
			r := CertificationRun{ID: runID, ProviderID: id, Outcome: RunOutcome(outcome), Sandbox: sandbox, StartedAt: started}
			if finished != nil {
				r.FinishedAt = *finished
			}
			out = append(out, r)
		}
		if name != nil {
			last := &out[len(out)-1]
			last.Checks = append(last.Checks, CheckResult{Name: *name, Outcome: CheckOutcome(*checkOut), Message: *message})
		}
	}
	return out, classify(ctx, rows.Err())
}

// decodeRaw fills r from one row of load's query. Its strings alias the
// row's buffer: valid until the next row.
func decodeRaw(raw [][]byte, fds []pgconn.FieldDescription, r *record) error {
	for k, v := range raw {
		if v == nil {
			return fmt.Errorf("column %s is NULL", fds[k].Name)
		}
	}
	str := func(k int) string { return unsafe.String(unsafe.SliceData(raw[k]), len(raw[k])) }
	num := func(k int) (int64, error) {
		b := raw[k]
		if fds[k].Format == pgx.BinaryFormatCode && len(b) == 4 {
			return int64(int32(binary.BigEndian.Uint32(b))), nil
		}
		return strconv.ParseInt(string(b), 10, 64)
	}
	r.ID, r.Vertical, r.Name = str(0), connectors.Vertical(str(1)), str(2)
	r.Cities = r.Cities[:0]
	for c := range strings.SplitSeq(str(3), "\x1f") {
		r.Cities = append(r.Cities, c)
	}
	r.Endpoint, r.Sandbox = str(4), str(5)
	if fds[6].Format == pgx.BinaryFormatCode && len(raw[6]) == 4 {
		r.Rating = float64(math.Float32frombits(binary.BigEndian.Uint32(raw[6])))
	} else {
		f, err := strconv.ParseFloat(string(raw[6]), 32)
		if err != nil {
			return fmt.Errorf("rating: %w", err)
		}
		r.Rating = f
	}
	var lim [5]int64
	for k := range lim {
		n, err := num(7 + k)
		if err != nil {
			return fmt.Errorf("%s: %w", fds[7+k].Name, err)
		}
		lim[k] = n
	}
	r.Limits = Limits{Timeout: time.Duration(lim[0]) * time.Millisecond, MaxConcurrent: int(lim[1]), MaxBatch: int(lim[2]),
		MaxItems: int(lim[3]), PushesPerMinute: int(lim[4])}
	r.CacheTTL = nil
	if ttl := str(12); ttl != "{}" {
		m, err := parseTTL(ttl)
		if err != nil {
			return err
		}
		r.CacheTTL = m
	}
	r.Lifecycle = 0
	for l := Pending; l <= Retired; l++ {
		if lifecycleNames[l] == str(13) {
			r.Lifecycle = l
		}
	}
	r.Version = 0
	if b := raw[14]; fds[14].Format == pgx.BinaryFormatCode && len(b) == 8 {
		r.Version = int64(binary.BigEndian.Uint64(b))
	} else if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		r.Version = v
	} else {
		return fmt.Errorf("version: %w", err)
	}
	return nil
}
