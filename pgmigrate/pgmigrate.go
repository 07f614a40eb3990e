// Package pgmigrate applies a package's embedded SQL migrations (goose
// files) to PostgreSQL under an advisory lock, so instances starting
// together migrate once: one applies, the others wait and then find nothing
// to do. Each package keeps its own version table and lock, so the
// directory and the supply index migrate independently.
package pgmigrate

import (
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// New returns a goose provider for the migrations in fsys (the .sql files
// at its root), recording applied versions in table and holding the
// advisory lock lockID while it migrates (polled every second for up to
// five minutes).
func New(pool *pgxpool.Pool, fsys fs.FS, table string, lockID int64) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("pgmigrate: %w", err)
	}
	return goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(pool), fsys,
		goose.WithSessionLocker(locker), goose.WithTableName(table), goose.WithDisableGlobalRegistry(true))
}
