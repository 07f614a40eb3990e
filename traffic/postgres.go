package traffic

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/pgmigrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockID is the advisory lock taken while migrating ("plaztraf").
const migrationLockID int64 = 0x706c617a74726166

// Migrate applies the traffic migrations the database lacks (its own
// version table, so it migrates independently of the directory).
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	m, err := pgmigrate.New(pool, sub, "plaza_traffic_migrations", migrationLockID)
	if err != nil {
		return fmt.Errorf("traffic: migrations: %w", err)
	}
	defer m.Close()
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("traffic: migrate: %w", err)
	}
	return nil
}

// PostgresStore keeps roll-ups in PostgreSQL, in tables partitioned by
// day (postgres_partitions.go). Call Migrate first.
type PostgresStore struct {
	pool *pgxpool.Pool
	now  func() time.Time
	// days holds the days (DayNumber) whose partitions this instance has
	// seen exist: a day is checked once per process, and forgotten by
	// Prune once it is older than retention.
	days sync.Map
}

var _ Store = (*PostgresStore)(nil)

// NewPostgresStore returns a store over pool; now may be nil (time.Now).
func NewPostgresStore(pool *pgxpool.Pool, now func() time.Time) *PostgresStore {
	if now == nil {
		now = time.Now
	}
	return &PostgresStore{pool: pool, now: now}
}

// Apply implements Store: one transaction records the ID and adds every
// row (rows in key order, so concurrent roll-ups lock rows in one order).
func (s *PostgresStore) Apply(ctx context.Context, r *Rollup) (bool, error) {
	var days []int32
	seen := map[int32]bool{}
	note := func(d int32) {
		if !seen[d] {
			seen[d] = true
			days = append(days, d)
		}
	}
	for k := range r.Daily {
		note(k.Day)
	}
	for k := range r.Queries {
		note(k.Day)
	}
	for k := range r.Demand {
		note(k.Day)
	}
	applied, err := s.apply(ctx, r, days)
	if missingPartition(err) {
		// Another instance's retention dropped a day this one had seen
		// (a late event of a day past retention): forget and retry once.
		for _, d := range days {
			s.days.Delete(d)
		}
		applied, err = s.apply(ctx, r, days)
	}
	if err != nil {
		return false, fmt.Errorf("traffic: apply %s: %w", r.ID, err)
	}
	return applied, nil
}

// apply creates the partitions of days where missing, then applies r.
func (s *PostgresStore) apply(ctx context.Context, r *Rollup, days []int32) (bool, error) {
	if err := s.EnsureDays(ctx, days...); err != nil {
		return false, err
	}
	applied := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "INSERT INTO traffic_rollups (id, applied_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", r.ID, s.now())
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		applied = true
		if err := s.applyDaily(ctx, tx, r); err != nil {
			return err
		}
		if err := s.applyQueries(ctx, tx, r); err != nil {
			return err
		}
		return s.applyDemand(ctx, tx, r)
	})
	return applied, err
}

func (s *PostgresStore) applyDaily(ctx context.Context, tx pgx.Tx, r *Rollup) error {
	keys := r.sortedDaily()
	if len(keys) == 0 {
		return nil
	}
	var (
		prov, city             = make([]string, len(keys)), make([]string, len(keys))
		day                    = make([]time.Time, len(keys))
		si, hi, cl, or, bk, gm = cols(len(keys)), cols(len(keys)), cols(len(keys)), cols(len(keys)), cols(len(keys)), cols(len(keys))
	)
	for i, k := range keys {
		c := r.Daily[k]
		prov[i], day[i], city[i] = k.Provider, DayTime(k.Day), k.City
		si[i], hi[i], cl[i], or[i], bk[i], gm[i] = c.SearchImpressions, c.HomeImpressions, c.Clicks, c.Orders, c.Bookings, c.GMV
	}
	_, err := tx.Exec(ctx, `
INSERT INTO traffic_daily AS t (provider, day, city, search_impressions, home_impressions, clicks, orders, bookings, gmv)
SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
ON CONFLICT (provider, day, city) DO UPDATE SET
    search_impressions = t.search_impressions + EXCLUDED.search_impressions,
    home_impressions = t.home_impressions + EXCLUDED.home_impressions,
    clicks = t.clicks + EXCLUDED.clicks, orders = t.orders + EXCLUDED.orders,
    bookings = t.bookings + EXCLUDED.bookings, gmv = t.gmv + EXCLUDED.gmv`,
		prov, day, city, si, hi, cl, or, bk, gm)
	return err
}

func cols(n int) []int64 { return make([]int64, n) }

func (s *PostgresStore) applyQueries(ctx context.Context, tx pgx.Tx, r *Rollup) error {
	keys := r.sortedQueries()
	if len(keys) == 0 {
		return nil
	}
	n := len(keys)
	prov, city, query := make([]string, n), make([]string, n), make([]string, n)
	day := make([]time.Time, n)
	im, cl, rs := cols(n), cols(n), cols(n)
	best := make([]int32, n)
	for i, k := range keys {
		c := r.Queries[k]
		prov[i], day[i], city[i], query[i] = k.Provider, DayTime(k.Day), k.City, k.Query
		im[i], cl[i], rs[i], best[i] = c.Impressions, c.Clicks, c.RankSum, int32(c.BestRank)
	}
	_, err := tx.Exec(ctx, `
INSERT INTO traffic_queries AS t (provider, day, city, query, impressions, clicks, rank_sum, best_rank)
SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::int[])
ON CONFLICT (provider, day, city, query) DO UPDATE SET
    impressions = t.impressions + EXCLUDED.impressions, clicks = t.clicks + EXCLUDED.clicks,
    rank_sum = t.rank_sum + EXCLUDED.rank_sum,
    best_rank = CASE WHEN t.best_rank = 0 THEN EXCLUDED.best_rank
                     WHEN EXCLUDED.best_rank = 0 THEN t.best_rank
                     ELSE least(t.best_rank, EXCLUDED.best_rank) END`,
		prov, day, city, query, im, cl, rs, best)
	return err
}

func (s *PostgresStore) applyDemand(ctx context.Context, tx pgx.Tx, r *Rollup) error {
	keys := r.sortedDemand()
	if len(keys) == 0 {
		return nil
	}
	n := len(keys)
	vert, city, query := make([]string, n), make([]string, n), make([]string, n)
	day := make([]time.Time, n)
	se, ze, lo := cols(n), cols(n), cols(n)
	for i, k := range keys {
		c := r.Demand[k]
		vert[i], day[i], city[i], query[i] = k.Vertical, DayTime(k.Day), k.City, k.Query
		se[i], ze[i], lo[i] = c.Searches, c.ZeroResults, c.LowResults
	}
	_, err := tx.Exec(ctx, `
INSERT INTO traffic_demand AS t (vertical, day, city, query, searches, zero_results, low_results)
SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
ON CONFLICT (vertical, day, city, query) DO UPDATE SET
    searches = t.searches + EXCLUDED.searches, zero_results = t.zero_results + EXCLUDED.zero_results,
    low_results = t.low_results + EXCLUDED.low_results`,
		vert, day, city, query, se, ze, lo)
	return err
}

// genericFrom is the range, in days, from which a read is planned
// generically: see read.
const genericFrom = 32

// read runs one read over the days [from, to). A range of genericFrom days
// or more is read with a generic plan (plan_cache_mode, local to the
// batch's implicit transaction): a year is 365 partitions, and planned for
// its values on every call a year's read spent more time planning than
// reading (p50 113 ms against 64 over 10^7 rows at load 12); the generic
// plan is made once per connection and prunes the partitions outside the
// range when it runs. It locks every partition of the table while it runs
// (some 400, against the range's own days for a plan made for the values),
// so a shorter range keeps a plan made for its values, cheap to make. The
// reads' plans do not depend on the values otherwise (an index range scan
// of one provider, or vertical, in each day).
func read[T any](ctx context.Context, pool *pgxpool.Pool, from, to time.Time, row pgx.RowToFunc[T], sql string, args ...any) ([]T, error) {
	mode := "force_custom_plan"
	if to.Sub(from) >= genericFrom*24*time.Hour {
		mode = "force_generic_plan"
	}
	var batch pgx.Batch
	batch.Queue(`SELECT set_config('plan_cache_mode', $1, true)`, mode)
	batch.Queue(sql, args...)
	br := pool.SendBatch(ctx, &batch)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, row)
}

// Daily implements Store: an index range scan of the provider's rows in
// each day's partition in the range (the others are pruned).
func (s *PostgresStore) Daily(ctx context.Context, provider string, r Range, city string) ([]Row, error) {
	from, to, err := r.Days()
	if err != nil {
		return nil, err
	}
	out, err := read(ctx, s.pool, from, to, func(row pgx.CollectableRow) (Row, error) {
		var r Row
		err := row.Scan(&r.Day, &r.City, &r.SearchImpressions, &r.HomeImpressions, &r.Clicks, &r.Orders, &r.Bookings, &r.GMV)
		r.Day = r.Day.UTC()
		return r, err
	}, `
SELECT day, city, search_impressions, home_impressions, clicks, orders, bookings, gmv
FROM traffic_daily WHERE provider = $1 AND day >= $2 AND day < $3 AND ($4 = '' OR city = $4)
ORDER BY day, city`, provider, from, to, NormalizeCity(city))
	if err != nil {
		return nil, fmt.Errorf("traffic: daily: %w", err)
	}
	return out, nil
}

// TopQueries implements Store.
func (s *PostgresStore) TopQueries(ctx context.Context, provider string, r Range, city string, limit int) ([]QueryRow, error) {
	from, to, err := r.Days()
	if err != nil {
		return nil, err
	}
	out, err := read(ctx, s.pool, from, to, func(row pgx.CollectableRow) (QueryRow, error) {
		var q QueryRow
		var best int32
		err := row.Scan(&q.Query, &q.City, &q.Impressions, &q.Clicks, &q.RankSum, &best)
		q.BestRank = int(best)
		return q, err
	}, `
SELECT query, city, sum(impressions), sum(clicks), sum(rank_sum), coalesce(min(nullif(best_rank, 0)), 0)
FROM traffic_queries WHERE provider = $1 AND day >= $2 AND day < $3 AND ($4 = '' OR city = $4)
GROUP BY query, city ORDER BY sum(impressions) DESC, query, city LIMIT $5`, provider, from, to, NormalizeCity(city), checkLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("traffic: top queries: %w", err)
	}
	return out, nil
}

// Demand implements Store.
func (s *PostgresStore) Demand(ctx context.Context, verticals, cities []string, r Range, limit int) ([]DemandRow, error) {
	from, to, err := r.Days()
	if err != nil {
		return nil, err
	}
	norm := make([]string, len(cities))
	for i, c := range cities {
		norm[i] = NormalizeCity(c)
	}
	out, err := read(ctx, s.pool, from, to, func(row pgx.CollectableRow) (DemandRow, error) {
		var d DemandRow
		return d, row.Scan(&d.Query, &d.City, &d.Searches, &d.ZeroResults, &d.LowResults)
	}, `
SELECT query, city, sum(searches), sum(zero_results), sum(low_results)
FROM traffic_demand WHERE vertical = ANY($1) AND city = ANY($2) AND day >= $3 AND day < $4
GROUP BY query, city HAVING sum(zero_results) + sum(low_results) > 0
ORDER BY sum(zero_results) + sum(low_results) DESC, query, city LIMIT $5`, verticals, norm, from, to, checkLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("traffic: demand: %w", err)
	}
	return out, nil
}
