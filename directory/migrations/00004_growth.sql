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

-- Order and booking records as providers' status webhooks and the
-- gateway's own mutations report them: the source of rewards, GMV and
-- cancellation rates (never analytics events, which may be dropped).
CREATE TABLE growth_orders (
    provider     text NOT NULL,
    order_id     text NOT NULL,
    user_id      text NOT NULL DEFAULT '',
    city         text NOT NULL DEFAULT '',
    currency     text NOT NULL,
    amount       bigint NOT NULL,
    status       text NOT NULL,
    completed_at timestamptz,
    cancelled_at timestamptz,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (provider, order_id)
);
CREATE INDEX growth_orders_completed ON growth_orders (provider, completed_at);

-- Maker-checker: a request one operator makes and another decides.
CREATE TABLE growth_approvals (
    id          text PRIMARY KEY,
    kind        text NOT NULL,
    provider    text NOT NULL,
    currency    text NOT NULL DEFAULT '',
    amount      bigint NOT NULL DEFAULT 0,
    reason      text NOT NULL,
    maker       text NOT NULL,
    checker     text NOT NULL DEFAULT '',
    status      text NOT NULL,
    created_at  timestamptz NOT NULL,
    decided_at  timestamptz
);
CREATE INDEX growth_approvals_provider ON growth_approvals (provider, created_at);

-- Service levels: per-provider counters by minute, aggregated here by
-- every instance, read by the one job that holds the lock.
CREATE TABLE growth_sl_counters (
    provider   text NOT NULL,
    minute     timestamptz NOT NULL,
    calls      bigint NOT NULL DEFAULT 0,
    errors     bigint NOT NULL DEFAULT 0,
    slow       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, minute)
);
CREATE TABLE growth_sl_state (
    provider   text PRIMARY KEY,
    state      text NOT NULL,
    since      timestamptz NOT NULL
);
CREATE TABLE growth_sl_transitions (
    id         bigserial PRIMARY KEY,
    provider   text NOT NULL,
    from_state text NOT NULL,
    to_state   text NOT NULL,
    reason     text NOT NULL,
    at         timestamptz NOT NULL
);
CREATE INDEX growth_sl_transitions_provider ON growth_sl_transitions (provider, id);

-- Loan applications; one open per provider (the partial unique index).
CREATE TABLE growth_loans (
    id              text PRIMARY KEY,
    provider        text NOT NULL,
    idempotency_key text NOT NULL,
    currency        text NOT NULL,
    principal       bigint NOT NULL,
    fee             bigint NOT NULL,
    term_days       int NOT NULL,
    share_percent   int NOT NULL,
    minimum_daily   bigint NOT NULL,
    status          text NOT NULL,
    consent         text NOT NULL,
    created_at      timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    UNIQUE (provider, idempotency_key)
);
CREATE UNIQUE INDEX growth_loans_one_open ON growth_loans (provider) WHERE status = 'OPEN';

-- +goose Down
DROP TABLE growth_loans;
DROP TABLE growth_sl_transitions;
DROP TABLE growth_sl_state;
DROP TABLE growth_sl_counters;
DROP TABLE growth_approvals;
DROP TABLE growth_orders;
DROP TABLE provider_api_keys;
DROP TABLE ledger_balances;
DROP TABLE ledger_postings;
DROP TABLE ledger_entries;
