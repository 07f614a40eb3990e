-- Changes of a provider other than lifecycle moves: its cities, its limits,
-- its signing secret. A secret is never written here, only fingerprints (a
-- keyed hash, see directory/secret.go). Additive, so instances of the
-- previous release keep running against it during a rolling upgrade (their
-- changes are simply not recorded here).

-- +goose Up
CREATE TABLE provider_changes (
    id          bigserial PRIMARY KEY,
    provider_id text NOT NULL REFERENCES providers (id),
    what        text NOT NULL CHECK (what IN ('CITIES', 'LIMITS', 'SECRET')),
    from_value  text NOT NULL,
    to_value    text NOT NULL,
    actor       text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now(),
    version     bigint NOT NULL
);
CREATE INDEX provider_changes_provider ON provider_changes (provider_id, version);

-- +goose Down
DROP TABLE provider_changes;
