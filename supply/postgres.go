package supply

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/pgmigrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockID is the advisory lock held while migrating ("plazasup"
// in ASCII), distinct from the directory's.
const migrationLockID int64 = 0x706c617a61737570

// migrationTable records the supply index's applied versions.
const migrationTable = "plaza_supply_migrations"

// Migrate applies the supply index's embedded migrations that the database
// lacks, under an advisory lock, and returns how many it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return 0, err
	}
	m, err := pgmigrate.New(pool, sub, migrationTable, migrationLockID)
	if err != nil {
		return 0, fmt.Errorf("supply: migrations: %w", err)
	}
	defer m.Close()
	res, err := m.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("supply: migrate: %w", err)
	}
	return len(res), nil
}

// Postgres is the supply index in PostgreSQL, shared by every instance:
// full-text search over a weighted tsvector (name, category, tags,
// description), typos expanded to the indexed words one edit away (the
// vocabulary of migration 00006, expand), GIN indexes keyed by city
// and term together (migration 00003) so one city's query reads only that
// city's postings, and GIN indexes keyed by rank tier and term (migration
// 00005, and by city too in 00009) so a text query reads its best-rated
// candidates from small posting lists, never a word's list of the whole
// country or city (walk), and the items' places, one row per item and
// city in b-trees in the browse's order (migration 00008), so a browse in
// a city reads about a page of rows, best rated first (browsePage). The
// schema comes from Migrate.
type Postgres struct {
	pool *pgxpool.Pool
}

var _ Index = (*Postgres)(nil)

// NewPostgres returns the index over pool; the caller closes the pool.
func NewPostgres(pool *pgxpool.Pool) *Postgres { return &Postgres{pool: pool} }

// Close implements Index; the pool belongs to the caller.
func (p *Postgres) Close() error { return nil }

const upsertSQL = `
INSERT INTO supply_items (provider, kind, id, version, deleted, vertical, name, description, category, category_key,
    tags, tags_text, city_names, cities, lat, lon, price, currency, available, rating, updated_at, key, doc)
VALUES ($1, $2, $3, $4, false, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
ON CONFLICT (provider, kind, id) DO UPDATE SET version = EXCLUDED.version, deleted = false,
    vertical = EXCLUDED.vertical, name = EXCLUDED.name, description = EXCLUDED.description,
    category = EXCLUDED.category, category_key = EXCLUDED.category_key, tags = EXCLUDED.tags,
    tags_text = EXCLUDED.tags_text, city_names = EXCLUDED.city_names, cities = EXCLUDED.cities,
    lat = EXCLUDED.lat, lon = EXCLUDED.lon, price = EXCLUDED.price, currency = EXCLUDED.currency,
    available = EXCLUDED.available, rating = EXCLUDED.rating, updated_at = EXCLUDED.updated_at, doc = EXCLUDED.doc
WHERE supply_items.version < EXCLUDED.version`

const deleteSQL = `
INSERT INTO supply_items (provider, kind, id, version, deleted, key) VALUES ($1, $2, $3, $4, true, $5)
ON CONFLICT (provider, kind, id) DO UPDATE SET version = EXCLUDED.version, deleted = true,
    vertical = '', name = '', description = '', category = '', category_key = '', tags = '{}', tags_text = '',
    city_names = '{}', cities = '{}', lat = NULL, lon = NULL, price = 0, currency = '', available = false,
    rating = 0, updated_at = NULL, doc = ''
WHERE supply_items.version < EXCLUDED.version`

// Apply implements Index: one transaction, one round trip for the batch.
// A row's version check and write are one statement, so concurrent pushes
// of one item from two instances still keep the newest.
func (p *Postgres) Apply(ctx context.Context, b Batch) (Ack, error) {
	ack := Ack{Results: make([]Result, 0, len(b.Upserts)+len(b.Deletes))}
	var batch pgx.Batch
	var queued []int // indexes into ack.Results of queued statements
	words := wordSet{}
	for i := range b.Upserts {
		it := &b.Upserts[i]
		r := it.Ref()
		if err := checkItem(it); err != nil {
			ack.Results = append(ack.Results, Result{Ref: r, Outcome: Rejected, Err: err})
			continue
		}
		// upsertSQL takes the copied columns but deleted, which it sets.
		row := itemRow(it)
		batch.Queue(upsertSQL, append(row[:4:4], row[5:]...)...)
		words.add(row[docColumn].(string))
		queued = append(queued, len(ack.Results))
		ack.Results = append(ack.Results, Result{Ref: r})
	}
	for _, r := range b.Deletes {
		if err := checkRef(r); err != nil {
			ack.Results = append(ack.Results, Result{Ref: r, Outcome: Rejected, Err: err})
			continue
		}
		batch.Queue(deleteSQL, r.Provider, string(r.Kind), r.ID, r.Version, r.Key())
		queued = append(queued, len(ack.Results))
		ack.Results = append(ack.Results, Result{Ref: r})
	}
	if len(queued) == 0 {
		return ack, nil
	}
	// The upserts' words join the typo pass's vocabulary (migration 00006)
	// in the same transaction; a superseded upsert's too, which at worst
	// adds a word nothing holds.
	if len(words) > 0 {
		batch.Queue(addWordsSQL, words.sorted())
	}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		br := tx.SendBatch(ctx, &batch)
		for _, i := range queued {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return fmt.Errorf("%s: %w", ack.Results[i].Ref.Key(), err)
			}
			ack.Results[i].Outcome = Superseded
			if tag.RowsAffected() == 1 {
				ack.Results[i].Outcome = Indexed
			}
		}
		if len(words) > 0 {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return fmt.Errorf("vocabulary: %w", err)
			}
		}
		return br.Close()
	})
	if err != nil {
		return Ack{}, fmt.Errorf("supply: apply: %w", err)
	}
	return ack, nil
}

// sqlQuery accumulates a statement's conditions and arguments.
type sqlQuery struct {
	where []string
	args  []any
	// city is the query's city, normalised; "" for none.
	city string
	// keys are the conditions on the city-qualified indexes (migration
	// 00003) that every match meets: see from.
	keys []string
	// category is the query's category, normalised; "" for none.
	category string
	// kinds are the kinds asked (of Kinds or Verticals), when kinded.
	kinds  []string
	kinded bool
	// browse: a browse in a city read through the items' places
	// (browsable); places is its condition on supply_item_places, whose
	// arguments are the query's (see from and browsePage).
	browse bool
	places string
	// walking: the query's page walks the rank-tier keys (tierText), so
	// filters and text add no conditions on the city keys (keys): the
	// walk's statement would not read them.
	walking bool
}

// from is the rows a query reads: supply_items, or with keys the rows the
// city-qualified indexes yield for them, fenced (OFFSET 0) so that the
// query's own conditions filter those rows and are never read from the
// indexes of the whole country instead: the planner's estimates of many
// small city postings OR'd together (a typo's expansions) otherwise
// favour the country's one list, whose length grows with the country.
func (s *sqlQuery) from() string {
	if s.browse {
		return "(SELECT supply_items.* FROM (SELECT provider, kind, id FROM supply_item_places WHERE " + s.places +
			") p JOIN supply_items USING (provider, kind, id) OFFSET 0) AS supply_items"
	}
	if len(s.keys) == 0 {
		return "supply_items"
	}
	return "(SELECT " + searchColumns + " FROM supply_items WHERE NOT deleted AND " + strings.Join(s.keys, " AND ") + " OFFSET 0) AS supply_items"
}

func (s *sqlQuery) arg(v any) string {
	s.args = append(s.args, v)
	return fmt.Sprintf("$%d", len(s.args))
}

// tsTerm keeps a term's letters and digits: what to_tsquery may parse.
func tsTerm(t string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, t)
}

// tsQuery is the tsquery text matching any of phrases (every term of one
// phrase), each term restricted to weight ("" for any field).
func tsQuery(phrases []string, weight string) string {
	var alts []string
	for _, ph := range phrases {
		var ts []string
		for _, t := range strings.Fields(ph) {
			if t = tsTerm(t); t != "" {
				if weight != "" {
					t += ":" + weight
				}
				ts = append(ts, t)
			}
		}
		if len(ts) > 0 {
			alts = append(alts, "("+strings.Join(ts, " & ")+")")
		}
	}
	return strings.Join(alts, " | ")
}

// text adds the condition that every concept of pl matches: its tsquery
// (in the typo pass, pl's phrases hold the expansions of its fuzzy terms:
// expand). In a city each concept also reads its city-qualified keys
// (cityText).
func (s *sqlQuery) text(pl *plan) {
	var every []string
	for _, phrases := range pl.concepts {
		if keys := s.cityText(phrases); keys != "" {
			s.keys = append(s.keys, keys)
		}
		cond := "false"
		if tq := tsQuery(phrases, ""); tq != "" {
			cond = "tsv @@ to_tsquery('english', " + s.arg(tq) + ")"
		}
		every = append(every, "("+cond+")")
	}
	s.where = append(s.where, strings.Join(every, " AND "))
}

// cityText is the condition on the city-qualified indexes (migration
// 00003) that every row matching one concept's phrases in s.city meets:
// any phrase's words all keyed in the city. It narrows the rows the
// concept's own condition is checked on to the city's postings of those
// words; "" when there is no city.
func (s *sqlQuery) cityText(phrases []string) string {
	if s.city == "" || s.walking {
		return ""
	}
	var any []string
	n := len(s.args)
	city := s.arg(s.city)
	for _, ph := range phrases {
		if w := tsWords(ph); w != "" {
			any = append(any, cityKeysExpr+" @> supply_city_words("+city+", "+s.arg(w)+")")
		}
	}
	if len(any) == 0 {
		// No condition, so none of its arguments: PostgreSQL cannot type
		// a parameter the statement does not use.
		s.args = s.args[:n]
		return ""
	}
	return "(" + strings.Join(any, " OR ") + ")"
}

// tierKeysExpr and cityTierKeysExpr are the expressions of the rank-tier
// indexes (migrations 00005 and 00009), written as the indexes are (see
// cityKeysExpr).
const (
	tierKeysExpr     = "supply_tier_keys(rating, key, tsv, category_key)"
	cityTierKeysExpr = "supply_city_tier_keys(cities, rating, key, tsv, category_key)"
)

// tierGroups is how many groups of the rank-tier order (migration 00005,
// supply_tier_group) a walk reads at most: all of them. A variable so a
// test can stop the walk early.
var tierGroups = 24

// tierText is the condition on the rank-tier keys that every match of pl
// (and of the category, if any) in the group tier_group meets: each
// concept's words, any phrase's, and the category keyed in that group; in
// a city, keyed in that city too (migration 00009), otherwise across the
// country (00005). "" when pl cannot be walked so: a concept without words
// (then the query reads today's indexes).
func (s *sqlQuery) tierText(pl *plan) string {
	n := len(s.args)
	expr, words, terms := tierKeysExpr, "supply_tier_words(tier_group, ", "supply_tier_terms(tier_group, "
	if s.city != "" {
		city := s.arg(s.city)
		expr = cityTierKeysExpr
		words = "supply_city_tier_words(tier_group, " + city + ", "
		terms = "supply_city_tier_terms(tier_group, " + city + ", "
	}
	var every []string
	for _, phrases := range pl.concepts {
		var any []string
		for _, ph := range phrases {
			if w := tsWords(ph); w != "" {
				any = append(any, expr+" @> "+words+s.arg(w)+")")
			}
		}
		if len(any) == 0 {
			s.args = s.args[:n]
			return ""
		}
		every = append(every, "("+strings.Join(any, " OR ")+")")
	}
	if s.category != "" {
		every = append(every, expr+" @> "+terms+s.arg([]string{"cat:" + s.category})+")")
	}
	return strings.Join(every, " AND ")
}

// walk is the candidates of a text query ordered by relevance, read
// through the rank-tier keys (migrations 00005 and, in a city, 00009):
// the first MaxCandidates of its matches in the tier order (supply_tier
// ascending, best rated first, then rating descending, key ascending), a
// total order, so the same rows whatever the plan and however the rows
// lie on disk. It reads the tier groups best first, each group's matches
// from that group's posting lists of keys (all the conditions of where
// checked on them, fenced as in from) and sorted, and stops once it holds
// MaxCandidates: every row of a later group comes after every row of the
// groups read, so the rows held are the first of all the matches. A
// common word reads a few of its groups' small lists, not its list of
// the whole country or city.
func walk(keys, where string) string {
	return fmt.Sprintf(`(SELECT supply_items.* FROM generate_series(0, %d) AS tier_group,
    LATERAL (SELECT * FROM (SELECT `+searchColumns+` FROM supply_items WHERE NOT deleted AND %s OFFSET 0) AS supply_items
        WHERE %s ORDER BY supply_tier(rating, key), rating DESC, key LIMIT %d) AS supply_items
    LIMIT %d) AS supply_items`, tierGroups-1, keys, where, MaxCandidates, MaxCandidates)
}

// walked is the source of q's matches of pl read by a walk of the
// rank-tier keys, and the query whose conditions and arguments it holds;
// nil when pl cannot be walked (tierText).
func walked(q Query, pl *plan) (string, *sqlQuery) {
	s := &sqlQuery{walking: true}
	s.filters(q)
	s.text(pl)
	keys := s.tierText(pl)
	if keys == "" {
		return "", nil
	}
	return walk(keys, strings.Join(s.where, " AND ")), s
}

// browsable reports whether q is a browse in a city that the items'
// places (migration 00008) answer in order: no text, a city, and the
// order best rated first (relevance without text, or rating).
func browsable(pl *plan, q Query) bool {
	return pl == nil && norm(q.City) != "" && (q.Sort == SortRelevance || q.Sort == SortRating)
}

// placesCond is a browse's condition on supply_item_places, its arguments
// added by arg: the city, the category, the kinds and the price range,
// each a column of the places' indexes, so that a page and a count read
// one range of one index.
func (s *sqlQuery) placesCond(q Query, arg func(any) string) string {
	cond := []string{"city = " + arg(s.city)}
	if s.category != "" {
		cond = append(cond, "category_key = "+arg(s.category))
	}
	if s.kinded {
		cond = append(cond, "kind = ANY("+arg(s.kinds)+")")
	}
	if lo, hi, ok := priceRange(q); ok {
		cond = append(cond, "price BETWEEN "+arg(lo)+" AND "+arg(hi))
	}
	return strings.Join(cond, " AND ")
}

// browsePage is the statement of a browse's page (browsable): the first
// limit places in the order (rating DESC, key), after the cursor's
// condition (after, on rating and key), from one range of a places index,
// then their items, on which the query's own conditions (where) hold as
// well. It reads limit index entries and limit items, not every match.
func (s *sqlQuery) browsePage(where, sv, after string, limit int) string {
	cond := s.places
	if after != "" {
		cond += " AND " + after
	}
	return fmt.Sprintf(`SELECT %s, score, sv FROM (SELECT supply_items.*, 0 AS score, %s AS sv
    FROM (SELECT provider, kind, id FROM supply_item_places WHERE %s ORDER BY rating DESC, key LIMIT %d) p
    JOIN supply_items USING (provider, kind, id) WHERE %s) m ORDER BY rating DESC, key`, itemColumns, sv, cond, limit, where)
}

// browseCount is the statement counting a browse's matches, at most
// MaxMatches, and its arguments: an index-only scan of the places' range
// (the table's pages are read only where the visibility map has not
// caught up with recent pushes).
func (s *sqlQuery) browseCount(q Query) (string, []any) {
	var args []any
	cond := s.placesCond(q, func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) })
	return fmt.Sprintf("SELECT count(*) FROM (SELECT FROM supply_item_places WHERE %s LIMIT %d) c", cond, MaxMatches), args
}

// score is the expression of the index score (see Hit): the weights of
// the fields where any of the query's phrases matches, at least 1. Its arguments follow the conditions'.
func (s *sqlQuery) score(pl *plan) string {
	var all []string
	for _, phrases := range pl.concepts {
		all = append(all, phrases...)
	}
	var parts []string
	for _, f := range []struct {
		weight string
		w      int
	}{{"A", weightName}, {"B", weightCategory}, {"C", weightTags}, {"D", weightDescription}} {
		if tq := tsQuery(all, f.weight); tq != "" {
			parts = append(parts, fmt.Sprintf("CASE WHEN tsv @@ to_tsquery('english', %s) THEN %d ELSE 0 END", s.arg(tq), f.w))
		}
	}
	if len(parts) == 0 {
		return "1"
	}
	return "GREATEST(" + strings.Join(parts, " + ") + ", 1)"
}

func (s *sqlQuery) filters(q Query) {
	s.where = append(s.where, "NOT deleted")
	if len(q.Kinds) > 0 || len(q.Verticals) > 0 {
		s.kinded = true
		for _, k := range kindsOf(q) {
			s.kinds = append(s.kinds, string(k))
		}
		s.where = append(s.where, "kind = ANY("+s.arg(s.kinds)+")")
	}
	if q.City != "" {
		s.city = norm(q.City)
		s.where = append(s.where, "cities @> ARRAY["+s.arg(s.city)+"]")
	}
	if q.Category != "" {
		cat := norm(q.Category)
		s.category = cat
		s.where = append(s.where, "category_key = "+s.arg(cat))
		if s.city != "" && !s.browse && !s.walking {
			// The city's postings of the category (of the kinds asked),
			// from the city-qualified keys (migration 00003).
			terms := []string{"cat:" + cat}
			if len(q.Kinds) > 0 || len(q.Verticals) > 0 {
				terms = terms[:0]
				for _, k := range kindsOf(q) {
					terms = append(terms, "cat:"+cat+"@kind:"+string(k))
				}
			}
			s.keys = append(s.keys, cityKeysExpr+" && supply_city_terms("+s.arg(s.city)+", "+s.arg(terms)+")")
		}
	}
	if lo, hi, ok := priceRange(q); ok {
		s.where = append(s.where, "price BETWEEN "+s.arg(lo)+" AND "+s.arg(hi))
	}
	if s.browse {
		s.places = s.placesCond(q, s.arg)
	}
}

// sortValue is sortValue (query.go) in SQL: the same values, so both
// backends page alike.
func (s *sqlQuery) sortValue(q Query) string {
	const last = "'1.7976931348623157e308'::float8"
	switch q.Sort {
	case SortPriceAsc:
		return "CASE WHEN price > 0 THEN price::float8 ELSE " + last + " END"
	case SortPriceDesc:
		return "CASE WHEN price > 0 THEN -price::float8 ELSE " + last + " END"
	case SortRating:
		return "-rating"
	case SortDistance:
		lat, lon := s.arg(q.Near.Lat)+"::float8", s.arg(q.Near.Lon)+"::float8"
		return fmt.Sprintf("CASE WHEN lat IS NULL OR lon IS NULL THEN %s ELSE "+
			"2 * %v * asin(sqrt(power(sin(radians(lat - %s) / 2), 2) + cos(radians(%s)) * cos(radians(lat)) * power(sin(radians(lon - %s) / 2), 2))) END",
			last, earthKm, lat, lat, lon)
	}
	return "0::float8"
}

const itemColumns = `provider, kind, id, version, name, description, category, tags, city_names, lat, lon, price, currency,
    available, rating, updated_at`

// searchColumns are the columns a query's matches carry until its page is
// cut: what its conditions, score, sort, facets and cursor read. A fenced
// subquery (OFFSET 0) hands on every column it selects, and the matches
// are up to MaxCandidates rows: carrying the text and the rest of
// itemColumns through the scoring, the count and the sort took 1.6 of a
// warm 7.4 ms search in a city at 2·10^7 items (its count's window alone;
// 0.5 ms narrow); the page's rows are read in full afterwards, by primary
// key (pageItems).
const searchColumns = "provider, kind, id, deleted, vertical, category_key, cities, lat, lon, price, rating, key, tsv"

// pageItems are itemColumns of supply_items joined USING (provider, kind,
// id) to a page's rows, which hold a rating of their own.
var pageItems = func() string {
	var cols []string
	for _, c := range strings.Split(itemColumns, ",") {
		c = strings.TrimSpace(c)
		if c != "provider" && c != "kind" && c != "id" {
			c = "supply_items." + c
		}
		cols = append(cols, c)
	}
	return strings.Join(cols, ", ")
}()

// Search implements Index.
func (p *Postgres) Search(ctx context.Context, q Query) (Page, error) {
	q, err := checkQuery(q)
	if err != nil {
		return Page{}, err
	}
	c, err := decodeCursor(q)
	if err != nil {
		return Page{}, err
	}
	exact, typo := plans(q.Text)
	if exact == nil {
		return p.search(ctx, q, nil, 0, c)
	}
	if c != nil {
		if c.Pass == 1 {
			return p.searchTypos(ctx, q, typo, c)
		}
		return p.search(ctx, q, exact, 0, c)
	}
	page, err := p.search(ctx, q, exact, 0, nil)
	if err == nil && page.Total == 0 {
		return p.searchTypos(ctx, q, typo, nil)
	}
	return page, err
}

// searchTypos runs the typo pass: typo with its fuzzy terms expanded to
// the vocabulary's words one edit away (expand), searched as the exact
// pass is. A later page expands its terms again, to the same words unless
// words were added to the vocabulary since the first page: then a few
// more matches may appear on later pages, as when items are pushed.
func (p *Postgres) searchTypos(ctx context.Context, q Query, typo *plan, c *cursor) (Page, error) {
	pl, err := p.expand(ctx, typo)
	if err != nil {
		return Page{}, err
	}
	return p.search(ctx, q, pl, 1, c)
}

// search runs one pass: the page, the total and (when asked) the facets in
// one round trip.
func (p *Postgres) search(ctx context.Context, q Query, pl *plan, pass int, c *cursor) (Page, error) {
	s := sqlQuery{browse: browsable(pl, q)}
	s.filters(q)
	if pl != nil {
		s.text(pl)
	}
	where, whereArgs, from := strings.Join(s.where, " AND "), s.args, s.from()
	// counted: the page's rows carry Total (count over the candidates),
	// so the matches are read once, not once for the page and once more
	// for the count.
	counted := pl != nil && q.Sort == SortRelevance
	src, ps := from+" WHERE "+where, &s
	if counted {
		// The page walks the rank-tier keys: its own conditions and
		// arguments, without the city keys, which the count and the
		// facets read.
		if wsrc, w := walked(q, pl); w != nil {
			src, ps = wsrc, w
		}
	}
	score := "0"
	if counted {
		score = ps.score(pl)
	}
	matches := "SELECT *, " + score + " AS score, " + ps.sortValue(q) + " AS sv FROM " + src
	// The page's keys are cut from the matches (pageSQL, its order and
	// limit added below), then its items read whole (cut).
	pageSQL := "SELECT provider, kind, id, rating, key, score, sv FROM (" + matches + ") m"
	total := ""
	if counted {
		// The first stage of two-stage ranking: score at most
		// MaxCandidates of the matches the text index yields, so a
		// country-wide word reads a few hundred rows, not every match.
		pageSQL = "SELECT provider, kind, id, rating, key, score, sv, total FROM (SELECT *, count(*) OVER () AS total FROM (" +
			matches + fmt.Sprintf(" LIMIT %d) m0) m", MaxCandidates)
		total = ", p.total"
	}
	cut := func(order, outer string) string {
		return "SELECT " + pageItems + ", p.score, p.sv" + total + " FROM (" + pageSQL + " ORDER BY " + order +
			fmt.Sprintf(" LIMIT %d) p JOIN supply_items USING (provider, kind, id) ORDER BY ", q.First+1) + outer
	}
	pageArgs := append([]any(nil), ps.args...)
	n := len(pageArgs)
	countSQL := fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s LIMIT %d) c", from, where, MaxMatches)
	countArgs := whereArgs
	switch {
	case s.browse:
		// A browse in a city reads the items' places (migration 00008),
		// best rated first, never every match of the city.
		sv, after := "0::float8", ""
		if q.Sort == SortRating {
			sv = "-rating"
		}
		if c != nil {
			r := c.Rating
			if q.Sort == SortRating {
				r = -c.Value
			}
			after = fmt.Sprintf("(rating < $%d OR rating = $%d AND key > $%d)", n+1, n+1, n+2)
			pageArgs = append(pageArgs, r, c.Key)
		}
		pageSQL = s.browsePage(where, sv, after, q.First+1)
		countSQL, countArgs = s.browseCount(q)
	case q.Sort != SortRelevance:
		if c != nil {
			pageSQL += fmt.Sprintf(" WHERE (sv > $%d OR sv = $%d AND key > $%d)", n+1, n+1, n+2)
			pageArgs = append(pageArgs, c.Value, c.Key)
		}
		pageSQL = cut("sv, key", "p.sv, p.key")
	default:
		if c != nil {
			pageSQL += fmt.Sprintf(" WHERE (score < $%d OR score = $%d AND (rating < $%d OR rating = $%d AND key > $%d))", n+1, n+1, n+2, n+2, n+3)
			pageArgs = append(pageArgs, c.Score, c.Rating, c.Key)
		}
		pageSQL = cut("score DESC, rating DESC, key", "p.score DESC, p.rating DESC, p.key")
	}

	var batch pgx.Batch
	// Plan every statement for its own values: a statement's text is the
	// same for every city and word, so after five runs PostgreSQL may
	// switch to a generic plan, which cannot know that a city and a rare
	// specialty match a few hundred rows and walks the country instead
	// (1.3–1.9 s for "Traditional Chinese Medicine" in a city at 2·10^6
	// items, against 27 ms planned for the values). Local to the batch's
	// implicit transaction.
	//
	// No JIT and no parallel workers: a search reads a few hundred rows,
	// and many conditions (a typo's expansions) raise its estimated cost
	// past jit_above_cost, where compiling took 2 s of a 4.4 s search
	// ("dumplngs" in Shanghai at 2·10^6 items, loaded machine, when typos
	// read trigram keys); workers only add start-up to reading a few
	// hundred rows.
	batch.Queue(`SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true),
    set_config('max_parallel_workers_per_gather', '0', true)`)
	batch.Queue(pageSQL, pageArgs...)
	if !counted {
		batch.Queue(countSQL, countArgs...)
	}
	if q.Facets {
		batch.Queue(`SELECT f, v, count(*) FROM (SELECT vertical, kind, category_key, provider FROM `+from+` WHERE `+where+`) m,
            LATERAL (VALUES ('vertical', vertical), ('kind', kind), ('category', category_key), ('provider', provider)) AS x(f, v)
            GROUP BY f, v`, whereArgs...)
		batch.Queue(`SELECT 'city', city, count(*) FROM `+from+`, unnest(cities) AS city WHERE `+where+` GROUP BY city`, whereArgs...)
	}
	br := p.pool.SendBatch(ctx, &batch)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return Page{}, p.fail(ctx, err)
	}
	rows, err := br.Query()
	if err != nil {
		return Page{}, p.fail(ctx, err)
	}
	var page Page
	var extra []any
	if counted {
		extra = []any{&page.Total}
	}
	hits, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Hit, error) { return scanHit(row, extra...) })
	if err != nil {
		return Page{}, p.fail(ctx, err)
	}
	if len(hits) > q.First {
		hits = hits[:q.First]
		last := hits[len(hits)-1]
		page.NextCursor = nextCursor(q, pass, &last)
	}
	page.Hits = hits
	switch {
	case !counted:
		if err := br.QueryRow().Scan(&page.Total); err != nil {
			return Page{}, p.fail(ctx, err)
		}
	case len(hits) == 0 && c != nil:
		// Past the last candidate (items deleted since the previous
		// page): the page's rows carried no total.
		if err := p.pool.QueryRow(ctx, countSQL, whereArgs...).Scan(&page.Total); err != nil {
			return Page{}, p.fail(ctx, err)
		}
	}
	if q.Facets {
		counts := map[string]map[string]int{"vertical": {}, "kind": {}, "category": {}, "provider": {}, "city": {}}
		for range 2 {
			rows, err := br.Query()
			if err != nil {
				return Page{}, p.fail(ctx, err)
			}
			var f, v string
			var n int
			if _, err := pgx.ForEachRow(rows, []any{&f, &v, &n}, func() error { counts[f][v] = n; return nil }); err != nil {
				return Page{}, p.fail(ctx, err)
			}
		}
		page.Facets = Facets{Verticals: facetList(counts["vertical"]), Kinds: facetList(counts["kind"]), Cities: facetList(counts["city"]),
			Categories: facetList(counts["category"]), Providers: facetList(counts["provider"])}
	}
	return page, nil
}

// scanHit scans a page's row; extra receives the columns after sv.
func scanHit(row pgx.CollectableRow, extra ...any) (Hit, error) {
	var h Hit
	it := &h.Item
	var kind string
	var lat, lon *float64
	var updated *time.Time
	err := row.Scan(append([]any{&it.Provider, &kind, &it.ID, &it.Version, &it.Name, &it.Description, &it.Category, &it.Tags,
		&it.Cities, &lat, &lon, &it.Price, &it.Currency, &it.Available, &it.Rating, &updated, &h.Score, &h.sortKey}, extra...)...)
	it.Kind = Kind(kind)
	if lat != nil && lon != nil {
		it.Geo = &Geo{Lat: *lat, Lon: *lon}
	}
	if updated != nil {
		it.UpdatedAt = *updated
	}
	if len(it.Tags) == 0 {
		it.Tags = nil
	}
	return h, err
}

// ErrUnavailable wraps a failure of the index's database: callers answer
// UNAVAILABLE, not "internal error".
var ErrUnavailable = errors.New("supply index unavailable")

func (p *Postgres) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("supply: search: %w", ctx.Err())
	}
	return fmt.Errorf("supply: search: %w: %w", ErrUnavailable, err)
}
