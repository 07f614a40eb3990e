-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One row per item a provider published; a delete keeps the row as a
-- tombstone (deleted, fields cleared) so that its version still orders
-- later pushes. Every search index is partial (NOT deleted).
CREATE TABLE supply_items (
    provider     text NOT NULL,
    kind         text NOT NULL,
    id           text NOT NULL,
    version      bigint NOT NULL,
    deleted      boolean NOT NULL DEFAULT false,
    vertical     text NOT NULL DEFAULT '',
    name         text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    category     text NOT NULL DEFAULT '',
    category_key text NOT NULL DEFAULT '',   -- lower-cased category: filters and facets
    tags         text[] NOT NULL DEFAULT '{}',
    tags_text    text NOT NULL DEFAULT '',
    city_names   text[] NOT NULL DEFAULT '{}', -- as published
    cities       text[] NOT NULL DEFAULT '{}', -- lower-cased: filters and facets
    lat          double precision,
    lon          double precision,
    price        bigint NOT NULL DEFAULT 0,
    currency     text NOT NULL DEFAULT '',
    available    boolean NOT NULL DEFAULT false,
    rating       double precision NOT NULL DEFAULT 0,
    updated_at   timestamptz,
    key          text COLLATE "C" NOT NULL,  -- provider/kind/id: the order's last tie-break, in byte order
    doc          text NOT NULL DEFAULT '',   -- every searchable word, for trigram typo matching
    tsv          tsvector GENERATED ALWAYS AS (
                     setweight(to_tsvector('english'::regconfig, name), 'A') ||
                     setweight(to_tsvector('english'::regconfig, category), 'B') ||
                     setweight(to_tsvector('english'::regconfig, tags_text), 'C') ||
                     setweight(to_tsvector('english'::regconfig, description), 'D')) STORED,
    PRIMARY KEY (provider, kind, id)
);

-- A query that names a city reads that city's posting lists only: the city
-- and the words (or trigrams) are columns of one GIN index, so PostgreSQL
-- intersects them inside the index instead of filtering the country's
-- matches.
CREATE INDEX supply_items_city_text ON supply_items USING gin (cities, tsv) WHERE NOT deleted;
CREATE INDEX supply_items_city_trgm ON supply_items USING gin (cities, doc gin_trgm_ops) WHERE NOT deleted;
-- Queries without a city.
CREATE INDEX supply_items_text ON supply_items USING gin (tsv) WHERE NOT deleted;
CREATE INDEX supply_items_trgm ON supply_items USING gin (doc gin_trgm_ops) WHERE NOT deleted;
-- Browsing without text, best rated first.
CREATE INDEX supply_items_browse ON supply_items (rating DESC, key) WHERE NOT deleted;

-- +goose Down
DROP TABLE supply_items;
