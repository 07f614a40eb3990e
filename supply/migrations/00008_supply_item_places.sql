-- +goose Up
-- Places: a browse in a city (no text: a category in the city, "Popular
-- near you") wants the city's matches best rated first, and their count.
-- Through the city-qualified keys of 00003 it read every match of the
-- city's category, one heap page per row, to sort them by rating and count
-- them: 8,885 rows from 7,323 pages for psychiatry in Hangzhou at 2·10^7
-- items (1.4 s), a list that grows with the country.
--
-- An item's places are one row per city it serves, with what a browse
-- filters and orders on, in two b-trees in the browse's order (rating
-- DESC, key): a page is the first rows of one index range, and a count an
-- index-only scan of at most MaxMatches entries; neither reads more than a
-- page of items, whatever the size of the country.
--
-- A trigger keeps the places with their item in the same transaction
-- (upserts, tombstones, deletes), so every writer keeps them; a bulk load
-- disables it and fills them in one statement after its copy.
--
-- Additive: the previous release reads the indexes of 00001, 00003 and
-- 00005, unchanged; it pays the trigger on every push that changes what a
-- browse reads.
CREATE TABLE supply_item_places (
    city         text NOT NULL,               -- one of the item's cities, lower-cased
    category_key text NOT NULL,
    kind         text NOT NULL,
    rating       double precision NOT NULL,
    price        bigint NOT NULL,
    provider     text NOT NULL,
    id           text NOT NULL,
    key          text COLLATE "C" NOT NULL    -- provider/kind/id, the order's last tie-break
);
-- A category in a city (of some kinds, in a price range): one range.
CREATE INDEX supply_item_places_category ON supply_item_places (city, category_key, rating DESC, key)
    INCLUDE (kind, price, provider, id);
-- A city (of some kinds), and the trigger's deletes (city, rating, key).
CREATE INDEX supply_item_places_city ON supply_item_places (city, rating DESC, key)
    INCLUDE (kind, category_key, price, provider, id);

-- +goose StatementBegin
CREATE FUNCTION supply_item_places_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND NOT OLD.deleted THEN
        DELETE FROM supply_item_places WHERE city = ANY(OLD.cities) AND rating = OLD.rating AND key = OLD.key;
    END IF;
    IF TG_OP <> 'DELETE' AND NOT NEW.deleted THEN
        INSERT INTO supply_item_places (city, category_key, kind, rating, price, provider, id, key)
        SELECT DISTINCT c, NEW.category_key, NEW.kind, NEW.rating, NEW.price, NEW.provider, NEW.id, NEW.key
        FROM unnest(NEW.cities) AS c;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER supply_item_places_insert AFTER INSERT ON supply_items
    FOR EACH ROW EXECUTE FUNCTION supply_item_places_sync();
-- Only an update that changes what a browse reads.
CREATE TRIGGER supply_item_places_update AFTER UPDATE ON supply_items
    FOR EACH ROW WHEN (OLD.deleted IS DISTINCT FROM NEW.deleted OR OLD.cities IS DISTINCT FROM NEW.cities
        OR OLD.category_key IS DISTINCT FROM NEW.category_key OR OLD.kind IS DISTINCT FROM NEW.kind
        OR OLD.rating IS DISTINCT FROM NEW.rating OR OLD.price IS DISTINCT FROM NEW.price)
    EXECUTE FUNCTION supply_item_places_sync();
CREATE TRIGGER supply_item_places_delete AFTER DELETE ON supply_items
    FOR EACH ROW EXECUTE FUNCTION supply_item_places_sync();

-- The places of the items indexed before this release.
INSERT INTO supply_item_places (city, category_key, kind, rating, price, provider, id, key)
SELECT DISTINCT c, category_key, kind, rating, price, provider, id, key
FROM supply_items, unnest(cities) AS c WHERE NOT deleted;

-- +goose Down
DROP TRIGGER supply_item_places_delete ON supply_items;
DROP TRIGGER supply_item_places_update ON supply_items;
DROP TRIGGER supply_item_places_insert ON supply_items;
DROP FUNCTION supply_item_places_sync();
DROP TABLE supply_item_places;
