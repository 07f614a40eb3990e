-- Providers' traffic roll-ups (package traffic): statistics from the
-- analytics pipeline, never money. Each table is partitioned by month of
-- `day` (a partition is created by the first roll-up that needs it and
-- dropped whole by retention, 400 days); every read names one provider (or
-- one vertical for demand), which leads each primary key.

-- +goose Up
-- A provider's figures per day and city ('' when the event named none).
CREATE TABLE traffic_daily (
    provider           text   NOT NULL,
    day                date   NOT NULL,
    city               text   NOT NULL,
    search_impressions bigint NOT NULL DEFAULT 0,
    home_impressions   bigint NOT NULL DEFAULT 0,
    clicks             bigint NOT NULL DEFAULT 0,
    orders             bigint NOT NULL DEFAULT 0,
    bookings           bigint NOT NULL DEFAULT 0,
    gmv                bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, day, city)
) PARTITION BY RANGE (day);

-- Where a provider's items were shown per query: rank_sum / impressions is
-- the mean rank, best_rank the best (0: none).
CREATE TABLE traffic_queries (
    provider    text   NOT NULL,
    day         date   NOT NULL,
    city        text   NOT NULL,
    query       text   NOT NULL,
    impressions bigint NOT NULL DEFAULT 0,
    clicks      bigint NOT NULL DEFAULT 0,
    rank_sum    bigint NOT NULL DEFAULT 0,
    best_rank   int    NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, day, city, query)
) PARTITION BY RANGE (day);

-- Searches per vertical ('' for every vertical), city and query, and how
-- many found nothing or few results.
CREATE TABLE traffic_demand (
    vertical     text   NOT NULL,
    day          date   NOT NULL,
    city         text   NOT NULL,
    query        text   NOT NULL,
    searches     bigint NOT NULL DEFAULT 0,
    zero_results bigint NOT NULL DEFAULT 0,
    low_results  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (vertical, day, city, query)
) PARTITION BY RANGE (day);

-- Roll-ups applied, by ID: a roll-up retried after a timeout is applied
-- once. Forgotten after 7 days.
CREATE TABLE traffic_rollups (
    id         text PRIMARY KEY,
    applied_at timestamptz NOT NULL
);
CREATE INDEX traffic_rollups_applied ON traffic_rollups (applied_at);

-- +goose Down
DROP TABLE traffic_rollups;
DROP TABLE traffic_demand;
DROP TABLE traffic_queries;
DROP TABLE traffic_daily;
