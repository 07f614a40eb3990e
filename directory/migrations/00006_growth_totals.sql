-- Merchant growth's analysts' totals: the reward programs and the loans by
-- vertical and city over a date range. Additive.

-- +goose Up
-- Where an entry's causing event happened (an order's city); a reversal
-- carries its original's. Empty for entries before this migration and for
-- events without a city: the totals count those under the provider's first
-- city.
ALTER TABLE ledger_entries ADD COLUMN city text NOT NULL DEFAULT '';
-- The loan totals select offers and loans by when they were made.
CREATE INDEX growth_loan_offers_created ON growth_loan_offers (created_at);
CREATE INDEX growth_loans_created ON growth_loans (created_at);

-- +goose Down
DROP INDEX growth_loans_created;
DROP INDEX growth_loan_offers_created;
ALTER TABLE ledger_entries DROP COLUMN city;
