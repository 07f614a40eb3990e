-- The provider directory. Every mutation takes the next version from
-- directory_version (a single row, so concurrent writers queue on its lock and
-- versions commit in order, without gaps), writes one directory_changes row
-- with it and NOTIFYs plaza_directory; followers catch up by version.

-- +goose Up
CREATE TABLE directory_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint  NOT NULL
);
INSERT INTO directory_version (singleton, version) VALUES (true, 0);

CREATE TABLE providers (
    id                    text PRIMARY KEY,
    vertical              text NOT NULL CHECK (vertical IN ('GROCERY', 'MEDICAL', 'LEGAL', 'PUBLIC_SERVICE')),
    name                  text NOT NULL,
    description           text NOT NULL DEFAULT '',
    cities                text[] NOT NULL,
    endpoint              text NOT NULL DEFAULT '',
    sandbox_endpoint      text NOT NULL DEFAULT '',
    contact_email         text NOT NULL DEFAULT '',
    rating                real NOT NULL DEFAULT 0,
    timeout_ms            integer NOT NULL DEFAULT 0,
    max_concurrent        integer NOT NULL DEFAULT 0,
    max_batch             integer NOT NULL DEFAULT 0,
    max_items             integer NOT NULL DEFAULT 0,
    pushes_per_minute     integer NOT NULL DEFAULT 0,
    -- GraphQL type name -> TTL in milliseconds.
    cache_ttl_ms          jsonb NOT NULL DEFAULT '{}',
    lifecycle             text NOT NULL CHECK (lifecycle IN ('PENDING', 'CERTIFIED', 'ACTIVE', 'SUSPENDED', 'RETIRED')),
    -- AES-GCM ciphertexts (see directory/secret.go); the previous secret keeps
    -- verifying until previous_secret_until, so a rotation has an overlap.
    secret                bytea,
    previous_secret       bytea,
    previous_secret_until timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    version               bigint NOT NULL
);

CREATE TABLE provider_lifecycle_history (
    id          bigserial PRIMARY KEY,
    provider_id text NOT NULL REFERENCES providers (id),
    from_state  text NOT NULL,
    to_state    text NOT NULL,
    actor       text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now(),
    version     bigint NOT NULL
);
CREATE INDEX provider_lifecycle_history_provider ON provider_lifecycle_history (provider_id, id);

CREATE TABLE certification_runs (
    id          bigserial PRIMARY KEY,
    provider_id text NOT NULL REFERENCES providers (id),
    outcome     text NOT NULL CHECK (outcome IN ('RUNNING', 'PASSED', 'FAILED')),
    sandbox     boolean NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz
);
CREATE INDEX certification_runs_provider ON certification_runs (provider_id, id);

CREATE TABLE certification_checks (
    run_id  bigint NOT NULL REFERENCES certification_runs (id) ON DELETE CASCADE,
    seq     integer NOT NULL,
    name    text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('PASSED', 'FAILED', 'SKIPPED')),
    message text NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, seq)
);

-- Codes are stored as SHA-256 hashes: the table never holds a usable code.
CREATE TABLE onboarding_codes (
    code_hash   bytea PRIMARY KEY,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    provider_id text
);

-- One row per version. provider_id is NULL for a bulk change (generate,
-- import), after which followers reload the whole snapshot.
CREATE TABLE directory_changes (
    version     bigint PRIMARY KEY,
    provider_id text,
    kind        text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE directory_changes;
DROP TABLE onboarding_codes;
DROP TABLE certification_checks;
DROP TABLE certification_runs;
DROP TABLE provider_lifecycle_history;
DROP TABLE providers;
DROP TABLE directory_version;
