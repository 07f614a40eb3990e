-- Merchant growth: the rewards ledger (double entry, integer minor units,
-- immutable postings), providers' API keys, service levels and loans.
-- Additive, so instances of the previous release keep running against it
-- during a rolling upgrade.

-- +goose Up
-- One entry per causing event: `key` is the event's identity (an order's
-- completion, a loan's disbursement), unique, so an event is posted once
-- however often it is delivered. Entries and postings are never updated
-- or deleted; a correction is a new entry (`reverses` names the one it
-- undoes).
CREATE TABLE ledger_entries (
    id        bigserial PRIMARY KEY,
    key       text NOT NULL UNIQUE,
    kind      text NOT NULL,
    provider  text NOT NULL,
    currency  text NOT NULL,
    reverses  text NOT NULL DEFAULT '',
    memo      text NOT NULL DEFAULT '',
    actor     text NOT NULL DEFAULT '',
    at        timestamptz NOT NULL
);
CREATE INDEX ledger_entries_provider ON ledger_entries (provider, id);
CREATE INDEX ledger_entries_reverses ON ledger_entries (reverses) WHERE reverses <> '';

-- Amounts are signed minor units: debits positive, credits negative; the
-- postings of an entry sum to zero (checked by the ledger before insert).
CREATE TABLE ledger_postings (
    entry_id  bigint NOT NULL REFERENCES ledger_entries (id),
    account   text NOT NULL,
    currency  text NOT NULL,
    amount    bigint NOT NULL CHECK (amount <> 0)
);
CREATE INDEX ledger_postings_entry ON ledger_postings (entry_id);

-- Running balance per account, updated in the entry's transaction, so a
-- balance read costs one row whatever the history.
CREATE TABLE ledger_balances (
    account   text NOT NULL,
    currency  text NOT NULL,
    balance   bigint NOT NULL,
    PRIMARY KEY (account, currency)
);

-- Providers' API keys: only the SHA-256 of a key is stored.
CREATE TABLE provider_api_keys (
    id          text PRIMARY KEY,
    provider_id text NOT NULL,
    hash        bytea NOT NULL UNIQUE,
    label       text NOT NULL DEFAULT '',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    revoked_by  text NOT NULL DEFAULT ''
);
CREATE INDEX provider_api_keys_provider ON provider_api_keys (provider_id);

-- +goose Down
DROP TABLE provider_api_keys;
DROP TABLE ledger_balances;
DROP TABLE ledger_postings;
DROP TABLE ledger_entries;
