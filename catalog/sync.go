package catalog

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
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
	// QueueSize bounds the providers waiting for a pull, a retry
	// included (default 1024); one notified while it is full waits for
	// the next catch-up.
	QueueSize int
	// Attempts bounds the pulls of one provider before the syncer gives
	// up on it (default 8): a pull fails when the provider is not routed
	// yet (its activation still travelling the change feed), cannot be
	// reached, or the index refuses the write. Each retry waits twice as
	// long as the one before, from RetryBase (default 250ms) up to
	// RetryMax (default 30s): 8 attempts span about a minute.
	Attempts            int
	RetryBase, RetryMax time.Duration
	// Now is the clock of the lag (default time.Now).
	Now func() time.Time
}

// ErrNotPublishing: the provider speaks a contract without publishing
// (1.1): it answered the pull with NOT_FOUND. It stays callable by ID; its
// items are not in search until it publishes.
var ErrNotPublishing = errors.New("provider does not publish a catalogue")

// Lookup finds a provider this instance routes: routed is false while it
// does not (not yet, or no longer), and cat is nil for a routed provider
// the gateway does not pull (an in-process one pushes its catalogue).
type Lookup func(id string) (cat connectors.Catalog, routed bool)

// Syncer pulls providers' catalogues into the index: a provider when it is
// first served (after certification, Notify), and every provider each
// Interval (catch-up). Each pull resumes from the provider's stored cursor;
// a failed one is retried with backoff, then given up (GaveUp counts).
//
// Its lag is the age of the oldest pull it owes: how long a change a
// provider announced (by becoming active, or by a catch-up) has waited to
// reach the index.
type Syncer struct {
	ingest  *Ingest
	cursors CursorStore
	lookup  Lookup
	all     func() []string
	cfg     SyncConfig
	log     *slog.Logger

	queue chan string
	room  chan struct{} // one token per pending provider: at most QueueSize
	done  chan struct{} // closed when Run ends: retries stop
	once  sync.Once

	mu      sync.Mutex
	pending map[string]time.Time // queued, being pulled or waiting for a retry: since when
	tries   map[string]int       // failed pulls of a pending provider
	gaveUp  atomic.Uint64
}

// NewSyncer returns a syncer writing through in. lookup finds a served
// provider's catalogue; all lists the served providers' IDs for catch-up
// (nil: none, a directory is never walked).
func NewSyncer(in *Ingest, cursors CursorStore, lookup Lookup, all func() []string, cfg SyncConfig, log *slog.Logger) *Syncer {
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
	if cfg.Attempts <= 0 {
		cfg.Attempts = 8
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 250 * time.Millisecond
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if all == nil {
		all = func() []string { return nil }
	}
	return &Syncer{ingest: in, cursors: cursors, lookup: lookup, all: all, cfg: cfg, log: log,
		queue: make(chan string, cfg.QueueSize), room: make(chan struct{}, cfg.QueueSize), done: make(chan struct{}),
		pending: map[string]time.Time{}, tries: map[string]int{}}
}

// Notify queues providers for a pull (newly served ones). A provider already
// pending is not queued twice; when QueueSize are pending the rest waits
// for the next catch-up.
func (s *Syncer) Notify(ids ...string) {
	for _, id := range ids {
		select {
		case s.room <- struct{}{}:
		default:
			s.log.Warn("catalog pull: queue full; left to the next catch-up", "provider", id)
			return
		}
		s.enqueue(id)
	}
}

// enqueue queues id, holding a token of room; it gives the token back
// when id is already pending.
func (s *Syncer) enqueue(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[id]; ok {
		<-s.room
		return
	}
	s.pending[id] = s.cfg.Now()
	s.queue <- id // never blocks: the queue holds at most the tokens taken
}

// finish forgets a pending provider and gives its token back.
func (s *Syncer) finish(id string) {
	s.mu.Lock()
	delete(s.pending, id)
	delete(s.tries, id)
	s.mu.Unlock()
	<-s.room
}

// Lag is the age of the oldest pull the syncer owes (queued, under way, or
// waiting for a retry); zero when it owes none. It reads at most
// QueueSize entries and does no I/O.
func (s *Syncer) Lag() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest time.Time
	for _, at := range s.pending {
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	if oldest.IsZero() {
		return 0
	}
	return max(s.cfg.Now().Sub(oldest), 0)
}

// Pending is how many providers the syncer owes a pull.
func (s *Syncer) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// GaveUp counts the providers whose pulls failed Attempts times.
func (s *Syncer) GaveUp() uint64 { return s.gaveUp.Load() }

// Run pulls queued providers with Concurrency workers and queues every
// served provider each Interval, until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	defer s.once.Do(func() { close(s.done) })
	var wg sync.WaitGroup
	for range s.cfg.Concurrency {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-s.queue:
					if s.pull(ctx, id) {
						s.retry(ctx, id)
					} else {
						s.finish(id)
					}
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

// retry queues id again after its backoff, or gives up on it after
// Attempts failed pulls. It stays pending meanwhile (its lag grows).
func (s *Syncer) retry(ctx context.Context, id string) {
	s.mu.Lock()
	s.tries[id]++
	n := s.tries[id]
	s.mu.Unlock()
	if n >= s.cfg.Attempts {
		s.gaveUp.Add(1)
		s.log.WarnContext(ctx, "catalog pull: giving up after repeated failures; retried at the next catch-up or activation",
			"provider", id, "attempts", n)
		s.finish(id)
		return
	}
	wait := min(s.cfg.RetryBase<<(n-1), s.cfg.RetryMax)
	time.AfterFunc(wait, func() {
		select {
		case <-s.done:
		case s.queue <- id: // room: id holds its token
		}
	})
}

// catchUp queues every served provider, waiting for room so the pulls in
// flight stay bounded.
func (s *Syncer) catchUp(ctx context.Context) {
	for _, id := range s.all() {
		if !s.wait(ctx, id) {
			return
		}
	}
}

// wait queues id once there is room; false when ctx ended first.
func (s *Syncer) wait(ctx context.Context, id string) bool {
	select {
	case s.room <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	s.enqueue(id)
	return true
}

// pull syncs one provider and reports whether to try again later.
func (s *Syncer) pull(ctx context.Context, id string) (again bool) {
	cat, routed := s.lookup(id)
	if !routed {
		s.log.DebugContext(ctx, "catalog pull: provider not routed yet", "provider", id)
		return true
	}
	if cat == nil {
		return false // pushes its own catalogue
	}
	n, err := s.Sync(ctx, id, cat)
	switch {
	case errors.Is(err, ErrNotPublishing):
		s.log.DebugContext(ctx, "catalog pull: provider does not publish (contract 1.1)", "provider", id)
		// An empty cursor marks it pulled, so the backlog does not
		// return it until its next directory change.
		if err := s.cursors.SetCursor(ctx, id, ""); err != nil {
			s.log.WarnContext(ctx, "catalog pull: marking a provider that does not publish", "provider", id, "err", err)
		}
	case err != nil && ctx.Err() == nil:
		s.log.InfoContext(ctx, "catalog pull failed; retrying", "provider", id, "err", err)
		return true
	case n > 0:
		s.log.InfoContext(ctx, "catalog pulled", "provider", id, "changes", n)
	}
	return false
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
	for page := range maxPagesPerSync {
		// A provider suspended or retired while its pull runs is called no
		// more: the pull stops between pages and resumes from the stored
		// cursor when it is routed again.
		if page > 0 && s.lookup != nil {
			if _, routed := s.lookup(provider); !routed {
				return total, nil
			}
		}
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
