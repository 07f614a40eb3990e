-- +goose Up
-- Browsing keys: a browse in a city (no text: a category in the city,
-- "Popular near you") wants the city's matches best rated first, and its
-- count. Through the city-qualified keys of 00003 it read every match of
-- the city's category, one heap page per row, to sort them by rating and
-- count them: 8,885 rows from 7,323 pages for psychiatry in Hangzhou at
-- 2·10^7 items (1.4 s), a list that grows with the country.
--
-- These keys cut the city's list by the item's rating band, a tenth of a
-- star (band 0 is 5.0, band 50 is 0.0): a browse reads the bands best
-- first, each band's few rows sorted by rating and key, and stops once it
-- holds its page (first + 1 rows), so it reads about a page of rows
-- whatever the size of the country. The order is exactly (rating DESC,
-- key): every row of a band is rated above every row of a later band.
--
-- Its count reads the same keys over every band: a key names the city,
-- the band and what is browsed (the kind, the category, both or neither),
-- so their overlap is the browse's matches, and the count stops at
-- MaxMatches of them. The keys are 64-bit hashes (hashtextextended): two
-- keys share one with odds of about one in 10^13 per browse, and a query
-- keeps its own conditions anyway.
--
-- Additive: the previous release reads the indexes of 00001, 00003 and
-- 00005, unchanged; it pays this index's upkeep on every push.

-- An item's rating band: 0 (5.0) to 50 (0.0 and below).
-- +goose StatementBegin
CREATE FUNCTION supply_rating_band(rating double precision) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 50 - floor(least(greatest(rating, 0), 5) * 10)::int;
-- +goose StatementEnd

-- An item's browsing keys: for each of its cities, in its band, the city
-- alone, its kind, its category, and its category with its kind.
-- +goose StatementBegin
CREATE FUNCTION supply_city_browse_keys(cities text[], rating double precision, category_key text, kind text) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY(SELECT hashtextextended(c || '@' || supply_rating_band(rating) || '@' || t, 0) FROM unnest(cities) AS c,
    unnest(ARRAY['', 'kind:' || kind, 'cat:' || category_key, 'cat:' || category_key || '@kind:' || kind]) AS t);
-- +goose StatementEnd

-- A browse's keys in city, in the bands from lo to hi: terms are
-- what it browses, as the item's keys write them ('', 'kind:product',
-- 'cat:dairy', 'cat:dairy@kind:product').
-- +goose StatementBegin
CREATE FUNCTION supply_city_browse_terms(city text, lo int, hi int, terms text[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY(SELECT hashtextextended(city || '@' || b || '@' || t, 0) FROM generate_series(lo, hi) AS b, unnest(terms) AS t);
-- +goose StatementEnd

CREATE INDEX supply_items_city_browse_keys ON supply_items
    USING gin (supply_city_browse_keys(cities, rating, category_key, kind)) WHERE NOT deleted;

-- +goose Down
DROP INDEX supply_items_city_browse_keys;
DROP FUNCTION supply_city_browse_terms(text, int, int, text[]);
DROP FUNCTION supply_city_browse_keys(text[], double precision, text, text);
DROP FUNCTION supply_rating_band(double precision);
