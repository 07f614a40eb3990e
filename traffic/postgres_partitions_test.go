package traffic_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/traffic"
)

// partitionTables are the roll-up tables, each partitioned by day.
var partitionTables = []string{"traffic_daily", "traffic_queries", "traffic_demand"}

// partitions lists table's partitions at every level, by name without the
// table's prefix ("_y2026m12", "_d20261201"), sorted.
func partitions(t *testing.T, pool *pgxpool.Pool, table string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT relid::regclass::text FROM pg_partition_tree($1::regclass) WHERE level > 0", table)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, table)
	}
	slices.Sort(names)
	return names
}

// landed is the partition holding each of provider's rows by day
// ("2026-12-01": "traffic_daily_d20261201").
func landed(t *testing.T, pool *pgxpool.Pool, provider string) map[string]string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT to_char(day, 'YYYY-MM-DD'), tableoid::regclass::text FROM traffic_daily WHERE provider = $1", provider)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var day, part string
		if err := rows.Scan(&day, &part); err != nil {
			t.Fatal(err)
		}
		out[day] = part
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// clicks applies a roll-up of one search, click and order of provider
// (rows in all three tables) on each day.
func clicks(t *testing.T, store traffic.Store, provider string, days ...time.Time) {
	t.Helper()
	c := traffic.NewCollector()
	for _, d := range days {
		c.Observe([]events.Event{
			{Kind: events.KindSearch, Query: "milk", City: "Hangzhou", Vertical: "GROCERY", Results: 1, Shown: shown(provider), Time: d},
			{Kind: events.KindClick, Query: "milk", City: "Hangzhou", Provider: provider, Time: d},
		})
	}
	if err := c.Flush(context.Background(), store); err != nil {
		t.Fatal(err)
	}
}

func date(m time.Month, d int) time.Time { return time.Date(2026, m, d, 12, 0, 0, 0, time.UTC) }

// previousRelease runs what the previous release's instances run for a
// month they write to: create its partition if the name is missing.
func previousRelease(t *testing.T, pool *pgxpool.Pool, m time.Month) {
	t.Helper()
	from := time.Date(2026, m, 1, 0, 0, 0, 0, time.UTC)
	for _, table := range partitionTables {
		q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s_y2026m%02d PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s')",
			table, int(m), table, from.Format(time.DateOnly), from.AddDate(0, 1, 0).Format(time.DateOnly))
		if _, err := pool.Exec(context.Background(), q); err != nil {
			t.Fatalf("the previous release's partition of %s for %s: %v", table, m, err)
		}
	}
}

// TestPostgresPartitions follows one database through a partition a day:
// created by the roll-ups that need them, beside months of the previous
// release (and its instances), dropped by retention, created again when
// another instance dropped one this one had seen.
func TestPostgresPartitions(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	if err := traffic.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return date(time.December, 5) }
	store := traffic.NewPostgresStore(pool, now)
	expect := func(t *testing.T, want ...string) {
		t.Helper()
		for _, table := range partitionTables {
			if got := partitions(t, pool, table); !slices.Equal(got, want) {
				t.Fatalf("%s partitions = %v, want %v", table, got, want)
			}
		}
	}

	t.Run("a month of the previous release keeps its days", func(t *testing.T) {
		previousRelease(t, pool, time.October)
		clicks(t, store, "p", date(time.October, 20))
		expect(t, "_y2026m10")
		if got := landed(t, pool, "p"); got["2026-10-20"] != "traffic_daily_y2026m10" {
			t.Fatalf("rows landed in %v", got)
		}
	})
	t.Run("a roll-up creates its days' partitions, and its rows land in them", func(t *testing.T) {
		clicks(t, store, "p", date(time.November, 30), date(time.December, 1))
		expect(t, "_d20261130", "_d20261201", "_y2026m10", "_y2026m11", "_y2026m12")
		want := map[string]string{"2026-10-20": "traffic_daily_y2026m10", "2026-11-30": "traffic_daily_d20261130", "2026-12-01": "traffic_daily_d20261201"}
		if got := landed(t, pool, "p"); !maps.Equal(got, want) {
			t.Fatalf("rows landed in %v, want %v", got, want)
		}
		var bound string
		if err := pool.QueryRow(ctx, "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'traffic_daily_d20261130'").Scan(&bound); err != nil {
			t.Fatal(err)
		}
		if bound != "FOR VALUES FROM ('2026-11-30') TO ('2026-12-01')" {
			t.Fatalf("bound = %q, want one day", bound)
		}
	})
	t.Run("an instance of the previous release writes beside this one", func(t *testing.T) {
		previousRelease(t, pool, time.December)
		if _, err := pool.Exec(ctx, "INSERT INTO traffic_daily (provider, day, city, clicks) VALUES ('old', '2026-12-01', '', 1)"); err != nil {
			t.Fatal(err)
		}
		if got := landed(t, pool, "old"); got["2026-12-01"] != "traffic_daily_d20261201" {
			t.Fatalf("rows landed in %v", got)
		}
	})
	t.Run("retention keeps a month while one of its days is within it", func(t *testing.T) {
		if err := store.Prune(ctx, date(time.October, 15)); err != nil {
			t.Fatal(err)
		}
		expect(t, "_d20261130", "_d20261201", "_d20261205", "_d20261206", "_d20261207", "_d20261208", "_y2026m10", "_y2026m11", "_y2026m12")
	})
	t.Run("retention drops old days and old months, and creates the next days", func(t *testing.T) {
		if err := store.Prune(ctx, date(time.December, 1)); err != nil {
			t.Fatal(err)
		}
		expect(t, "_d20261201", "_d20261205", "_d20261206", "_d20261207", "_d20261208", "_y2026m12")
		want := map[string]string{"2026-12-01": "traffic_daily_d20261201"}
		if got := landed(t, pool, "p"); !maps.Equal(got, want) {
			t.Fatalf("rows left in %v, want %v", got, want)
		}
	})
	t.Run("a day another instance dropped is created again", func(t *testing.T) {
		other := traffic.NewPostgresStore(pool, now)
		clicks(t, store, "late", date(time.December, 2))
		if err := other.Prune(ctx, date(time.December, 3)); err != nil {
			t.Fatal(err)
		}
		clicks(t, store, "late", date(time.December, 2))
		if got := landed(t, pool, "late"); got["2026-12-02"] != "traffic_daily_d20261202" {
			t.Fatalf("rows landed in %v", got)
		}
	})
}
