package directory

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"

	"github.com/plaza-gateway/plaza/pgmigrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockID is the PostgreSQL advisory lock taken while migrating, so
// that instances starting together migrate once: one applies, the others
// wait and then find nothing to do. ("plazadir" in ASCII.)
const migrationLockID int64 = 0x706c617a61646972

// migrationTable records applied versions (goose's table, under our name so
// it cannot collide with another tool's goose table in the same database).
const migrationTable = "plaza_directory_migrations"

func migrator(pool *pgxpool.Pool) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	return pgmigrate.New(pool, sub, migrationTable, migrationLockID)
}

// Migrate applies the embedded migrations that the database lacks, under the
// advisory lock. It returns how many it applied. Migrations stay backward
// compatible for one release, so old instances keep working on the new schema
// during a rolling upgrade.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	m, err := migrator(pool)
	if err != nil {
		return 0, fmt.Errorf("directory: migrations: %w", err)
	}
	defer m.Close()
	res, err := m.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("directory: migrate: %w", classify(ctx, err))
	}
	return len(res), nil
}

// MigrationStatus compares the database's schema with the binary's.
type MigrationStatus struct {
	// Current is the newest migration applied to the database (0: none).
	Current int64
	// Latest is the newest migration embedded in this binary.
	Latest int64
}

// UpToDate reports whether the database has every embedded migration.
func (s MigrationStatus) UpToDate() bool { return s.Current >= s.Latest }

// Status reads the schema version without changing anything.
func Status(ctx context.Context, pool *pgxpool.Pool) (MigrationStatus, error) {
	m, err := migrator(pool)
	if err != nil {
		return MigrationStatus{}, fmt.Errorf("directory: migrations: %w", err)
	}
	defer m.Close()
	cur, latest, err := m.GetVersions(ctx)
	if err != nil {
		return MigrationStatus{}, fmt.Errorf("directory: schema version: %w", classify(ctx, err))
	}
	return MigrationStatus{Current: cur, Latest: latest}, nil
}

// MigrateCommand is `plaza migrate [--check]` on the database at url: it
// applies the migrations (or, with check, only compares) and returns the
// process exit code: 0 when the schema is current, 1 when it is not or the
// database fails, 2 when url is empty (PLAZA_DATABASE_URL is not set).
func MigrateCommand(ctx context.Context, url string, check bool, stdout, stderr io.Writer) int {
	if url == "" {
		fmt.Fprintln(stderr, "plaza migrate: PLAZA_DATABASE_URL is not set")
		return 2
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		fmt.Fprintf(stderr, "plaza migrate: PLAZA_DATABASE_URL: %v\n", err)
		return 2
	}
	defer pool.Close()
	if !check {
		n, err := Migrate(ctx, pool)
		if err != nil {
			fmt.Fprintf(stderr, "plaza migrate: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
	}
	st, err := Status(ctx, pool)
	if err != nil {
		fmt.Fprintf(stderr, "plaza migrate: %v\n", err)
		return 1
	}
	if !st.UpToDate() {
		fmt.Fprintf(stderr, "plaza migrate: schema at version %d, this binary needs %d (run plaza migrate)\n", st.Current, st.Latest)
		return 1
	}
	fmt.Fprintf(stdout, "schema current at version %d\n", st.Current)
	return 0
}
