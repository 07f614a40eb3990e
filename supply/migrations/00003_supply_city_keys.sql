-- +goose Up
-- City-qualified keys: a GIN index over (cities, tsv) keeps one posting
-- list per city and one per word, so "milk in Hangzhou" read the country's
-- "milk" list and intersected it with Hangzhou's, and both lists grow with
-- the country (p50 146 ms, p99 766 ms at 2·10^7 items). These indexes key
-- every posting by the city and the word together, so that query reads the
-- list of key "hangzhou@milk" only: as long as Hangzhou's milk, whatever
-- the size of the country.
--
-- A key is the 32-bit hashtext of 'city@term': a fixed-width integer keeps
-- the GIN entries small and their build's comparisons cheap (text keys
-- compare under the collation). Two keys may share a hash; that only adds
-- candidates, since a query keeps its own conditions (tsv @@, cities @>,
-- <% doc, category_key =) and these keys only narrow the rows it checks.
--
-- Additive: the previous release's queries read the indexes of 00001 and
-- 00002, which stay for it (a later migration may drop
-- supply_items_city_text, supply_items_city_trgm and
-- supply_items_city_category, which this release no longer reads).

-- An item's keys: for each of its cities, every lexeme of its tsv, its
-- category ('cat:dairy') and its category with its kind
-- ('cat:dairy@kind:product').
-- +goose StatementBegin
CREATE FUNCTION supply_city_keys(cities text[], tsv tsvector, category_key text, kind text) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY(SELECT hashtext(c || '@' || t) FROM unnest(cities) AS c,
    unnest(tsvector_to_array(tsv) || ARRAY['cat:' || category_key, 'cat:' || category_key || '@kind:' || kind]) AS t);
-- +goose StatementEnd

-- An item's trigram keys: for each of its cities, every trigram of doc
-- (pg_trgm's own, show_trgm).
-- +goose StatementBegin
CREATE FUNCTION supply_city_trigrams(cities text[], doc text) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY(SELECT hashtext(c || '@' || t) FROM unnest(cities) AS c, unnest(show_trgm(doc)) AS t);
-- +goose StatementEnd

-- A query's keys: terms in city (a category key, trigrams).
-- +goose StatementBegin
CREATE FUNCTION supply_city_terms(city text, terms text[]) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY(SELECT hashtext(city || '@' || t) FROM unnest(terms) AS t);
-- +goose StatementEnd

-- A query's keys for words: the lexemes to_tsvector makes of them (what
-- to_tsquery makes of them too) in city; NULL when they are all stop words,
-- which to_tsquery drops, so the condition matches nothing, as the
-- query's own tsv @@ does.
-- +goose StatementBegin
CREATE FUNCTION supply_city_words(city text, words text) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN NULLIF(ARRAY(SELECT hashtext(city || '@' || t)
    FROM unnest(tsvector_to_array(to_tsvector('english'::regconfig, words))) AS t), '{}');
-- +goose StatementEnd

CREATE INDEX supply_items_city_keys ON supply_items USING gin (supply_city_keys(cities, tsv, category_key, kind)) WHERE NOT deleted;
CREATE INDEX supply_items_city_trigrams ON supply_items USING gin (supply_city_trigrams(cities, doc)) WHERE NOT deleted;

-- +goose Down
DROP INDEX supply_items_city_trigrams;
DROP INDEX supply_items_city_keys;
DROP FUNCTION supply_city_words(text, text);
DROP FUNCTION supply_city_terms(text, text[]);
DROP FUNCTION supply_city_trigrams(text[], text);
DROP FUNCTION supply_city_keys(text[], tsvector, text, text);
