-- Merchant growth's money, continued: payouts, stored reconciliations,
-- once-per-period job runs, stored loan offers and the service-level facts
-- that are not call counters (catalogue freshness, conformance). Additive.

-- +goose Up
-- Reconciliation and payout runs read entries of one kind by day.
CREATE INDEX ledger_entries_kind_at ON ledger_entries (kind, at);
-- Cancellation rates read the orders that changed in a window.
CREATE INDEX growth_orders_updated ON growth_orders (updated_at);

-- A payout of a provider's payable for one day: created before its ledger
-- entry (key payout:<id>) is posted, marked PAID after; reconciliation
-- reports one without the other.
CREATE TABLE growth_payouts (
    id         text PRIMARY KEY,
    provider   text NOT NULL,
    currency   text NOT NULL,
    amount     bigint NOT NULL CHECK (amount > 0),
    repaid     bigint NOT NULL DEFAULT 0,
    day        date NOT NULL,
    status     text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX growth_payouts_provider ON growth_payouts (provider, created_at);
CREATE INDEX growth_payouts_day ON growth_payouts (day, id);

-- Each reconciliation run as the operators and analysts read it.
CREATE TABLE growth_reconciliations (
    id        bigserial PRIMARY KEY,
    day       date NOT NULL,
    orders    int NOT NULL,
    payouts   int NOT NULL,
    problems  text[] NOT NULL,
    ran_at    timestamptz NOT NULL
);

-- A periodic job's run for one period (a month's bonus, a day's payouts),
-- marked once it finished: several instances run the scheduler, the job
-- lock lets one work at a time, and this row says the work is done.
CREATE TABLE growth_job_runs (
    job     text NOT NULL,
    period  text NOT NULL,
    done_at timestamptz NOT NULL,
    PRIMARY KEY (job, period)
);

-- The offer a provider was shown: its terms and expiry, accepted at most
-- once (by the loan that took it).
CREATE TABLE growth_loan_offers (
    id          text PRIMARY KEY,
    provider    text NOT NULL,
    currency    text NOT NULL,
    max_amount  bigint NOT NULL,
    gmv90       bigint NOT NULL,
    factors     jsonb NOT NULL,
    terms       text NOT NULL,
    fee_bp      bigint NOT NULL,
    share       int NOT NULL,
    min_term    int NOT NULL,
    max_term    int NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    loan_id     text NOT NULL DEFAULT ''
);
CREATE INDEX growth_loan_offers_provider ON growth_loan_offers (provider, created_at);
-- The offer a loan accepted.
ALTER TABLE growth_loans ADD COLUMN offer_id text NOT NULL DEFAULT '';

-- Facts the service-level job grades besides the call counters: when the
-- provider's catalogue last reached the supply index, and its last
-- conformance run. Written when they change; read for the providers in
-- trouble only.
CREATE TABLE growth_sl_facts (
    provider       text PRIMARY KEY,
    catalog_at     timestamptz,
    conformance    text NOT NULL DEFAULT '',
    conformance_at timestamptz
);
CREATE INDEX growth_sl_facts_catalog ON growth_sl_facts (catalog_at);

-- +goose Down
DROP TABLE growth_sl_facts;
ALTER TABLE growth_loans DROP COLUMN offer_id;
DROP TABLE growth_loan_offers;
DROP TABLE growth_job_runs;
DROP TABLE growth_reconciliations;
DROP TABLE growth_payouts;
DROP INDEX growth_orders_updated;
DROP INDEX ledger_entries_kind_at;
