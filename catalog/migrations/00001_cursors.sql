-- +goose Up
-- Where the gateway's pull of each provider's catalogue resumes: the
-- provider's own cursor, as its last page returned it. One row per
-- provider that has been pulled.
CREATE TABLE catalog_cursors (
    provider   text PRIMARY KEY,
    cursor     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE catalog_cursors;
