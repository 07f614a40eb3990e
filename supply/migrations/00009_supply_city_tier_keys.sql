-- +goose Up
-- City-qualified rank-tier keys: a text query in a city read its words'
-- city keys (00003) and scored the first MaxCandidates rows they yielded,
-- in their order on disk. At 2·10^7 items a common word in a big city
-- matches several thousand rows: the candidates were whichever the disk
-- gave first, not the best placed, and the query fetched them scattered
-- over the heap (p50 33 ms, p99 148 ms for text in a city, the slowest
-- class). These keys cut the city keys by the item's tier group, as 00005
-- cuts the country's, so the query walks its words' city postings best
-- placed first, group by group, and stops once it holds MaxCandidates:
-- the same candidates a query without a city gets, in the same order,
-- restricted to the city.
--
-- A key is the 32-bit hashtext of 'group@city@lexeme' (or
-- 'group@city@cat:category'); two keys may share a hash, which only adds
-- candidates, since a query keeps its own conditions.
--
-- Additive: the city keys of 00003 stay, for the facets, the counts and
-- the sorts other than relevance, which read every match of the city.

-- An item's keys: for each of its cities, every lexeme of its tsv and its
-- category ('cat:dairy'), in its tier's group.
-- +goose StatementBegin
CREATE FUNCTION supply_city_tier_keys(cities text[], rating double precision, key text, tsv tsvector, category_key text) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY(SELECT hashtext(supply_tier_group(supply_tier(rating, key)) || '@' || c || '@' || t)
    FROM unnest(cities) AS c, unnest(tsvector_to_array(tsv) || ARRAY['cat:' || category_key]) AS t);
-- +goose StatementEnd

-- A query's keys for words in city and group g: the lexemes to_tsvector
-- makes of them; NULL when they are all stop words (see
-- supply_city_words).
-- +goose StatementBegin
CREATE FUNCTION supply_city_tier_words(g int, city text, words text) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN NULLIF(ARRAY(SELECT hashtext(g || '@' || city || '@' || t)
    FROM unnest(tsvector_to_array(to_tsvector('english'::regconfig, words))) AS t), '{}');
-- +goose StatementEnd

-- A query's keys for terms (a category key) in city and group g.
-- +goose StatementBegin
CREATE FUNCTION supply_city_tier_terms(g int, city text, terms text[]) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY(SELECT hashtext(g || '@' || city || '@' || t) FROM unnest(terms) AS t);
-- +goose StatementEnd

CREATE INDEX supply_items_city_tier_keys ON supply_items USING gin (supply_city_tier_keys(cities, rating, key, tsv, category_key)) WHERE NOT deleted;

-- +goose Down
DROP INDEX supply_items_city_tier_keys;
DROP FUNCTION supply_city_tier_terms(int, text, text[]);
DROP FUNCTION supply_city_tier_words(int, text, text);
DROP FUNCTION supply_city_tier_keys(text[], double precision, text, tsvector, text);
