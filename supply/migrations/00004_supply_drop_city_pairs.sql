-- +goose Up
-- The GIN indexes pairing the city with the words, the trigrams and the
-- category (00001, 00002) read a country's posting list for a city's
-- query; this release reads the city-qualified keys of 00003 instead and
-- no longer reads them. Dropped, since each costs every push an update
-- and a first load of 2·10^7 items many minutes. An instance of the
-- previous release still answers the same (its conditions are unchanged),
-- but its queries in a city lose these indexes: at scale they are slow
-- until it is replaced.
DROP INDEX IF EXISTS supply_items_city_text;
DROP INDEX IF EXISTS supply_items_city_trgm;
DROP INDEX IF EXISTS supply_items_city_category;

-- +goose Down
CREATE INDEX supply_items_city_text ON supply_items USING gin (cities, tsv) WHERE NOT deleted;
CREATE INDEX supply_items_city_trgm ON supply_items USING gin (cities, doc gin_trgm_ops) WHERE NOT deleted;
CREATE INDEX supply_items_city_category ON supply_items USING gin (cities, category_key, kind) WHERE NOT deleted;
