package traffic

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The roll-up tables are range-partitioned on day, a partition per day, so
// retention drops exactly the days past it and a day's rows sit together.
//
// A day's partition is not attached to the table itself but to its month's
// partition, named as the previous release named its month partitions
// (traffic_daily_y2026m12) and itself partitioned by day. An instance of
// that release, running beside this one during an upgrade, creates a
// month's partition only when that name is missing ("CREATE TABLE IF NOT
// EXISTS"), so it finds the month there and its rows go to the days; a
// flat day partition would make its month's partition overlap, and its
// roll-ups fail. Months that release created (plain tables holding a whole
// month) stay until retention drops them, and their days get no partition.

// partitionLockID serialises creating and dropping partitions, so two
// instances needing a new day at once do not race ("plaztrpt").
const partitionLockID int64 = 0x706c617a74727074

// partitioned are the tables partitioned by day.
var partitioned = []string{"traffic_daily", "traffic_queries", "traffic_demand"}

// aheadDays is how many days after today Prune (run daily) creates the
// partitions of, so the first roll-up of a day rarely waits for the
// partition lock and the DDL, which locks the table against readers, and
// instances of the previous release find their day there.
const aheadDays = 3

func monthOf(day int32) time.Time {
	y, m, _ := DayTime(day).Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// monthPartition is table's partition holding month: of days (created by
// this release) or a plain table (by the previous one).
func monthPartition(table string, month time.Time) string {
	return fmt.Sprintf("%s_y%04dm%02d", table, month.Year(), int(month.Month()))
}

// dayPartition is table's partition of day, under its month's.
func dayPartition(table string, day int32) string {
	return fmt.Sprintf("%s_d%s", table, DayTime(day).Format("20060102"))
}

// EnsureDays creates the partitions of days where missing.
func (s *PostgresStore) EnsureDays(ctx context.Context, days ...int32) error {
	var need []int32
	for _, d := range days {
		if _, ok := s.days.Load(d); !ok && !slices.Contains(need, d) {
			need = append(need, d)
		}
	}
	if len(need) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", partitionLockID); err != nil {
			return err
		}
		for _, d := range need {
			for _, t := range partitioned {
				if err := createDay(ctx, tx, t, d); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("traffic: partitions: %w", err)
	}
	for _, d := range need {
		s.days.Store(d, true)
	}
	return nil
}

// createDay creates table's partition of day d, and its month's first
// where missing; a month partition of the previous release holds d already.
func createDay(ctx context.Context, tx pgx.Tx, table string, d int32) error {
	m := monthOf(d)
	month := monthPartition(table, m)
	var kind string
	if err := tx.QueryRow(ctx, "SELECT coalesce((SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)), '')", month).Scan(&kind); err != nil {
		return err
	}
	switch kind {
	case "r":
		return nil
	case "":
		q := fmt.Sprintf("CREATE TABLE %s PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s') PARTITION BY RANGE (day)",
			month, table, m.Format(time.DateOnly), m.AddDate(0, 1, 0).Format(time.DateOnly))
		if _, err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s')",
		dayPartition(table, d), month, DayTime(d).Format(time.DateOnly), DayTime(d+1).Format(time.DateOnly))
	_, err := tx.Exec(ctx, q)
	return err
}

// missingPartition reports whether err is an insert finding no partition
// for its row.
func missingPartition(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23514" && pe.Routine == "ExecFindPartition"
}

// upperBound finds the end of a range partition's bound expression
// ("FOR VALUES FROM ('2026-12-01') TO ('2026-12-02')").
var upperBound = regexp.MustCompile(`TO \('(\d{4}-\d{2}-\d{2})'\)`)

// Prune implements Store: every partition whose days are all before
// before's day is dropped (days, months of days, and the previous
// release's whole months), and applied IDs older than appliedTTL
// forgotten. Run daily, it also creates the partitions of today and the
// next aheadDays days.
func (s *PostgresStore) Prune(ctx context.Context, before time.Time) error {
	cut := DayTime(DayNumber(before))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", partitionLockID); err != nil {
			return err
		}
		// Months before their days, so a month's days go with it.
		rows, err := tx.Query(ctx, `
SELECT t.relid::regclass::text, pg_get_expr(c.relpartbound, c.oid)
FROM unnest($1::text[]) AS p(name), pg_partition_tree(p.name::regclass) t JOIN pg_class c ON c.oid = t.relid
WHERE t.level > 0 ORDER BY t.level`, partitioned)
		if err != nil {
			return err
		}
		type part struct{ Name, Bound string }
		parts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[part])
		if err != nil {
			return err
		}
		for _, p := range parts {
			m := upperBound.FindStringSubmatch(p.Bound)
			if m == nil {
				continue
			}
			if to, err := time.Parse(time.DateOnly, m[1]); err != nil || to.After(cut) {
				continue
			}
			if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+p.Name); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, "DELETE FROM traffic_rollups WHERE applied_at < $1", s.now().Add(-appliedTTL))
		return err
	})
	if err == nil {
		s.days.Range(func(d, _ any) bool {
			if d.(int32) < DayNumber(cut) {
				s.days.Delete(d)
			}
			return true
		})
		today := DayNumber(s.now())
		ahead := make([]int32, 0, aheadDays+1)
		for d := today; d <= today+aheadDays; d++ {
			ahead = append(ahead, d)
		}
		err = s.EnsureDays(ctx, ahead...)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("traffic: prune: %w", err)
	}
	return err
}
