package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Backlog finds the directory's providers whose catalogue the index may
// lack: ACTIVE providers reached over HTTP that were activated (or changed)
// outside this gateway, by another instance, an import or
// `plaza providers generate`, and not pulled since.
type Backlog interface {
	// Changed lists the providers behind among those the directory
	// changed in versions (from, to]; bulk reports a bulk change in that
	// range (an import, a generate), after which the whole backlog is due.
	Changed(ctx context.Context, from, to int64) (ids []string, bulk bool, err error)
	// Behind pages through every provider behind, by ID after after.
	Behind(ctx context.Context, after string, limit int) ([]string, error)
}

// PostgresBacklog is the Backlog of a gateway whose directory, cursors and
// index share one PostgreSQL database: it reads the directory's providers
// and change log, catalog_cursors and supply_items together.
type PostgresBacklog struct{ pool *pgxpool.Pool }

// NewPostgresBacklog returns the backlog over pool; the caller closes it.
func NewPostgresBacklog(pool *pgxpool.Pool) *PostgresBacklog { return &PostgresBacklog{pool: pool} }

var _ Backlog = (*PostgresBacklog)(nil)

// behind is the condition on p (providers) and c (its cursor, outer
// joined): pulled before its last directory change, or never pulled and
// with nothing in the index (a provider that pushes, or whose first items
// `providers generate` indexed, has items without a cursor and is left to
// its pushes and the next activation).
const behind = `p.lifecycle = 'ACTIVE' AND p.endpoint <> '' AND (
	c.updated_at < p.updated_at
	OR (c.provider IS NULL AND NOT EXISTS (SELECT 1 FROM supply_items s WHERE s.provider = p.id)))`

// Changed implements Backlog: it reads the change log by its primary key
// (version) and the changed providers by theirs.
func (b *PostgresBacklog) Changed(ctx context.Context, from, to int64) ([]string, bool, error) {
	var bulk bool
	if err := b.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM directory_changes
WHERE version > $1 AND version <= $2 AND provider_id IS NULL)`, from, to).Scan(&bulk); err != nil {
		return nil, false, fmt.Errorf("catalog: backlog: %w", err)
	}
	if bulk {
		return nil, true, nil
	}
	rows, err := b.pool.Query(ctx, `SELECT p.id FROM providers p LEFT JOIN catalog_cursors c ON c.provider = p.id
WHERE p.id IN (SELECT provider_id FROM directory_changes WHERE version > $1 AND version <= $2) AND `+behind+`
ORDER BY p.id`, from, to)
	if err != nil {
		return nil, false, fmt.Errorf("catalog: backlog: %w", err)
	}
	ids, err := scanIDs(rows)
	return ids, false, err
}

// Behind implements Backlog, a keyset page over the providers' primary
// key.
func (b *PostgresBacklog) Behind(ctx context.Context, after string, limit int) ([]string, error) {
	rows, err := b.pool.Query(ctx, `SELECT p.id FROM providers p LEFT JOIN catalog_cursors c ON c.provider = p.id
WHERE p.id > $1 AND `+behind+` ORDER BY p.id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("catalog: backlog: %w", err)
	}
	return scanIDs(rows)
}

// Exclusive is a Backlog that several instances share: Exclusive runs fn
// while no other instance runs one of its own, so the start-up catch-up
// of instances started together is done once.
type Exclusive interface {
	Exclusive(ctx context.Context, fn func(context.Context) error) error
}

var _ Exclusive = (*PostgresBacklog)(nil)

// catchUpLockID is the advisory lock of the start-up catch-up
// ("plazacup" in ASCII), distinct from the migrations' locks.
const catchUpLockID int64 = 0x706c617a61637570

// Exclusive implements Exclusive with a session advisory lock on one of
// the pool's connections: it waits for the lock (or ctx), runs fn and
// unlocks. An instance that dies holding it loses its session, and the
// lock with it, so a waiting instance takes over.
func (b *PostgresBacklog) Exclusive(ctx context.Context, fn func(context.Context) error) error {
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("catalog: catch-up lock: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, catchUpLockID); err != nil {
		// A wait cancelled mid-statement leaves the connection unusable
		// for the pool; it is closed rather than returned.
		conn.Conn().Close(context.Background())
		return fmt.Errorf("catalog: catch-up lock: %w", err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, catchUpLockID); err != nil {
			conn.Conn().Close(uctx) // the session's end frees the lock
		}
	}()
	return fn(ctx)
}

type idRows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close()
}

func scanIDs(rows idRows) ([]string, error) {
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("catalog: backlog: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: backlog: %w", err)
	}
	return ids, nil
}

// backlogPage is how many providers one Behind read returns.
const backlogPage = 500

// CatchUpBacklog queues every provider b says is behind, a page at a time,
// waiting for room in the queue (the pulls in flight stay bounded). A
// gateway runs it at start: providers activated while no instance ran, or
// by an import, are pulled.
func (s *Syncer) CatchUpBacklog(ctx context.Context, b Backlog) error {
	_, err := s.catchUpBacklog(ctx, b)
	return err
}

// catchUpBacklog is CatchUpBacklog; it returns how many providers it
// queued.
func (s *Syncer) catchUpBacklog(ctx context.Context, b Backlog) (int, error) {
	after, n := "", 0
	for {
		ids, err := b.Behind(ctx, after, backlogPage)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			if !s.wait(ctx, id) {
				return n, ctx.Err()
			}
			n++
		}
		if len(ids) < backlogPage {
			return n, nil
		}
		after = ids[len(ids)-1]
	}
}

// settleMax bounds how long CatchUpAtStart waits for the pulls it queued:
// past it the lock passes on, and whatever is still behind is pulled by
// the next instance too (pulls are idempotent).
const settleMax = 2 * time.Minute

// CatchUpAtStart is CatchUpBacklog at a gateway's start; it returns how
// many providers it queued. When b is Exclusive it runs under its lock
// and holds it until the pulls it queued are done (their cursors stored,
// see settleMax): instances started together take the lock in turn, and
// the ones after the first find the backlog empty instead of pulling
// every provider again.
func (s *Syncer) CatchUpAtStart(ctx context.Context, b Backlog) (int, error) {
	ex, ok := b.(Exclusive)
	if !ok {
		return s.catchUpBacklog(ctx, b)
	}
	n := 0
	err := ex.Exclusive(ctx, func(ctx context.Context) error {
		var err error
		if n, err = s.catchUpBacklog(ctx, b); err != nil {
			return err
		}
		return s.settle(ctx, settleMax)
	})
	return n, err
}

// settle waits until the syncer owes no pull, at most limit.
func (s *Syncer) settle(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for s.Pending() > 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// CatchUpChanged queues the providers behind among those the directory
// changed in (from, to]; after a bulk change, the whole backlog.
func (s *Syncer) CatchUpChanged(ctx context.Context, b Backlog, from, to int64) error {
	ids, bulk, err := b.Changed(ctx, from, to)
	if err != nil {
		return err
	}
	if bulk {
		return s.CatchUpBacklog(ctx, b)
	}
	for _, id := range ids {
		if !s.wait(ctx, id) {
			return ctx.Err()
		}
	}
	return nil
}
