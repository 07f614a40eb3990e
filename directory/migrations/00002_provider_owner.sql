-- The user who registered a provider with an onboarding code: the one
-- (besides operators) who may read its certification. Empty when an
-- operator registered it or it was imported. Additive, so instances of the
-- previous release keep running against it during a rolling upgrade.

-- +goose Up
ALTER TABLE providers ADD COLUMN owner text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE providers DROP COLUMN owner;
