package catalog

import (
	"context"
	"fmt"

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
	after := ""
	for {
		ids, err := b.Behind(ctx, after, backlogPage)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if !s.wait(ctx, id) {
				return ctx.Err()
			}
		}
		if len(ids) < backlogPage {
			return nil
		}
		after = ids[len(ids)-1]
	}
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
