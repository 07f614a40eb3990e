package growth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the Store on the directory's database (migration 00004).
type Postgres struct {
	pool   *pgxpool.Pool
	margin time.Duration // ChangedWindows' markMargin
}

var _ Store = (*Postgres)(nil)

// NewPostgres returns the store over pool; the schema must be migrated.
func NewPostgres(pool *pgxpool.Pool) *Postgres { return &Postgres{pool: pool, margin: markMargin} }

func unavailable(op string, err error) error {
	return fmt.Errorf("growth: %s: %w", op, errors.Join(&Error{Code: Unavailable, Message: "the growth store is unavailable; retry"}, err))
}

// CreateKey implements Store.
func (p *Postgres) CreateKey(ctx context.Context, k Key, digest [sha256.Size]byte) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO provider_api_keys (id, provider_id, hash, label, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.Provider, digest[:], k.Label, k.CreatedBy, k.CreatedAt)
	if err != nil {
		return unavailable("create key", err)
	}
	return nil
}

const keyColumns = `id, provider_id, label, created_by, created_at, coalesce(revoked_at, 'epoch'::timestamptz), revoked_by`

func scanKey(row pgx.Row) (Key, error) {
	var k Key
	err := row.Scan(&k.ID, &k.Provider, &k.Label, &k.CreatedBy, &k.CreatedAt, &k.RevokedAt, &k.RevokedBy)
	k.CreatedAt = k.CreatedAt.UTC()
	if k.RevokedAt.Unix() == 0 {
		k.RevokedAt = time.Time{}
	} else {
		k.RevokedAt = k.RevokedAt.UTC()
	}
	return k, err
}

// RevokeKey implements Store.
func (p *Postgres) RevokeKey(ctx context.Context, provider, id, actor string, at time.Time) (Key, error) {
	k, err := scanKey(p.pool.QueryRow(ctx, `UPDATE provider_api_keys SET revoked_at = coalesce(revoked_at, $3),
		revoked_by = CASE WHEN revoked_at IS NULL THEN $4 ELSE revoked_by END
		WHERE id = $1 AND provider_id = $2 RETURNING `+keyColumns, id, provider, at, actor))
	if errors.Is(err, pgx.ErrNoRows) {
		return Key{}, errorf(NotFound, "id", "no such key")
	}
	if err != nil {
		return Key{}, unavailable("revoke key", err)
	}
	return k, nil
}

// Keys implements Store.
func (p *Postgres) Keys(ctx context.Context, provider string) ([]Key, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+keyColumns+` FROM provider_api_keys WHERE provider_id = $1 ORDER BY created_at, id`, provider)
	if err != nil {
		return nil, unavailable("keys", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, unavailable("keys", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// LookupKey implements Store.
func (p *Postgres) LookupKey(ctx context.Context, digest [sha256.Size]byte) (string, string, bool, error) {
	var provider, id string
	err := p.pool.QueryRow(ctx, `SELECT provider_id, id FROM provider_api_keys WHERE hash = $1 AND revoked_at IS NULL`, digest[:]).Scan(&provider, &id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, unavailable("lookup key", err)
	}
	return provider, id, true, nil
}

// RecordOrder implements Store: one transaction, the order's row locked,
// so concurrent deliveries of one order's statuses see each other.
func (p *Postgres) RecordOrder(ctx context.Context, o Order) (OrderChange, error) {
	var ch OrderChange
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var prev, storedUser string
		var completed *time.Time
		// FOR UPDATE locks an order's row only once it exists: the first
		// two records of a new order (its completion and its cancellation,
		// on two instances) would both read no row, and the later upsert
		// would move the status back from CANCELLED. The order's lock
		// comes first, before the user's below.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('plaza-growth-order-record:' || $1 || ':' || $2, 0))`, o.Provider, o.ID); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT status, completed_at, user_id FROM growth_orders WHERE provider = $1 AND order_id = $2 FOR UPDATE`,
			o.Provider, o.ID).Scan(&prev, &completed, &storedUser)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if storedUser != "" {
			// The first record to name the user decides (the gateway's
			// own PLACED record; a webhook completing it may not name one).
			o.User = storedUser
		}
		ch.User = o.User
		ch.Previous = OrderStatus(prev)
		if completed != nil {
			ch.Completed = completed.UTC()
		}
		if ch.Previous == OrderCancelled || statusRank[o.Status] < statusRank[ch.Previous] {
			return tx.QueryRow(ctx, `SELECT amount, city FROM growth_orders WHERE provider = $1 AND order_id = $2`, o.Provider, o.ID).Scan(&ch.Amount, &ch.City)
		}
		if o.Status == OrderCompleted && completed == nil && o.User != "" {
			// Serialise a user's first order with the provider: two first
			// orders completing at once must not both be "first". Taken
			// only for a completion that names a user (its own or the
			// stored record's): user-less completions of one provider would
			// otherwise all queue on one lock, for a bonus they cannot earn.
			// The order's row lock comes first, always, so no two
			// transactions wait on each other's.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('plaza-growth-order:' || $1 || ':' || $2, 0))`, o.Provider, o.User); err != nil {
				return err
			}
			var other bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM growth_orders WHERE provider = $1 AND user_id = $2 AND completed_at IS NOT NULL)`,
				o.Provider, o.User).Scan(&other); err != nil {
				return err
			}
			ch.FirstForUser = !other
		}
		if o.Status == OrderCompleted && completed != nil && o.User != "" {
			// The completion again (a provider's retry): the instance that
			// took it first may have died before posting the bonus. The
			// user's earliest completed order is the first; its bonus is
			// posted under the user's key, so saying so again posts nothing
			// twice and finishes what the crash left undone.
			var earlier bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM growth_orders WHERE provider = $1 AND user_id = $2
				AND completed_at IS NOT NULL AND (completed_at, order_id) < ($3, $4))`, o.Provider, o.User, *completed, o.ID).Scan(&earlier); err != nil {
				return err
			}
			ch.FirstForUser = !earlier
		}
		if o.Status == OrderCompleted && completed == nil {
			ch.Completed = o.At
		}
		var completedAt, cancelledAt any
		if o.Status == OrderCompleted {
			completedAt = o.At
		}
		if o.Status == OrderCancelled {
			cancelledAt = o.At
		}
		// A record without an amount (0) keeps the one stored before.
		return tx.QueryRow(ctx, `INSERT INTO growth_orders (provider, order_id, user_id, city, currency, amount, status, completed_at, cancelled_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (provider, order_id) DO UPDATE SET status = EXCLUDED.status,
				user_id = CASE WHEN growth_orders.user_id = '' THEN EXCLUDED.user_id ELSE growth_orders.user_id END,
				amount = CASE WHEN EXCLUDED.amount = 0 THEN growth_orders.amount ELSE EXCLUDED.amount END,
				city = CASE WHEN growth_orders.city = '' THEN EXCLUDED.city ELSE growth_orders.city END,
				currency = CASE WHEN EXCLUDED.amount = 0 THEN growth_orders.currency ELSE EXCLUDED.currency END,
				completed_at = coalesce(growth_orders.completed_at, EXCLUDED.completed_at),
				cancelled_at = coalesce(growth_orders.cancelled_at, EXCLUDED.cancelled_at), updated_at = EXCLUDED.updated_at
			RETURNING amount, city`,
			o.Provider, o.ID, o.User, o.City, o.Currency, o.Amount, string(o.Status), completedAt, cancelledAt, o.At).Scan(&ch.Amount, &ch.City)
	})
	if err != nil {
		return OrderChange{}, unavailable("record order", err)
	}
	return ch, nil
}

// OrderStatus implements Store.
func (p *Postgres) OrderStatus(ctx context.Context, provider, id string) (OrderStatus, error) {
	var st string
	err := p.pool.QueryRow(ctx, `SELECT status FROM growth_orders WHERE provider = $1 AND order_id = $2`, provider, id).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return OrderStatus(st), err
}

// CompletedOrders implements Store (the primary key orders the pages).
func (p *Postgres) CompletedOrders(ctx context.Context, from, to time.Time, after [2]string, limit int) ([]Order, error) {
	rows, err := p.pool.Query(ctx, `SELECT provider, order_id, user_id, city, currency, amount, status, completed_at FROM growth_orders
		WHERE completed_at >= $1 AND completed_at < $2 AND (provider, order_id) > ($3, $4) ORDER BY provider, order_id LIMIT $5`,
		from, to, after[0], after[1], limit)
	if err != nil {
		return nil, unavailable("completed orders", err)
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		var o Order
		var status string
		if err := rows.Scan(&o.Provider, &o.ID, &o.User, &o.City, &o.Currency, &o.Amount, &status, &o.At); err != nil {
			return nil, unavailable("completed orders", err)
		}
		o.Status, o.At = OrderStatus(status), o.At.UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

// Days implements Store.
func (p *Postgres) Days(ctx context.Context, provider, currency string, from, to time.Time) ([]Day, error) {
	rows, err := p.pool.Query(ctx, `SELECT date_trunc('day', coalesce(completed_at, cancelled_at) AT TIME ZONE 'UTC') AS d,
			coalesce(sum(amount) FILTER (WHERE status <> 'CANCELLED'), 0)::bigint,
			count(*) FILTER (WHERE completed_at IS NOT NULL), count(*) FILTER (WHERE status = 'CANCELLED')
		FROM growth_orders WHERE provider = $1 AND currency = $2
			AND coalesce(completed_at, cancelled_at) >= $3 AND coalesce(completed_at, cancelled_at) < $4
		GROUP BY d ORDER BY d`, provider, currency, from, to)
	if err != nil {
		return nil, unavailable("days", err)
	}
	defer rows.Close()
	var out []Day
	for rows.Next() {
		var d Day
		if err := rows.Scan(&d.Day, &d.GMV, &d.Completed, &d.Cancelled); err != nil {
			return nil, unavailable("days", err)
		}
		d.Day = time.Date(d.Day.Year(), d.Day.Month(), d.Day.Day(), 0, 0, 0, 0, time.UTC)
		out = append(out, d)
	}
	return out, rows.Err()
}

const approvalColumns = `id, kind, provider, currency, amount, reason, maker, checker, status, created_at, coalesce(decided_at, 'epoch'::timestamptz)`

func scanApproval(row pgx.Row) (Approval, error) {
	var a Approval
	var kind, status string
	err := row.Scan(&a.ID, &kind, &a.Provider, &a.Currency, &a.Amount, &a.Reason, &a.Maker, &a.Checker, &status, &a.CreatedAt, &a.DecidedAt)
	a.Kind, a.Status, a.CreatedAt = ApprovalKind(kind), ApprovalStatus(status), a.CreatedAt.UTC()
	if a.DecidedAt.Unix() == 0 {
		a.DecidedAt = time.Time{}
	} else {
		a.DecidedAt = a.DecidedAt.UTC()
	}
	return a, err
}

// CreateApproval implements Store.
func (p *Postgres) CreateApproval(ctx context.Context, a Approval) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO growth_approvals (id, kind, provider, currency, amount, reason, maker, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, a.ID, string(a.Kind), a.Provider, a.Currency, a.Amount, a.Reason, a.Maker, string(a.Status), a.CreatedAt)
	if err != nil {
		return unavailable("create approval", err)
	}
	return nil
}

// Approval implements Store.
func (p *Postgres) Approval(ctx context.Context, id string) (Approval, error) {
	a, err := scanApproval(p.pool.QueryRow(ctx, `SELECT `+approvalColumns+` FROM growth_approvals WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Approval{}, errorf(NotFound, "id", "no such approval request")
	}
	if err != nil {
		return Approval{}, unavailable("approval", err)
	}
	return a, nil
}

// DecideApproval implements Store.
func (p *Postgres) DecideApproval(ctx context.Context, id, checker string, status ApprovalStatus, at time.Time) (Approval, error) {
	a, err := scanApproval(p.pool.QueryRow(ctx, `UPDATE growth_approvals SET status = $2, checker = $3, decided_at = $4
		WHERE id = $1 AND status = 'PENDING' RETURNING `+approvalColumns, id, string(status), checker, at))
	if errors.Is(err, pgx.ErrNoRows) {
		cur, err := p.Approval(ctx, id)
		if err != nil {
			return Approval{}, err
		}
		return cur, errorf(Conflict, "id", "the request was %s already", cur.Status)
	}
	if err != nil {
		return Approval{}, unavailable("decide approval", err)
	}
	return a, nil
}

// Approvals implements Store.
func (p *Postgres) Approvals(ctx context.Context, status ApprovalStatus, limit int) ([]Approval, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+approvalColumns+` FROM growth_approvals WHERE status = $1 ORDER BY created_at, id LIMIT $2`, string(status), limit)
	if err != nil {
		return nil, unavailable("approvals", err)
	}
	defer rows.Close()
	var out []Approval
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, unavailable("approvals", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AddCounters implements Store.
func (p *Postgres) AddCounters(ctx context.Context, provider string, minute time.Time, c Counters) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO growth_sl_counters (provider, minute, calls, errors, slow) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (provider, minute) DO UPDATE SET calls = growth_sl_counters.calls + EXCLUDED.calls,
			errors = growth_sl_counters.errors + EXCLUDED.errors, slow = growth_sl_counters.slow + EXCLUDED.slow`,
		provider, minute, c.Calls, c.Errors, c.Slow)
	if err != nil {
		return unavailable("add counters", err)
	}
	return nil
}

// ExpireCounters implements Store: the triggers of migration 00007 take
// each deleted bucket out of its provider's window.
func (p *Postgres) ExpireCounters(ctx context.Context, calls, orders time.Time) error {
	if _, err := p.pool.Exec(ctx, `DELETE FROM growth_sl_counters WHERE minute < $1`, calls); err != nil {
		return unavailable("expire counters", err)
	}
	if _, err := p.pool.Exec(ctx, `DELETE FROM growth_sl_orders WHERE hour < $1`, orders); err != nil {
		return unavailable("expire counters", err)
	}
	return nil
}

// markMargin is how far before the last read ChangedWindows reads again: a
// window's changed_at is stamped before its transaction commits, so a
// change committed just after a read may carry an earlier time. The
// writers are single statements and short transactions; one that took
// longer is graded at its provider's next change or expiry (within the
// window). Runs a minute apart re-read 10 s of changes.
const markMargin = 10 * time.Second

const windowColumns = `provider, calls, errors, slow, orders, cancelled`

func scanWindow(row pgx.Row) (string, Window, error) {
	var p string
	var w Window
	err := row.Scan(&p, &w.Calls.Calls, &w.Calls.Errors, &w.Calls.Slow, &w.Orders.Orders, &w.Orders.Cancelled)
	return p, w, err
}

// ChangedWindows implements Store (index growth_sl_windows_changed); the
// mark is the database's clock in microseconds, so instances' clocks do
// not matter.
func (p *Postgres) ChangedWindows(ctx context.Context, since Mark, fn func(string, Window) error) (Mark, error) {
	var now time.Time
	if err := p.pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&now); err != nil {
		return since, unavailable("changed windows", err)
	}
	from := time.Time{}
	if since != 0 {
		from = time.UnixMicro(int64(since)).Add(-p.margin)
	}
	rows, err := p.pool.Query(ctx, `SELECT `+windowColumns+` FROM growth_sl_windows WHERE changed_at >= $1`, from)
	if err != nil {
		return since, unavailable("changed windows", err)
	}
	defer rows.Close()
	for rows.Next() {
		prov, w, err := scanWindow(rows)
		if err != nil {
			return since, unavailable("changed windows", err)
		}
		if err := fn(prov, w); err != nil {
			return since, err
		}
	}
	if err := rows.Err(); err != nil {
		return since, unavailable("changed windows", err)
	}
	return Mark(now.UnixMicro()), nil
}

// windowsChunk bounds the providers of one Windows query.
const windowsChunk = 5000

// Windows implements Store.
func (p *Postgres) Windows(ctx context.Context, providers []string) (map[string]Window, error) {
	out := make(map[string]Window, len(providers))
	for len(providers) > 0 {
		chunk := providers[:min(windowsChunk, len(providers))]
		providers = providers[len(chunk):]
		rows, err := p.pool.Query(ctx, `SELECT `+windowColumns+` FROM growth_sl_windows WHERE provider = ANY($1)`, chunk)
		if err != nil {
			return nil, unavailable("windows", err)
		}
		for rows.Next() {
			prov, w, err := scanWindow(rows)
			if err != nil {
				rows.Close()
				return nil, unavailable("windows", err)
			}
			out[prov] = w
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, unavailable("windows", err)
		}
	}
	return out, nil
}

// Level implements Store.
func (p *Postgres) Level(ctx context.Context, provider string) (Level, time.Time, error) {
	var l string
	var since time.Time
	err := p.pool.QueryRow(ctx, `SELECT state, since FROM growth_sl_state WHERE provider = $1`, provider).Scan(&l, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		return LevelOK, time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, unavailable("level", err)
	}
	return Level(l), since.UTC(), nil
}

// Levels implements Store.
func (p *Postgres) Levels(ctx context.Context) (map[string]Level, error) {
	rows, err := p.pool.Query(ctx, `SELECT provider, state FROM growth_sl_state`)
	if err != nil {
		return nil, unavailable("levels", err)
	}
	defer rows.Close()
	out := map[string]Level{}
	for rows.Next() {
		var prov, l string
		if err := rows.Scan(&prov, &l); err != nil {
			return nil, unavailable("levels", err)
		}
		out[prov] = Level(l)
	}
	return out, rows.Err()
}

// SetLevel implements Store: the state (only providers not OK have a row)
// and the transition in one transaction.
func (p *Postgres) SetLevel(ctx context.Context, t Transition) error {
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var err error
		if t.To == LevelOK {
			_, err = tx.Exec(ctx, `DELETE FROM growth_sl_state WHERE provider = $1`, t.Provider)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO growth_sl_state (provider, state, since) VALUES ($1, $2, $3)
				ON CONFLICT (provider) DO UPDATE SET state = EXCLUDED.state, since = EXCLUDED.since`, t.Provider, string(t.To), t.At)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO growth_sl_transitions (provider, from_state, to_state, reason, at) VALUES ($1, $2, $3, $4, $5)`,
			t.Provider, string(t.From), string(t.To), t.Reason, t.At)
		return err
	})
	if err != nil {
		return unavailable("set level", err)
	}
	return nil
}

// Transitions implements Store (newest first).
func (p *Postgres) Transitions(ctx context.Context, provider string, limit int) ([]Transition, error) {
	rows, err := p.pool.Query(ctx, `SELECT from_state, to_state, reason, at FROM growth_sl_transitions WHERE provider = $1 ORDER BY id DESC LIMIT $2`, provider, limit)
	if err != nil {
		return nil, unavailable("transitions", err)
	}
	defer rows.Close()
	var out []Transition
	for rows.Next() {
		t := Transition{Provider: provider}
		var from, to string
		if err := rows.Scan(&from, &to, &t.Reason, &t.At); err != nil {
			return nil, unavailable("transitions", err)
		}
		t.From, t.To, t.At = Level(from), Level(to), t.At.UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

// jobLockID is the advisory lock of the service-level job ("plazaslj").
const jobLockID int64 = 0x706c617a61736c6a

// WithJobLock implements Store with a session advisory lock held on one
// connection while fn runs: if that instance dies, its session ends and
// the lock goes with it.
func (p *Postgres) WithJobLock(ctx context.Context, fn func(context.Context) error) (bool, error) {
	return p.withLock(ctx, jobLockID, fn)
}

// WithNamedLock implements Store: the lock of name is
// hashtextextended('plaza-growth-job:' || name).
func (p *Postgres) WithNamedLock(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	var id int64
	if err := p.pool.QueryRow(ctx, `SELECT hashtextextended('plaza-growth-job:' || $1, 0)`, name).Scan(&id); err != nil {
		return false, unavailable("job lock", err)
	}
	return p.withLock(ctx, id, fn)
}

func (p *Postgres) withLock(ctx context.Context, jobLockID int64, fn func(context.Context) error) (bool, error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return false, unavailable("job lock", err)
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, jobLockID).Scan(&got); err != nil {
		return false, unavailable("job lock", err)
	}
	if !got {
		return false, nil
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, jobLockID)
	return true, fn(ctx)
}

const loanColumns = `id, provider, idempotency_key, currency, principal, fee, term_days, share_percent, minimum_daily, status, consent, created_at, due_at, offer_id`

func scanLoan(row pgx.Row) (Loan, error) {
	var l Loan
	var status string
	err := row.Scan(&l.ID, &l.Provider, &l.IdempotencyKey, &l.Currency, &l.Principal, &l.Fee, &l.TermDays, &l.SharePercent,
		&l.MinimumDaily, &status, &l.Consent, &l.CreatedAt, &l.DueAt, &l.Offer)
	l.Status, l.CreatedAt, l.DueAt = LoanStatus(status), l.CreatedAt.UTC(), l.DueAt.UTC()
	return l, err
}

// CreateLoan implements Store; the unique key and the partial unique index
// decide between concurrent applications.
func (p *Postgres) CreateLoan(ctx context.Context, l Loan) (Loan, bool, error) {
	_, err := p.pool.Exec(ctx, `INSERT INTO growth_loans (`+loanColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		l.ID, l.Provider, l.IdempotencyKey, l.Currency, l.Principal, l.Fee, l.TermDays, l.SharePercent, l.MinimumDaily,
		string(l.Status), l.Consent, l.CreatedAt, l.DueAt, l.Offer)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		prev, err := scanLoan(p.pool.QueryRow(ctx, `SELECT `+loanColumns+` FROM growth_loans WHERE provider = $1 AND idempotency_key = $2`,
			l.Provider, l.IdempotencyKey))
		if errors.Is(err, pgx.ErrNoRows) {
			return Loan{}, false, errOpenLoan
		}
		if err != nil {
			return Loan{}, false, unavailable("loan", err)
		}
		return prev, true, nil
	}
	if err != nil {
		return Loan{}, false, unavailable("create loan", err)
	}
	return l, false, nil
}

// Loans implements Store (newest first).
func (p *Postgres) Loans(ctx context.Context, provider string) ([]Loan, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+loanColumns+` FROM growth_loans WHERE provider = $1 ORDER BY created_at DESC, id DESC`, provider)
	if err != nil {
		return nil, unavailable("loans", err)
	}
	defer rows.Close()
	var out []Loan
	for rows.Next() {
		l, err := scanLoan(rows)
		if err != nil {
			return nil, unavailable("loans", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// SetLoanStatus implements Store.
func (p *Postgres) SetLoanStatus(ctx context.Context, id string, status LoanStatus) error {
	tag, err := p.pool.Exec(ctx, `UPDATE growth_loans SET status = $2 WHERE id = $1`, id, string(status))
	if err != nil {
		return unavailable("loan status", err)
	}
	if tag.RowsAffected() == 0 {
		return errorf(NotFound, "id", "no such loan")
	}
	return nil
}

const offerColumns = `id, provider, currency, max_amount, gmv90, factors, terms, fee_bp, share, min_term, max_term, created_at, expires_at, loan_id`

// SaveOffer implements Store.
func (p *Postgres) SaveOffer(ctx context.Context, o StoredOffer) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO growth_loan_offers (`+offerColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		o.ID, o.Provider, o.Currency, o.Max, o.GMV90, o.Factors, o.Terms, o.FeePer30Days, o.SharePercent, o.MinTermDays, o.MaxTermDays, o.CreatedAt, o.ExpiresAt, o.Loan)
	if err != nil {
		return unavailable("save offer", err)
	}
	return nil
}

// LatestOffer implements Store.
func (p *Postgres) LatestOffer(ctx context.Context, provider string) (StoredOffer, bool, error) {
	var o StoredOffer
	err := p.pool.QueryRow(ctx, `SELECT `+offerColumns+` FROM growth_loan_offers WHERE provider = $1 ORDER BY created_at DESC, id DESC LIMIT 1`,
		provider).Scan(&o.ID, &o.Provider, &o.Currency, &o.Max, &o.GMV90, &o.Factors, &o.Terms, &o.FeePer30Days, &o.SharePercent, &o.MinTermDays, &o.MaxTermDays,
		&o.CreatedAt, &o.ExpiresAt, &o.Loan)
	if errors.Is(err, pgx.ErrNoRows) {
		return StoredOffer{}, false, nil
	}
	if err != nil {
		return StoredOffer{}, false, unavailable("offer", err)
	}
	o.CreatedAt, o.ExpiresAt = o.CreatedAt.UTC(), o.ExpiresAt.UTC()
	return o, true, nil
}

// AcceptOffer implements Store: the update takes an open offer, or one
// this loan took already (a retried application).
func (p *Postgres) AcceptOffer(ctx context.Context, id, loan string) error {
	tag, err := p.pool.Exec(ctx, `UPDATE growth_loan_offers SET loan_id = $2 WHERE id = $1 AND loan_id IN ('', $2)`, id, loan)
	if err != nil {
		return unavailable("accept offer", err)
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := p.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM growth_loan_offers WHERE id = $1)`, id).Scan(&exists); err != nil {
			return unavailable("accept offer", err)
		}
		if exists {
			return errOfferTaken
		}
		return errorf(NotFound, "offer", "no such offer")
	}
	return nil
}

const payoutColumns = `id, provider, currency, amount, repaid, day, status, created_at`

func scanPayout(row pgx.Row) (Payout, error) {
	var x Payout
	var status string
	err := row.Scan(&x.ID, &x.Provider, &x.Currency, &x.Amount, &x.Repaid, &x.Day, &status, &x.CreatedAt)
	x.Status, x.CreatedAt = PayoutStatus(status), x.CreatedAt.UTC()
	x.Day = time.Date(x.Day.Year(), x.Day.Month(), x.Day.Day(), 0, 0, 0, 0, time.UTC)
	return x, err
}

func (p *Postgres) payouts(ctx context.Context, sql string, args ...any) ([]Payout, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+payoutColumns+` FROM growth_payouts `+sql, args...)
	if err != nil {
		return nil, unavailable("payouts", err)
	}
	defer rows.Close()
	var out []Payout
	for rows.Next() {
		x, err := scanPayout(rows)
		if err != nil {
			return nil, unavailable("payouts", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// CreatePayout implements Store.
func (p *Postgres) CreatePayout(ctx context.Context, x Payout) (Payout, bool, error) {
	tag, err := p.pool.Exec(ctx, `INSERT INTO growth_payouts (`+payoutColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
		x.ID, x.Provider, x.Currency, x.Amount, x.Repaid, x.Day, string(x.Status), x.CreatedAt)
	if err != nil {
		return Payout{}, false, unavailable("create payout", err)
	}
	if tag.RowsAffected() == 1 {
		return x, false, nil
	}
	prev, err := scanPayout(p.pool.QueryRow(ctx, `SELECT `+payoutColumns+` FROM growth_payouts WHERE id = $1`, x.ID))
	if err != nil {
		return Payout{}, false, unavailable("payout", err)
	}
	return prev, true, nil
}

// SetPayoutStatus implements Store.
func (p *Postgres) SetPayoutStatus(ctx context.Context, id string, status PayoutStatus) error {
	tag, err := p.pool.Exec(ctx, `UPDATE growth_payouts SET status = $2 WHERE id = $1`, id, string(status))
	if err != nil {
		return unavailable("payout status", err)
	}
	if tag.RowsAffected() == 0 {
		return errorf(NotFound, "id", "no such payout")
	}
	return nil
}

// Payouts implements Store.
func (p *Postgres) Payouts(ctx context.Context, provider string, limit int) ([]Payout, error) {
	return p.payouts(ctx, `WHERE provider = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, provider, limit)
}

// PayoutsOn implements Store.
func (p *Postgres) PayoutsOn(ctx context.Context, day time.Time, after string, limit int) ([]Payout, error) {
	return p.payouts(ctx, `WHERE day = $1 AND id > $2 ORDER BY id LIMIT $3`, day, after, limit)
}

// PendingPayouts implements Store (partial index growth_payouts_pending).
func (p *Postgres) PendingPayouts(ctx context.Context, through time.Time, after string, limit int) ([]Payout, error) {
	return p.payouts(ctx, `WHERE status = 'PENDING' AND day <= $1 AND id > $2 ORDER BY id LIMIT $3`, through, after, limit)
}

// SaveReconciliation implements Store.
func (p *Postgres) SaveReconciliation(ctx context.Context, r Reconciliation) error {
	problems := r.Problem
	if problems == nil {
		problems = []string{}
	}
	_, err := p.pool.Exec(ctx, `INSERT INTO growth_reconciliations (day, orders, payouts, problems, ran_at) VALUES ($1, $2, $3, $4, $5)`,
		r.Day, r.Orders, r.Payouts, problems, r.RanAt)
	if err != nil {
		return unavailable("save reconciliation", err)
	}
	return nil
}

// Reconciliations implements Store.
func (p *Postgres) Reconciliations(ctx context.Context, limit int) ([]Reconciliation, error) {
	rows, err := p.pool.Query(ctx, `SELECT day, orders, payouts, problems, ran_at FROM growth_reconciliations ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, unavailable("reconciliations", err)
	}
	defer rows.Close()
	var out []Reconciliation
	for rows.Next() {
		var r Reconciliation
		if err := rows.Scan(&r.Day, &r.Orders, &r.Payouts, &r.Problem, &r.RanAt); err != nil {
			return nil, unavailable("reconciliations", err)
		}
		r.Day, r.RanAt = time.Date(r.Day.Year(), r.Day.Month(), r.Day.Day(), 0, 0, 0, 0, time.UTC), r.RanAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// JobDone implements Store.
func (p *Postgres) JobDone(ctx context.Context, job, period string) (bool, error) {
	var done bool
	if err := p.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM growth_job_runs WHERE job = $1 AND period = $2)`, job, period).Scan(&done); err != nil {
		return false, unavailable("job run", err)
	}
	return done, nil
}

// MarkJobDone implements Store.
func (p *Postgres) MarkJobDone(ctx context.Context, job, period string, at time.Time) error {
	if _, err := p.pool.Exec(ctx, `INSERT INTO growth_job_runs (job, period, done_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, job, period, at); err != nil {
		return unavailable("job run", err)
	}
	return nil
}

// SellingProviders implements Store.
func (p *Postgres) SellingProviders(ctx context.Context, from, to time.Time, after string, limit int) ([]string, error) {
	rows, err := p.pool.Query(ctx, `SELECT DISTINCT provider FROM growth_orders WHERE completed_at >= $1 AND completed_at < $2 AND provider > $3
		ORDER BY provider LIMIT $4`, from, to, after, limit)
	if err != nil {
		return nil, unavailable("selling providers", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, unavailable("selling providers", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// SetCatalogAt implements Store (never moves back).
func (p *Postgres) SetCatalogAt(ctx context.Context, provider string, at time.Time) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO growth_sl_facts (provider, catalog_at) VALUES ($1, $2)
		ON CONFLICT (provider) DO UPDATE SET catalog_at = greatest(growth_sl_facts.catalog_at, EXCLUDED.catalog_at)`, provider, at)
	if err != nil {
		return unavailable("catalog freshness", err)
	}
	return nil
}

// SetConformance implements Store.
func (p *Postgres) SetConformance(ctx context.Context, provider, outcome string, at time.Time) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO growth_sl_facts (provider, conformance, conformance_at) VALUES ($1, $2, $3)
		ON CONFLICT (provider) DO UPDATE SET conformance = EXCLUDED.conformance, conformance_at = EXCLUDED.conformance_at`, provider, outcome, at)
	if err != nil {
		return unavailable("conformance", err)
	}
	return nil
}

// TroubledFacts implements Store.
func (p *Postgres) TroubledFacts(ctx context.Context, staleBefore time.Time) (map[string]Facts, error) {
	rows, err := p.pool.Query(ctx, `SELECT provider, catalog_at, conformance, conformance_at FROM growth_sl_facts
		WHERE catalog_at < $1 OR conformance = $2`, staleBefore, ConformanceFailed)
	if err != nil {
		return nil, unavailable("service-level facts", err)
	}
	defer rows.Close()
	out := map[string]Facts{}
	for rows.Next() {
		var s string
		var f Facts
		var cat, conf *time.Time
		if err := rows.Scan(&s, &cat, &f.Conformance, &conf); err != nil {
			return nil, unavailable("service-level facts", err)
		}
		if cat != nil {
			f.CatalogAt = cat.UTC()
		}
		if conf != nil {
			f.ConformanceAt = conf.UTC()
		}
		out[s] = f
	}
	return out, rows.Err()
}

// Payout implements Store.
func (p *Postgres) Payout(ctx context.Context, id string) (Payout, bool, error) {
	x, err := scanPayout(p.pool.QueryRow(ctx, `SELECT `+payoutColumns+` FROM growth_payouts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Payout{}, false, nil
	}
	if err != nil {
		return Payout{}, false, unavailable("payout", err)
	}
	return x, true, nil
}
