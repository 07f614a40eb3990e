package catalog

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/pgmigrate"
)

// CursorStore keeps where the pull of each provider's catalogue resumes.
type CursorStore interface {
	// Cursor returns the provider's cursor, "" when it was never pulled.
	Cursor(ctx context.Context, provider string) (string, error)
	SetCursor(ctx context.Context, provider, cursor string) error
}

// MemoryCursors is the CursorStore of a gateway without a database: one
// entry per provider pulled, forgotten on exit (the embedded index is too).
type MemoryCursors struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemoryCursors returns an empty store.
func NewMemoryCursors() *MemoryCursors { return &MemoryCursors{m: map[string]string{}} }

// Cursor implements CursorStore.
func (c *MemoryCursors) Cursor(_ context.Context, provider string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[provider], nil
}

// SetCursor implements CursorStore.
func (c *MemoryCursors) SetCursor(_ context.Context, provider, cursor string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[provider] = cursor
	return nil
}

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies the catalogue's migrations (the cursor table) under an
// advisory lock of its own and returns how many it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return 0, err
	}
	m, err := pgmigrate.New(pool, sub, "plaza_catalog_migrations", 0x706c617a61636174) // "plazacat"
	if err != nil {
		return 0, fmt.Errorf("catalog: migrations: %w", err)
	}
	defer m.Close()
	res, err := m.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("catalog: migrate: %w", err)
	}
	return len(res), nil
}

// PostgresCursors keeps the cursors in PostgreSQL (table catalog_cursors,
// from Migrate), shared by every instance: one that takes over a
// provider's catch-up resumes where another left it.
type PostgresCursors struct{ pool *pgxpool.Pool }

// NewPostgresCursors returns the store over pool; the caller closes it.
func NewPostgresCursors(pool *pgxpool.Pool) *PostgresCursors { return &PostgresCursors{pool: pool} }

// Cursor implements CursorStore.
func (c *PostgresCursors) Cursor(ctx context.Context, provider string) (string, error) {
	var cur string
	err := c.pool.QueryRow(ctx, `SELECT cursor FROM catalog_cursors WHERE provider = $1`, provider).Scan(&cur)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("catalog: cursor of %s: %w", provider, err)
	}
	return cur, nil
}

// SetCursor implements CursorStore.
func (c *PostgresCursors) SetCursor(ctx context.Context, provider, cursor string) error {
	_, err := c.pool.Exec(ctx, `INSERT INTO catalog_cursors (provider, cursor, updated_at) VALUES ($1, $2, now())
ON CONFLICT (provider) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()`, provider, cursor)
	if err != nil {
		return fmt.Errorf("catalog: set cursor of %s: %w", provider, err)
	}
	return nil
}

// SyncConfig tunes the Syncer. Zero fields take the defaults.
type SyncConfig struct {
	// Concurrency bounds the providers pulled at once (default 4): a pull
	// is a few pages from one provider, and the index takes the writes.
	Concurrency int
	// Interval is how often every provider is caught up (default 10m): a
	// provider whose pushes were lost (the gateway down, a network split)
	// is in step again within it. Each catch-up costs one call per
	// provider (a pull with nothing new is one empty page).
	Interval time.Duration
	// PageSize is the changes asked per page (default and at most
	// connectors.MaxCatalogBatch).
	PageSize int
	// QueueSize bounds the providers waiting for a worker (default 1024);
	// one that finds the queue full waits for the next catch-up.
	QueueSize int
}

// ErrNotPublishing: the provider speaks a contract without publishing
// (1.1): it answered the pull with NOT_FOUND. It stays callable by ID; its
// items are not in search until it publishes.
var ErrNotPublishing = errors.New("provider does not publish a catalogue")

// Syncer pulls providers' catalogues into the index: a provider when it is
// first served (after certification, Notify), and every provider each
// Interval (catch-up). Each pull resumes from the provider's stored cursor.
type Syncer struct {
	ingest  *Ingest
	cursors CursorStore
	lookup  func(id string) (connectors.Connector, bool)
	all     func() []string
	cfg     SyncConfig
	log     *slog.Logger

	queue chan string
	mu    sync.Mutex
	busy  map[string]bool // queued or being pulled: bounded by QueueSize+Concurrency
}

// NewSyncer returns a syncer writing through in. lookup finds a served
// provider's connector; all lists the served providers' IDs for catch-up.
func NewSyncer(in *Ingest, cursors CursorStore, lookup func(string) (connectors.Connector, bool), all func() []string, cfg SyncConfig, log *slog.Logger) *Syncer {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Minute
	}
	if cfg.PageSize <= 0 || cfg.PageSize > connectors.MaxCatalogBatch {
		cfg.PageSize = connectors.MaxCatalogBatch
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Syncer{ingest: in, cursors: cursors, lookup: lookup, all: all, cfg: cfg, log: log,
		queue: make(chan string, cfg.QueueSize), busy: map[string]bool{}}
}

// Notify queues providers for a pull (newly served ones). A provider already
// queued is not queued twice; when the queue is full the catch-up gets it.
func (s *Syncer) Notify(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if s.busy[id] {
			continue
		}
		select {
		case s.queue <- id:
			s.busy[id] = true
		default:
			return
		}
	}
}

// Run pulls queued providers with Concurrency workers and queues every
// served provider each Interval, until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range s.cfg.Concurrency {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-s.queue:
					s.pull(ctx, id)
					s.mu.Lock()
					delete(s.busy, id)
					s.mu.Unlock()
				}
			}
		})
	}
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
			s.catchUp(ctx)
		}
	}
}

// catchUp queues every served provider, waiting for room in the queue so
// the pulls in flight stay bounded.
func (s *Syncer) catchUp(ctx context.Context) {
	for _, id := range s.all() {
		s.mu.Lock()
		queued := s.busy[id]
		if !queued {
			s.busy[id] = true
		}
		s.mu.Unlock()
		if queued {
			continue
		}
		select {
		case s.queue <- id:
		case <-ctx.Done():
			return
		}
	}
}

func (s *Syncer) pull(ctx context.Context, id string) {
	c, ok := s.lookup(id)
	if !ok {
		return
	}
	cat, ok := c.(connectors.Catalog)
	if !ok {
		return // an in-process connector without a catalogue
	}
	n, err := s.Sync(ctx, id, cat)
	switch {
	case errors.Is(err, ErrNotPublishing):
		s.log.DebugContext(ctx, "catalog pull: provider does not publish (contract 1.1)", "provider", id)
	case err != nil && ctx.Err() == nil:
		s.log.WarnContext(ctx, "catalog pull failed; retried at the next catch-up", "provider", id, "err", err)
	case n > 0:
		s.log.InfoContext(ctx, "catalog pulled", "provider", id, "changes", n)
	}
}

// maxPagesPerSync bounds one pull, so one provider that keeps changing
// cannot hold a worker: the rest waits for the next catch-up.
const maxPagesPerSync = 1000

// Sync pulls provider's changes from its stored cursor to the end (at most
// maxPagesPerSync pages), indexes them, and stores the cursor after each
// page. It returns how many changes it read. A provider that answers
// NOT_FOUND does not publish: ErrNotPublishing.
func (s *Syncer) Sync(ctx context.Context, provider string, c connectors.Catalog) (int, error) {
	cursor, err := s.cursors.Cursor(ctx, provider)
	if err != nil {
		return 0, err
	}
	total := 0
	for range maxPagesPerSync {
		ch, err := c.CatalogChanges(ctx, cursor, s.cfg.PageSize)
		if err != nil {
			if connectors.KindOf(err) == connectors.KindNotFound {
				return total, fmt.Errorf("%s: %w", provider, ErrNotPublishing)
			}
			return total, fmt.Errorf("catalog: pull %s: %w", provider, err)
		}
		b := connectors.CatalogBatch{Upserts: ch.Upserts, Deletes: ch.Deletes}
		if b.Len() > 0 {
			if _, err := s.ingest.apply(ctx, provider, b, false); err != nil {
				return total, fmt.Errorf("catalog: index %s: %w", provider, err)
			}
			total += b.Len()
		}
		if ch.Cursor != "" && ch.Cursor != cursor {
			if err := s.cursors.SetCursor(ctx, provider, ch.Cursor); err != nil {
				return total, err
			}
			cursor = ch.Cursor
		}
		if !ch.More {
			return total, nil
		}
	}
	return total, nil
}
