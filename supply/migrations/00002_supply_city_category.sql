-- +goose Up
-- btree_gin lets a GIN index hold scalar columns next to the city array.
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- Browsing a category in a city (no text): the city, the category and the
-- kind are columns of one GIN index, so PostgreSQL intersects them inside
-- the index and reads only the matching rows, instead of walking the
-- country's rating order (supply_items_browse) or the whole city's rows.
-- Additive: the previous release's queries and indexes are unchanged.
CREATE INDEX supply_items_city_category ON supply_items USING gin (cities, category_key, kind) WHERE NOT deleted;

-- +goose Down
DROP INDEX supply_items_city_category;
