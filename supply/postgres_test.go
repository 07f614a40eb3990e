package supply

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/directory/pgtest"
)

// openPostgres returns a migrated index in a database of the test's own.
func openPostgres(t *testing.T) *Postgres {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return NewPostgres(pool)
}

func TestPostgresContract(t *testing.T) {
	runContract(t, func(t *testing.T) Index { return openPostgres(t) })
}

// A query that names a city reads that city's postings from the GIN index
// pairing city and words, never a scan of every city's matches.
func TestPostgresCityQueryUsesTheCityIndex(t *testing.T) {
	ix := openPostgres(t)
	// A country: 40 cities, words spread over the catalogue, so that the
	// planner's statistics make both the city and the words selective.
	words := []string{"milk", "bread", "cheddar", "rice", "tea", "apple", "tofu", "lamb", "noodles", "coffee"}
	var items []Item
	for i := range 4000 {
		it := product("p", fmt.Sprintf("p-%d", i), words[i%len(words)]+" "+words[(i/10)%len(words)], 1)
		it.Category, it.Cities = fmt.Sprintf("aisle %d", i%7), []string{fmt.Sprintf("City %d", i%40)}
		items = append(items, it)
	}
	mustApply(t, ix, Batch{Upserts: items})
	if _, err := ix.pool.Exec(ctx, "ANALYZE supply_items"); err != nil {
		t.Fatal(err)
	}
	exact, _ := plans("milk")
	inCity := &sqlQuery{}
	inCity.filters(Query{City: "City 7"})
	inCity.text(exact)
	trigrams := &sqlQuery{}
	trigrams.filters(Query{City: "City 7"})
	trigrams.where = append(trigrams.where, trigrams.arg("chedar")+" <% doc")
	tests := []struct {
		name  string
		q     *sqlQuery
		index string
		cond  string
	}{
		{"words in a city", inCity, "supply_items_city_text", "tsv @@"},
		// The planner may read the city's postings and check the trigrams
		// of those rows only: still one city, not the country.
		{"trigrams in a city", trigrams, "supply_items_city_", "cities @>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := ix.pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			// At this size a sequential read is cheapest; the question is
			// which index serves the query when the table is a country.
			if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				t.Fatal(err)
			}
			rows, err := tx.Query(ctx, "EXPLAIN SELECT id FROM supply_items WHERE "+strings.Join(tt.q.where, " AND "), tt.q.args...)
			if err != nil {
				t.Fatal(err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(lines, "\n")
			// The city and the words are both conditions of one index scan.
			cond := plan[max(strings.Index(plan, "Index Cond"), 0):]
			if !strings.Contains(plan, "Index Cond") || !strings.Contains(plan, tt.index) || strings.Contains(plan, "Seq Scan") ||
				!strings.Contains(cond, "cities @>") || !strings.Contains(cond, tt.cond) {
				t.Errorf("plan does not read %s:\n%s", tt.index, plan)
			}
		})
	}
}
