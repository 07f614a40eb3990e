package supply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Loader is an optional capability of an Index: a first load of many
// items (a generated directory's catalogues, a restore) faster than Apply.
type Loader interface {
	// Load indexes every item next yields until it returns nil, as
	// Apply would (malformed items are rejected and counted, an older
	// version never overwrites a newer one), and returns the counts.
	Load(ctx context.Context, next func() ([]Item, error)) (LoadResult, error)
}

// LoadResult counts what Load did.
type LoadResult struct {
	Indexed, Superseded, Rejected int64
	// Bulk: the index was empty, so the items were copied in bulk and its
	// indexes built after the copy.
	Bulk bool
}

var _ Loader = (*Postgres)(nil)

// loadBatch is how many items a non-bulk Load applies per transaction.
const loadBatch = 1000

// Load implements Loader. Into an empty supply_items it holds the table's
// lock for one transaction, drops its indexes (primary key included),
// COPYs the items and builds the indexes again from their own definitions
// (as pg_indexes has them, so the migrations stay their only source):
// building a GIN index once over 10^7 rows is many times cheaper than
// updating it row by row. Other instances' reads and pushes wait for the
// transaction; a failure rolls everything back, indexes included. Into a
// table that holds items already, it applies them through Apply, a
// transaction of loadBatch items at a time.
func (p *Postgres) Load(ctx context.Context, next func() ([]Item, error)) (LoadResult, error) {
	return p.load(ctx, next, 1)
}

// load is Load with the search indexes built on parallel connections
// when parallel > 1: GIN builds are single-threaded (PostgreSQL 15), so
// the one transaction builds them one after the other. With parallel > 1
// the items and the primary key are committed first (a duplicate item
// still fails the load whole), then the other indexes are built, parallel
// at a time, each in its own session: meanwhile other sessions read the
// items without those indexes (the same answers, slowly), and a failure
// leaves the indexes not built yet missing (the error names them). The
// benchmark at scale builds its own database that way; Load does not.
func (p *Postgres) load(ctx context.Context, next func() ([]Item, error), parallel int) (LoadResult, error) {
	var res LoadResult
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("supply: load: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE supply_items, supply_item_places IN ACCESS EXCLUSIVE MODE`); err != nil {
		return res, fmt.Errorf("supply: load: %w", err)
	}
	var empty bool
	if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM supply_items)`).Scan(&empty); err != nil {
		return res, fmt.Errorf("supply: load: %w", err)
	}
	if !empty {
		if err := tx.Rollback(ctx); err != nil {
			return res, fmt.Errorf("supply: load: %w", err)
		}
		return p.loadApply(ctx, next)
	}
	res.Bulk = true
	rebuild, err := dropIndexes(ctx, tx)
	if err != nil {
		return res, err
	}
	// The places follow the items in one statement after the copy, not a
	// trigger call per row (see fillPlaces).
	if _, err := tx.Exec(ctx, `ALTER TABLE supply_items DISABLE TRIGGER USER`); err != nil {
		return res, fmt.Errorf("supply: load: %w", err)
	}
	src := &copySource{next: next, res: &res, words: wordSet{}}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"supply_items"}, copyColumns, src)
	if err != nil {
		return res, fmt.Errorf("supply: load: copy: %w", err)
	}
	if src.err != nil {
		return res, src.err
	}
	res.Indexed = n
	if err := fillPlaces(ctx, tx); err != nil {
		return res, err
	}
	// The typo pass's vocabulary (migration 00006): the words collected
	// as the rows passed, in one statement. Collecting them costs the
	// copy little; splitting every doc again in SQL (supply_doc_words,
	// the migration's backfill) costs more: at 10^5 generated items,
	// 0.16 s of docWords against 1.0 s for the backfill's statements.
	if len(src.words) > 0 {
		if _, err := tx.Exec(ctx, addWordsSQL, src.words.sorted()); err != nil {
			return res, fmt.Errorf("supply: load: vocabulary: %w", err)
		}
	}
	// The builds' memory: a GIN build spills to disk past it.
	if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '1GB'`); err != nil {
		return res, fmt.Errorf("supply: load: %w", err)
	}
	later := rebuild[:0:0]
	if parallel > 1 {
		// The primary key (first) in the transaction, the rest after.
		rebuild, later = rebuild[:1], rebuild[1:]
	}
	for _, ddl := range rebuild {
		if _, err := tx.Exec(ctx, ddl); err != nil {
			return res, fmt.Errorf("supply: load: %s: %w", ddl, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("supply: load: %w", err)
	}
	if err := p.buildIndexes(ctx, later, parallel); err != nil {
		return res, err
	}
	// The planner's statistics: without them the first queries after a
	// load guess the table empty and pick scans. The vacuum sets the
	// visibility map, so a count over a bitmap of exact index matches
	// skips the table's pages.
	if _, err := p.pool.Exec(ctx, `VACUUM (ANALYZE) supply_items, supply_item_places`); err != nil {
		return res, fmt.Errorf("supply: load: analyze: %w", err)
	}
	return res, nil
}

// buildIndexes runs the index definitions ddls, parallel at a time, each
// on a connection of its own with the builds' memory, the longest (by
// kind: GIN, trigram GIN if a migration's Down brought one back, first)
// started first.
func (p *Postgres) buildIndexes(ctx context.Context, ddls []string, parallel int) error {
	if len(ddls) == 0 {
		return nil
	}
	rank := func(ddl string) int {
		switch {
		case strings.Contains(ddl, "trgm") || strings.Contains(ddl, "trigram"):
			return 0
		case strings.Contains(ddl, "USING gin"):
			return 1
		}
		return 2
	}
	todo := make(chan string, len(ddls))
	for r := range 3 {
		for _, ddl := range ddls {
			if rank(ddl) == r {
				todo <- ddl
			}
		}
	}
	close(todo)
	var mu sync.Mutex
	var failed []error
	var wg sync.WaitGroup
	for range min(parallel, len(ddls)) {
		wg.Go(func() {
			for ddl := range todo {
				err := p.buildIndex(ctx, ddl)
				if err != nil {
					mu.Lock()
					failed = append(failed, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		return fmt.Errorf("supply: load: the items are in, %d of %d indexes are not: %w", len(failed), len(ddls), errors.Join(failed...))
	}
	return nil
}

func (p *Postgres) buildIndex(ctx context.Context, ddl string) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", ddl, err)
	}
	defer conn.Release()
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '1GB'`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, ddl)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", ddl, err)
	}
	return nil
}

// dropIndexes drops supply_items' indexes and primary key, and the
// places' indexes (empty with the items), and returns the statements that
// build them again, the primary key first.
func dropIndexes(ctx context.Context, tx pgx.Tx) ([]string, error) {
	var rebuild, drop []string
	rows, err := tx.Query(ctx, `SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'supply_items'::regclass AND contype = 'p'`)
	if err != nil {
		return nil, fmt.Errorf("supply: load: %w", err)
	}
	var name, def string
	if _, err := pgx.ForEachRow(rows, []any{&name, &def}, func() error {
		drop = append(drop, "ALTER TABLE supply_items DROP CONSTRAINT "+pgx.Identifier{name}.Sanitize())
		rebuild = append(rebuild, "ALTER TABLE supply_items ADD CONSTRAINT "+pgx.Identifier{name}.Sanitize()+" "+def)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("supply: load: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename IN ('supply_items', 'supply_item_places')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)`)
	if err != nil {
		return nil, fmt.Errorf("supply: load: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&name, &def}, func() error {
		drop = append(drop, "DROP INDEX "+pgx.Identifier{name}.Sanitize())
		rebuild = append(rebuild, def)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("supply: load: %w", err)
	}
	for _, ddl := range drop {
		if _, err := tx.Exec(ctx, ddl); err != nil {
			return nil, fmt.Errorf("supply: load: %s: %w", ddl, err)
		}
	}
	return rebuild, nil
}

// fillPlaces fills the items' places (migration 00008) from the copied
// items, as the trigger it stands in for would have, and enables that
// trigger again (in the load's transaction, which disabled it).
func fillPlaces(ctx context.Context, tx pgx.Tx) error {
	for _, st := range []string{
		// Empty with the items; emptied in case a hand-made change left any.
		`TRUNCATE supply_item_places`,
		`INSERT INTO supply_item_places (city, category_key, kind, rating, price, provider, id, key)
SELECT DISTINCT c, category_key, kind, rating, price, provider, id, key
FROM supply_items, unnest(cities) AS c WHERE NOT deleted`,
		`ALTER TABLE supply_items ENABLE TRIGGER USER`,
	} {
		if _, err := tx.Exec(ctx, st); err != nil {
			return fmt.Errorf("supply: load: places: %w", err)
		}
	}
	return nil
}

// loadApply is Load into a table that holds items: Apply, batch by batch.
func (p *Postgres) loadApply(ctx context.Context, next func() ([]Item, error)) (LoadResult, error) {
	var res LoadResult
	var pending []Item
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		ack, err := p.Apply(ctx, Batch{Upserts: pending})
		if err != nil {
			return fmt.Errorf("supply: load: %w", err)
		}
		res.Indexed += int64(ack.Count(Indexed))
		res.Superseded += int64(ack.Count(Superseded))
		res.Rejected += int64(ack.Count(Rejected))
		pending = pending[:0]
		return nil
	}
	for {
		items, err := next()
		if err != nil {
			return res, err
		}
		if items == nil {
			return res, flush()
		}
		pending = append(pending, items...)
		if len(pending) >= loadBatch {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
}

// copyColumns are the columns Load copies: upsertSQL's, in its order.
var copyColumns = []string{"provider", "kind", "id", "version", "deleted", "vertical", "name", "description", "category",
	"category_key", "tags", "tags_text", "city_names", "cities", "lat", "lon", "price", "currency", "available", "rating",
	"updated_at", "key", "doc"}

// docColumn is doc's place in copyColumns and itemRow: the text whose
// words join the vocabulary.
var docColumn = slices.Index(copyColumns, "doc")

// copySource feeds CopyFrom from next, one checked item at a time.
type copySource struct {
	next  func() ([]Item, error)
	items []Item
	row   []any
	res   *LoadResult
	err   error
	// words collects the copied docs' words (the vocabulary).
	words wordSet
}

func (s *copySource) Next() bool {
	for {
		if len(s.items) > 0 {
			it := &s.items[0]
			s.items = s.items[1:]
			if checkItem(it) != nil {
				s.res.Rejected++
				continue
			}
			s.row = itemRow(it)
			s.words.add(s.row[docColumn].(string))
			return true
		}
		items, err := s.next()
		if err != nil {
			s.err = err
			return false
		}
		if items == nil {
			return false
		}
		s.items = items
	}
}

func (s *copySource) Values() ([]any, error) { return s.row, nil }
func (s *copySource) Err() error             { return s.err }

// itemRow is a checked item as the values of copyColumns (and, after the
// first five, of upsertSQL's parameters from $5).
func itemRow(it *Item) []any {
	cities := make([]string, len(it.Cities))
	for j, c := range it.Cities {
		cities[j] = norm(c)
	}
	var lat, lon *float64
	if it.Geo != nil {
		lat, lon = &it.Geo.Lat, &it.Geo.Lon
	}
	var updated *time.Time
	if !it.UpdatedAt.IsZero() {
		updated = &it.UpdatedAt
	}
	tags := it.Tags
	if tags == nil {
		tags = []string{}
	}
	tagsText := strings.Join(tags, " . ")
	r := it.Ref()
	return []any{it.Provider, string(it.Kind), it.ID, r.Version, false, string(verticalOf[it.Kind]), it.Name,
		it.Description, it.Category, norm(it.Category), tags, tagsText, it.Cities, cities, lat, lon, it.Price,
		it.Currency, it.Available, it.Rating, updated, r.Key(),
		strings.ToLower(strings.Join([]string{it.Name, it.Category, tagsText, it.Description}, " "))}
}
