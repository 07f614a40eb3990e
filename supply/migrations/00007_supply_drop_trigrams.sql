-- +goose Up
-- The trigram GIN indexes, the country's (00001) and the city-qualified
-- one (00003), served the typo pass's pg_trgm match (phrase <% doc); this
-- release expands a typo to the vocabulary's words (00006) instead and no
-- longer reads them. Dropped, since each costs every push an update and
-- a first load of 2·10^7 items the longest builds (the city-trigram index
-- 95 minutes). An instance of the previous release still answers the same
-- (its conditions are unchanged), but its typo pass loses these indexes:
-- at scale it is slow until that instance is replaced. The doc column
-- (the vocabulary's source) and 00003's functions stay.
DROP INDEX IF EXISTS supply_items_trgm;
DROP INDEX IF EXISTS supply_items_city_trigrams;

-- +goose Down
CREATE INDEX supply_items_trgm ON supply_items USING gin (doc gin_trgm_ops) WHERE NOT deleted;
CREATE INDEX supply_items_city_trigrams ON supply_items USING gin (supply_city_trigrams(cities, doc)) WHERE NOT deleted;
