package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the Backend on the directory's database (tables
// ledger_entries, ledger_postings, ledger_balances of the directory's
// migrations). Update holds a transaction-scoped advisory lock on the
// provider, so instances posting for one provider take turns while
// different providers proceed in parallel; the unique key is the backstop
// against a duplicate whatever the locking.
type Postgres struct {
	pool *pgxpool.Pool
}

var _ Backend = (*Postgres)(nil)

// NewPostgres returns the backend over pool; the schema must be migrated
// (directory.Migrate).
func NewPostgres(pool *pgxpool.Pool) *Postgres { return &Postgres{pool: pool} }

// Update implements Backend.
func (p *Postgres) Update(ctx context.Context, provider string, fn func(Tx) error) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("ledger: begin: %w", err)
	}
	defer tx.Rollback(context.Background())
	// Read committed: once the lock is ours, every statement sees what the
	// previous holder committed.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('plaza-ledger:' || $1, 0))`, provider); err != nil {
		return fmt.Errorf("ledger: lock %s: %w", provider, err)
	}
	if err := fn(&pgTx{tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("ledger: commit: %w", err)
	}
	return nil
}

type pgTx struct{ tx pgx.Tx }

const entryColumns = `id, key, kind, provider, currency, reverses, memo, actor, city, at`

func (t *pgTx) Entry(ctx context.Context, key string) (Entry, bool, error) {
	return oneEntry(ctx, t.tx, `SELECT `+entryColumns+` FROM ledger_entries WHERE key = $1`, key)
}

func (t *pgTx) ReversalOf(ctx context.Context, key string) (Entry, bool, error) {
	return oneEntry(ctx, t.tx, `SELECT `+entryColumns+` FROM ledger_entries WHERE reverses = $1 ORDER BY id LIMIT 1`, key)
}

func (t *pgTx) Balance(ctx context.Context, a Account, currency string) (int64, error) {
	return balance(ctx, t.tx, a, currency)
}

func (t *pgTx) Insert(ctx context.Context, e Entry) error {
	if err := checkBalanced(e); err != nil {
		return err
	}
	var id int64
	err := t.tx.QueryRow(ctx, `INSERT INTO ledger_entries (key, kind, provider, currency, reverses, memo, actor, city, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		e.Key, string(e.Kind), e.Provider, e.Currency, e.Reverses, e.Memo, e.Actor, e.City, e.At).Scan(&id)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: key %s already posted", ErrConflict, e.Key)
	}
	if err != nil {
		return fmt.Errorf("ledger: insert %s: %w", e.Key, err)
	}
	// Balances in account order, so two transactions never wait on each
	// other's rows in opposite orders.
	ps := slices.Clone(e.Postings)
	slices.SortFunc(ps, func(a, b Posting) int { return strings.Compare(string(a.Account), string(b.Account)) })
	batch := &pgx.Batch{}
	for _, p := range ps {
		batch.Queue(`INSERT INTO ledger_postings (entry_id, account, currency, amount) VALUES ($1, $2, $3, $4)`,
			id, string(p.Account), e.Currency, p.Amount)
		if provider(p.Account) {
			batch.Queue(`INSERT INTO ledger_balances (account, currency, balance) VALUES ($1, $2, $3)
				ON CONFLICT (account, currency) DO UPDATE SET balance = ledger_balances.balance + EXCLUDED.balance`,
				string(p.Account), e.Currency, p.Amount)
		}
	}
	if err := t.tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("ledger: postings of %s: %w", e.Key, err)
	}
	return nil
}

// provider reports whether a has a running balance (provider accounts).
func provider(a Account) bool { return strings.HasPrefix(string(a), "provider:") }

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func balance(ctx context.Context, q querier, a Account, currency string) (int64, error) {
	if !provider(a) {
		return 0, fmt.Errorf("%w: %s has no running balance", ErrInvalid, a)
	}
	var v int64
	err := q.QueryRow(ctx, `SELECT balance FROM ledger_balances WHERE account = $1 AND currency = $2`, string(a), currency).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("ledger: balance %s: %w", a, err)
	}
	return v, nil
}

func oneEntry(ctx context.Context, q querier, sql string, args ...any) (Entry, bool, error) {
	es, err := entries(ctx, q, sql, args...)
	if err != nil || len(es) == 0 {
		return Entry{}, false, err
	}
	return es[0], true, nil
}

// entries reads the entries sql selects (entryColumns) with their postings.
func entries(ctx context.Context, q querier, sql string, args ...any) ([]Entry, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: read entries: %w", err)
	}
	var out []Entry
	var ids []int64
	for rows.Next() {
		var e Entry
		var id int64
		var kind string
		if err := rows.Scan(&id, &e.Key, &kind, &e.Provider, &e.Currency, &e.Reverses, &e.Memo, &e.Actor, &e.City, &e.At); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ledger: read entries: %w", err)
		}
		e.Kind, e.At = Kind(kind), e.At.UTC()
		out = append(out, e)
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: read entries: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err = q.Query(ctx, `SELECT entry_id, account, amount FROM ledger_postings WHERE entry_id = ANY($1) ORDER BY entry_id, amount DESC, account`, ids)
	if err != nil {
		return nil, fmt.Errorf("ledger: read postings: %w", err)
	}
	defer rows.Close()
	at := make(map[int64]int, len(ids))
	for i, id := range ids {
		at[id] = i
	}
	for rows.Next() {
		var id int64
		var p Posting
		var a string
		if err := rows.Scan(&id, &a, &p.Amount); err != nil {
			return nil, fmt.Errorf("ledger: read postings: %w", err)
		}
		p.Account = Account(a)
		out[at[id]].Postings = append(out[at[id]].Postings, p)
	}
	return out, rows.Err()
}

// Entries implements Backend.
func (p *Postgres) Entries(ctx context.Context, provider string, limit int) ([]Entry, error) {
	return entries(ctx, p.pool, `SELECT `+entryColumns+` FROM ledger_entries WHERE provider = $1 ORDER BY id DESC LIMIT $2`, provider, limit)
}

// Entry implements Backend.
func (p *Postgres) Entry(ctx context.Context, key string) (Entry, bool, error) {
	return oneEntry(ctx, p.pool, `SELECT `+entryColumns+` FROM ledger_entries WHERE key = $1`, key)
}

// Balance implements Backend.
func (p *Postgres) Balance(ctx context.Context, a Account, currency string) (int64, error) {
	return balance(ctx, p.pool, a, currency)
}

// Totals implements Backend: a scan of every posting, for reconciliation
// and tests, not for a request path.
func (p *Postgres) Totals(ctx context.Context) (map[string]int64, error) {
	rows, err := p.pool.Query(ctx, `SELECT currency, sum(amount)::bigint FROM ledger_postings GROUP BY currency`)
	if err != nil {
		return nil, fmt.Errorf("ledger: totals: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var c string
		var n int64
		if err := rows.Scan(&c, &n); err != nil {
			return nil, fmt.Errorf("ledger: totals: %w", err)
		}
		out[c] = n
	}
	return out, rows.Err()
}

// Payables implements Backend: provider payables with a credit balance, by
// account name (the page cursor is the last provider's payable account).
func (p *Postgres) Payables(ctx context.Context, currency, after string, limit int) ([]Owed, error) {
	rows, err := p.pool.Query(ctx, `SELECT account, -balance FROM ledger_balances
		WHERE currency = $1 AND balance < 0 AND account LIKE 'provider:%:payable' AND ($2 = '' OR account > $3) ORDER BY account LIMIT $4`,
		currency, after, string(Payable(after)), limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: payables: %w", err)
	}
	defer rows.Close()
	var out []Owed
	for rows.Next() {
		var a string
		var o Owed
		if err := rows.Scan(&a, &o.Amount); err != nil {
			return nil, fmt.Errorf("ledger: payables: %w", err)
		}
		o.Provider = ProviderOf(Account(a))
		out = append(out, o)
	}
	return out, rows.Err()
}

// EntriesOfKind implements Backend (index ledger_entries_kind_at).
func (p *Postgres) EntriesOfKind(ctx context.Context, kind Kind, from, to time.Time, after string, limit int) ([]Entry, error) {
	return entries(ctx, p.pool, `SELECT `+entryColumns+` FROM ledger_entries WHERE kind = $1 AND at >= $2 AND at < $3 AND key > $4
		ORDER BY key LIMIT $5`, string(kind), from, to, after, limit)
}

// Recount implements Backend: the account's postings, found through its
// provider's entries (every entry touching a provider account is that
// provider's).
func (p *Postgres) Recount(ctx context.Context, a Account, currency string) (int64, error) {
	var n int64
	err := p.pool.QueryRow(ctx, `SELECT coalesce(sum(p.amount), 0)::bigint FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id
		WHERE e.provider = $1 AND p.account = $2 AND p.currency = $3`, ProviderOf(a), string(a), currency).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("ledger: recount %s: %w", a, err)
	}
	return n, nil
}
