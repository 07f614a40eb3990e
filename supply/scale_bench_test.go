package supply

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	neturl "net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/directory/pgtest"
)

// The PostgreSQL index at the scale: N generated providers of K
// catalogue items each (10^6 × 20 with PLAZA_BENCH_SCALE=1, what `make
// bench` runs; 500 × 20 in the CI micro-benchmark pass), searched at c=4
// with a mix of what users ask.
//
// At scale the database (plaza_bench_supply; plaza_bench_supply_<N> for
// another N) is kept between runs: it is
// rebuilt only when its fingerprint (the first supply migration, N, K,
// the seed and scaleGenVersion) differs, since building it takes minutes;
// later migrations are applied to the kept items, as they are in
// production, followed by a vacuum (what a fresh load ends with). A clean
// run (no such database) builds it. PLAZA_BENCH_SUPPLY_PROVIDERS
// overrides N (the most a smaller disk holds).

// scaleGenVersion changes whenever scaleItems generates other items, so a
// kept database of the old ones is rebuilt.
const scaleGenVersion = 1

// scaleSeed is the generated directory's seed (providers gen1-…).
const scaleSeed = 1

// scaleVocabulary: what generated providers' items are called, by kind.
var scaleVocabulary = struct {
	productWords, productNouns, aisles, specialties, practices, services, serviceCats []string
}{
	productWords: []string{"organic", "fresh", "whole", "skimmed", "premium", "value", "family", "frozen", "smoked", "spicy",
		"sweet", "green", "black", "jasmine", "wholegrain", "free-range", "low-fat", "imported", "local", "classic"},
	productNouns: []string{"milk", "bread", "cheddar", "rice", "tea", "apples", "tofu", "lamb", "noodles", "coffee", "yoghurt",
		"eggs", "butter", "dumplings", "soy sauce", "oat drink", "orange juice", "chicken", "pork belly", "salmon", "shrimp",
		"bok choy", "mushrooms", "tomatoes", "potatoes", "baby formula", "diapers", "detergent", "chocolate", "biscuits"},
	aisles: []string{"Dairy", "Bakery", "Produce", "Meat", "Seafood", "Pantry", "Snacks", "Baby", "Household", "Beverages", "Frozen"},
	specialties: []string{"Pediatrics", "Cardiology", "Dermatology", "Orthopedics", "Gynecology", "Ophthalmology", "Dentistry",
		"Internal Medicine", "Psychiatry", "Neurology", "Traditional Chinese Medicine", "Otolaryngology"},
	practices: []string{"Family", "Labor", "Property", "Criminal", "Corporate", "Immigration", "Tax", "Intellectual Property",
		"Contracts", "Traffic Accidents"},
	services: []string{"ID card renewal", "passport application", "household registration transfer", "business license",
		"marriage registration", "vehicle registration", "social insurance card", "residence permit", "tax certificate",
		"birth registration", "driving licence renewal", "pension enquiry"},
	serviceCats: []string{"Identity", "Travel", "Residence", "Business", "Family", "Transport", "Social Security", "Tax"},
}

var scaleSurnames = []string{"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu"}
var scaleGiven = []string{"Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Hui", "Ping", "Xin", "Tao", "Ying", "Hao", "Lin"}

// scaleItems is provider i's k catalogue items: its id, vertical and
// cities are those of directory.Generated(scaleSeed, i), so the index
// holds what `plaza providers generate --count N` registers; the items
// themselves are drawn from scaleVocabulary (the in-process demo
// catalogues cost milliseconds per provider to build, hours at 10^6).
func scaleItems(i, k int) []Item {
	p := directory.Generated(scaleSeed, i, directory.GenerateOptions{})
	r := rand.New(rand.NewPCG(scaleSeed, uint64(i)^0x5ca1e))
	v := &scaleVocabulary
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	rating := func() float64 { return float64(30+r.IntN(21)) / 10 }
	out := make([]Item, 0, k)
	for j := range k {
		it := Item{Provider: p.ID, ID: p.ID + "-" + strconv.Itoa(j), Cities: []string{p.Cities[j%len(p.Cities)]},
			Rating: rating(), Available: r.IntN(10) > 0, Version: 1, Currency: "CNY"}
		city := it.Cities[0]
		switch p.Vertical {
		case connectors.VerticalGrocery:
			if j == 0 {
				it.Kind, it.Name, it.Description = KindStore, p.Name+" "+city, p.Description
				it.Tags = []string{pick(v.productNouns), pick(v.aisles)}
				break
			}
			noun := pick(v.productNouns)
			it.Kind, it.Category = KindProduct, pick(v.aisles)
			it.Name = pick(v.productWords) + " " + noun + " " + strconv.Itoa(100*(1+r.IntN(20))) + "g"
			it.Description = "The " + noun + " " + p.Name + " delivers in " + city + "."
			it.Tags = []string{pick(v.productWords), noun}
			it.Price = int64(100 + r.IntN(20_000))
		case connectors.VerticalMedical:
			spec := pick(v.specialties)
			it.Kind, it.Category = KindDoctor, spec
			it.Name = "Dr. " + pick(scaleSurnames) + " " + pick(scaleGiven)
			it.Description = spec + " at " + p.Name + ", " + city + "."
			it.Tags = []string{spec, "consultation"}
			it.Price = int64(2000 + r.IntN(30_000))
		case connectors.VerticalLegal:
			area := pick(v.practices)
			it.Kind, it.Category = KindLawyer, area
			it.Name = pick(scaleSurnames) + " " + pick(scaleGiven)
			it.Description = "Lawyer at " + p.Name + " in " + city + ", " + area + " law."
			it.Tags = []string{area + " law", "consultation"}
			it.Price = int64(20_000 + r.IntN(100_000))
		default:
			it.Category = pick(v.serviceCats)
			if j%5 == 0 {
				it.Kind, it.Name = KindOffice, p.Name+" office "+strconv.Itoa(j/5+1)
				it.Description = "Service hall of " + p.Name + " in " + city + "."
			} else {
				svc := pick(v.services)
				it.Kind, it.Name = KindGovService, svc
				it.Description = "Apply for " + svc + " at " + p.Name + " in " + city + "."
				it.Tags = []string{svc}
			}
		}
		out = append(out, it)
	}
	return out
}

// scaleSize is the benchmark's N and K, and whether it runs at scale.
func scaleSize() (n, k int, full bool) {
	if os.Getenv("PLAZA_BENCH_SCALE") != "1" {
		return 500, 20, false
	}
	n = 1_000_000
	if s := os.Getenv("PLAZA_BENCH_SUPPLY_PROVIDERS"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	return n, 20, true
}

// scaleBuilders is how many index builds the benchmark's load runs at
// once: the machine's two cores.
const scaleBuilders = 2

// scaleDatabase is the kept database of the benchmark at scale, one per
// N: plaza_bench_supply at 10^6 providers, plaza_bench_supply_<N> for
// another N, so a smaller run does not drop the full one.
func scaleDatabase(n int) string {
	if n == 1_000_000 {
		return "plaza_bench_supply"
	}
	return "plaza_bench_supply_" + strconv.Itoa(n)
}

// scaleFingerprint says what a kept database holds.
func scaleFingerprint(n, k int) (string, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("migrations=%s n=%d k=%d seed=%d gen=%d", files[0], n, k, scaleSeed, scaleGenVersion), nil
}

// scaleIndex returns the index at N × K items, building it when needed,
// and the load's figures: seconds (of the run that built it) and whether
// this run built it.
func scaleIndex(b *testing.B, n, k int, full bool) (*Postgres, float64, bool) {
	ctx := context.Background()
	url := ""
	fp, err := scaleFingerprint(n, k)
	if err != nil {
		b.Fatal(err)
	}
	if !full {
		url = pgtest.DatabaseURL(b)
	} else {
		url = keptDatabase(b, scaleDatabase(n))
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS plaza_bench_fingerprint (fp text NOT NULL, load_seconds float8 NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	var have string
	var loadS float64
	err = pool.QueryRow(ctx, `SELECT fp, load_seconds FROM plaza_bench_fingerprint`).Scan(&have, &loadS)
	if err == nil && have == fp {
		// An unlogged table (see below) is empty after a crash.
		var empty bool
		if err := pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM supply_items)`).Scan(&empty); err != nil {
			b.Fatal(err)
		}
		if empty {
			have = "(the items lost in a crash)"
		}
	}
	if err == nil && have == fp {
		t0 := time.Now()
		applied, err := Migrate(ctx, pool)
		if err != nil {
			b.Fatal(err)
		}
		if applied > 0 {
			if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) supply_items`); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("reusing %s (%s), built in %.0f s; %d new migrations applied in %.0f s",
			scaleDatabase(n), fp, loadS, applied, time.Since(t0).Seconds())
		return NewPostgres(pool), loadS, false
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		b.Fatal(err)
	}
	b.Logf("building the index: %s (had %q)", fp, have)
	for _, ddl := range []string{
		`DROP TABLE IF EXISTS supply_items, supply_item_places, supply_words, supply_word_variants, plaza_supply_migrations`,
		// The migrations' functions, which the migrations create again.
		`DO $$ DECLARE f regprocedure; BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema() AND p.proname LIKE 'supply\_%' LOOP
        EXECUTE 'DROP FUNCTION ' || f || ' CASCADE';
    END LOOP;
END $$`,
		`DELETE FROM plaza_bench_fingerprint`,
	} {
		if _, err := pool.Exec(ctx, ddl); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := Migrate(ctx, pool); err != nil {
		b.Fatal(err)
	}
	// A database of the benchmark's own, rebuilt when lost: unlogged, the
	// copy and the index builds write no WAL (about as much again as the
	// table and its indexes), and its search indexes are built two at a
	// time after the items are in (load; Load builds them one by one in
	// its transaction). The searches read the same pages either way.
	for _, t := range []string{"supply_items", "supply_item_places"} {
		if _, err := pool.Exec(ctx, `ALTER TABLE `+t+` SET UNLOGGED`); err != nil {
			b.Fatal(err)
		}
	}
	ix := NewPostgres(pool)
	t0 := time.Now()
	res, err := ix.load(ctx, generatedSource(ctx, n, k), scaleBuilders)
	if err != nil {
		b.Fatal(err)
	}
	loadS = time.Since(t0).Seconds()
	if !res.Bulk || res.Indexed != int64(n*k) {
		b.Fatalf("load: %+v, want %d items in bulk", res, n*k)
	}
	b.Logf("loaded %d items in %.0f s", res.Indexed, loadS)
	if _, err := pool.Exec(ctx, `INSERT INTO plaza_bench_fingerprint VALUES ($1, $2)`, fp, loadS); err != nil {
		b.Fatal(err)
	}
	return ix, loadS, true
}

// generatedSource yields the N providers' items, generated on two
// goroutines ahead of the copy.
func generatedSource(ctx context.Context, n, k int) func() ([]Item, error) {
	const per = 500 // providers per batch
	out := make(chan []Item, 8)
	var next sync.Mutex
	lo := 0
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				next.Lock()
				from := lo
				lo += per
				next.Unlock()
				if from >= n {
					return
				}
				items := make([]Item, 0, per*k)
				for i := from; i < min(from+per, n); i++ {
					items = append(items, scaleItems(i, k)...)
				}
				select {
				case out <- items:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(out) }()
	return func() ([]Item, error) {
		items, ok := <-out
		if !ok {
			return nil, ctx.Err()
		}
		return items, nil
	}
}

// keptDatabase creates database name on the test server unless it exists
// and returns its URL.
func keptDatabase(b *testing.B, name string) string {
	ctx := context.Background()
	server := pgtest.ServerURL()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		b.Skipf("SKIP: no PostgreSQL answers at %s (%v)", server, err)
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if !exists {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			b.Fatal(err)
		}
	}
	u, err := neturl.Parse(server)
	if err != nil {
		b.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// scaleQuery is one query of the mix, by class.
type scaleQuery struct {
	class string
	q     Query
}

// scaleMix is the mix of what users ask, in a city drawn as the
// generated supply is (skewed to the big cities, where the users are):
// text in their city, a typo in their city, a category browsed in their
// city, and text across the country.
func scaleMix(r *rand.Rand) []scaleQuery {
	cities := directory.GeneratedCities
	city := func() string { return cities[int(float64(len(cities))*r.Float64()*r.Float64())] }
	v := &scaleVocabulary
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	typo := func(s string) string { // a letter dropped
		i := 1 + r.IntN(len(s)-2)
		return s[:i] + s[i+1:]
	}
	return []scaleQuery{
		{"text in a city", Query{Text: pick(v.productWords) + " " + pick(v.productNouns), City: city()}},
		{"text in a city", Query{Text: pick(v.specialties), City: city()}},
		{"typo in a city", Query{Text: typo(pick([]string{"cheddar", "yoghurt", "dumplings", "chocolate", "mushrooms", "passport"})), City: city()}},
		{"category in a city", Query{Category: pick(v.aisles), City: city(), Kinds: []Kind{KindProduct}}},
		{"category in a city", Query{Category: pick(v.specialties), City: city()}},
		{"text, country-wide", Query{Text: pick(v.productNouns)}},
		{"text, country-wide", Query{Text: pick(v.services)}},
	}
}

// BenchmarkPostgresScale searches the PostgreSQL index of N × K items at
// c=4, first: 20, over 140 queries per iteration of the mix (scaleMix).
// It reports p50/p99 over every query and per class, the index's size on
// disk and the load's time.
//
//	PLAZA_BENCH_SCALE=1 go test -run '^$' -bench PostgresScale -benchtime 20x -timeout 3h ./supply/
func BenchmarkPostgresScale(b *testing.B) {
	n, k, full := scaleSize()
	ix, loadS, built := scaleIndex(b, n, k, full)
	ctx := context.Background()
	var bytes, items int64
	if err := ix.pool.QueryRow(ctx, `SELECT pg_total_relation_size('supply_items') + pg_total_relation_size('supply_item_places') +
    pg_total_relation_size('supply_words') + pg_total_relation_size('supply_word_variants'), (SELECT count(*) FROM supply_items)`).Scan(&bytes, &items); err != nil {
		b.Fatal(err)
	}
	// One pass of the mix first, so the figures are of a warm cache.
	// PLAZA_BENCH_SUPPLY_QUERIES draws another set of queries (0, the
	// default, is the set every earlier run measured): a run straight
	// after another with the same set measures the pages that run read
	// into the caches, not a warm database answering new queries.
	set, _ := strconv.ParseUint(os.Getenv("PLAZA_BENCH_SUPPLY_QUERIES"), 10, 32)
	if set != 0 {
		b.Logf("query set %d", set)
	}
	warm := rand.New(rand.NewPCG(7+set<<32, 7))
	for range 20 {
		for _, sq := range scaleMix(warm) {
			if _, err := ix.Search(ctx, sq.q); err != nil {
				b.Fatal(err)
			}
		}
	}
	const workers, perIter = 4, 20
	var mu sync.Mutex
	lat := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(i)+set<<32, uint64(w)))
				for range perIter / workers {
					for _, sq := range scaleMix(r) {
						t0 := time.Now()
						if _, err := ix.Search(ctx, sq.q); err != nil {
							b.Error(err)
							return
						}
						d := time.Since(t0)
						mu.Lock()
						lat[sq.class] = append(lat[sq.class], d)
						lat["all"] = append(lat["all"], d)
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	at := func(l []time.Duration, q float64) float64 {
		slices.Sort(l)
		return float64(l[int(q*float64(len(l)-1))].Microseconds()) / 1000
	}
	for class, l := range lat {
		b.Logf("%-20s n=%5d p50 %7.1f ms  p99 %7.1f ms", class, len(l), at(l, 0.5), at(l, 0.99))
	}
	b.ReportMetric(at(lat["all"], 0.5), "p50-ms")
	b.ReportMetric(at(lat["all"], 0.99), "p99-ms")
	b.ReportMetric(float64(items), "items")
	b.ReportMetric(float64(bytes)/(1<<30), "GiB")
	b.ReportMetric(loadS, "load-s")
	if built {
		b.ReportMetric(1, "built")
	}
}
