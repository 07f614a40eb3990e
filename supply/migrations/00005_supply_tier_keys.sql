-- +goose Up
-- Rank-tier keys: a query without a city read each word's posting list of
-- the whole country (millions of rows at 2·10^7 items: "milk" across the
-- country, p50 204 ms, p99 743 ms) and scored the first MaxCandidates
-- rows the list yielded. These keys cut every word's list by the item's
-- place in a static order, best rated first, so such a query reads the
-- best-placed slices of its words' lists until it holds MaxCandidates
-- matches: a few thousand rows whatever the size of the country.
--
-- The order is supply_tier(rating, key) ascending: the rating's tenth of
-- a star, best first (band 0 is 5.0, band 50 is 0.0), then one of 64
-- buckets of a hash of the item's key, which splits a band's ties (a
-- country's items share a few dozen ratings). A query walks the groups of
-- that order (supply_tier_group): group 0 is tier 0, then groups that end
-- at the powers of √2 (rounded: tiers 1, 2, 3, 4-5, 6-7, 8-10, 11-15, …),
-- so the tiers read grow by about √2 a group: a walk takes at most 24
-- index probes for a rare word and reads about 1.2 times the rows it
-- keeps for a common one (at most √2 times, plus a group's rounding);
-- doubling groups (13 probes) read 1.5 times as many on average.
--
-- A key is the 32-bit hashtext of 'group@lexeme' (or 'group@cat:category'),
-- as for the city-qualified keys of 00003: two keys may share a hash,
-- which only adds candidates, since a query keeps its own conditions.
--
-- Additive: the previous release's queries read the indexes of 00001 and
-- 00003, unchanged; it pays this index's upkeep on every push.

-- An item's tier: its place in the order above, 0 to 3263.
-- +goose StatementBegin
CREATE FUNCTION supply_tier(rating double precision, key text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (50 - floor(least(greatest(rating, 0), 5) * 10)::int) * 64 + (hashtext(key) & 63);
-- +goose StatementEnd

-- A tier's group, 0 to 23: how many of the rounded powers of √2 it reaches.
-- +goose StatementBegin
CREATE FUNCTION supply_tier_group(tier int) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN width_bucket(tier, ARRAY[1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512, 724, 1024, 1448, 2048, 2896]);
-- +goose StatementEnd

-- An item's keys: every lexeme of its tsv and its category ('cat:dairy'),
-- in its tier's group.
-- +goose StatementBegin
CREATE FUNCTION supply_tier_keys(rating double precision, key text, tsv tsvector, category_key text) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY(SELECT hashtext(supply_tier_group(supply_tier(rating, key)) || '@' || t)
    FROM unnest(tsvector_to_array(tsv) || ARRAY['cat:' || category_key]) AS t);
-- +goose StatementEnd

-- A query's keys for words in group g: the lexemes to_tsvector makes of
-- them; NULL when they are all stop words (see supply_city_words).
-- +goose StatementBegin
CREATE FUNCTION supply_tier_words(g int, words text) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN NULLIF(ARRAY(SELECT hashtext(g || '@' || t)
    FROM unnest(tsvector_to_array(to_tsvector('english'::regconfig, words))) AS t), '{}');
-- +goose StatementEnd

-- A query's keys for terms (a category key) in group g.
-- +goose StatementBegin
CREATE FUNCTION supply_tier_terms(g int, terms text[]) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY(SELECT hashtext(g || '@' || t) FROM unnest(terms) AS t);
-- +goose StatementEnd

CREATE INDEX supply_items_tier_keys ON supply_items USING gin (supply_tier_keys(rating, key, tsv, category_key)) WHERE NOT deleted;

-- +goose Down
DROP INDEX supply_items_tier_keys;
DROP FUNCTION supply_tier_terms(int, text[]);
DROP FUNCTION supply_tier_words(int, text);
DROP FUNCTION supply_tier_keys(double precision, text, tsvector, text);
DROP FUNCTION supply_tier_group(int);
DROP FUNCTION supply_tier(double precision, text);
