-- Service levels at 10^6 providers: each provider's counters summed over
-- the grading windows (growth_sl_windows), kept up to date by triggers as
-- call minutes and order records arrive, so the job reads one row per
-- provider whose window changed instead of re-counting a day of order
-- records every minute. The triggers keep the invariant "a window is the
-- sum of its provider's buckets" for every writer, instances of the
-- previous release included (they write the buckets and order records as
-- before). Also: an index for the payout run to find earlier days' PENDING
-- payouts. Additive.

-- +goose Up
-- Order records by provider and hour of their change: a new record counts
-- as an order, a record becoming CANCELLED as a cancellation (both in the
-- hour of updated_at, UTC).
CREATE TABLE growth_sl_orders (
    provider  text NOT NULL,
    hour      timestamptz NOT NULL,
    orders    bigint NOT NULL DEFAULT 0,
    cancelled bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, hour)
);
-- The job expires buckets by time.
CREATE INDEX growth_sl_orders_hour ON growth_sl_orders (hour);
CREATE INDEX growth_sl_counters_minute ON growth_sl_counters (minute);

-- A provider's buckets summed: the call minutes and order hours the job
-- has not expired yet. changed_at moves with every change (an added
-- bucket, an expired one), so a run reads the providers changed since the
-- last one. A window that sums to nothing is deleted: the table holds the
-- providers with recent activity, not the directory.
CREATE TABLE growth_sl_windows (
    provider   text PRIMARY KEY,
    calls      bigint NOT NULL DEFAULT 0,
    errors     bigint NOT NULL DEFAULT 0,
    slow       bigint NOT NULL DEFAULT 0,
    orders     bigint NOT NULL DEFAULT 0,
    cancelled  bigint NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL
);
CREATE INDEX growth_sl_windows_changed ON growth_sl_windows (changed_at);

-- +goose StatementBegin
CREATE FUNCTION growth_sl_window_add(p text, d_calls bigint, d_errors bigint, d_slow bigint, d_orders bigint, d_cancelled bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO growth_sl_windows AS w (provider, calls, errors, slow, orders, cancelled, changed_at)
    VALUES (p, d_calls, d_errors, d_slow, d_orders, d_cancelled, clock_timestamp())
    ON CONFLICT (provider) DO UPDATE SET calls = w.calls + d_calls, errors = w.errors + d_errors, slow = w.slow + d_slow,
        orders = w.orders + d_orders, cancelled = w.cancelled + d_cancelled, changed_at = clock_timestamp();
    IF d_calls < 0 OR d_orders < 0 OR d_cancelled < 0 THEN
        DELETE FROM growth_sl_windows WHERE provider = p AND calls = 0 AND errors = 0 AND slow = 0 AND orders = 0 AND cancelled = 0;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION growth_sl_counters_window() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM growth_sl_window_add(NEW.provider, NEW.calls, NEW.errors, NEW.slow, 0, 0);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM growth_sl_window_add(NEW.provider, NEW.calls - OLD.calls, NEW.errors - OLD.errors, NEW.slow - OLD.slow, 0, 0);
    ELSE
        PERFORM growth_sl_window_add(OLD.provider, -OLD.calls, -OLD.errors, -OLD.slow, 0, 0);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER growth_sl_counters_window AFTER INSERT OR UPDATE OR DELETE ON growth_sl_counters
    FOR EACH ROW EXECUTE FUNCTION growth_sl_counters_window();

-- +goose StatementBegin
CREATE FUNCTION growth_sl_orders_window() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM growth_sl_window_add(NEW.provider, 0, 0, 0, NEW.orders, NEW.cancelled);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM growth_sl_window_add(NEW.provider, 0, 0, 0, NEW.orders - OLD.orders, NEW.cancelled - OLD.cancelled);
    ELSE
        PERFORM growth_sl_window_add(OLD.provider, 0, 0, 0, -OLD.orders, -OLD.cancelled);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER growth_sl_orders_window AFTER INSERT OR UPDATE OR DELETE ON growth_sl_orders
    FOR EACH ROW EXECUTE FUNCTION growth_sl_orders_window();

-- +goose StatementBegin
CREATE FUNCTION growth_orders_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint := 0;
    c bigint := 0;
BEGIN
    IF TG_OP = 'INSERT' THEN
        n := 1;
        IF NEW.status = 'CANCELLED' THEN c := 1; END IF;
    ELSIF NEW.status = 'CANCELLED' AND OLD.status <> 'CANCELLED' THEN
        c := 1;
    END IF;
    IF n = 0 AND c = 0 THEN
        RETURN NULL;
    END IF;
    INSERT INTO growth_sl_orders AS o (provider, hour, orders, cancelled)
    VALUES (NEW.provider, date_trunc('hour', NEW.updated_at, 'UTC'), n, c)
    ON CONFLICT (provider, hour) DO UPDATE SET orders = o.orders + n, cancelled = o.cancelled + c;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER growth_orders_count AFTER INSERT OR UPDATE OF status ON growth_orders
    FOR EACH ROW EXECUTE FUNCTION growth_orders_count();

-- The records and minutes of the last two days, as the triggers would
-- have counted them (a record's changes before its last one are not
-- known: it counts once, as an order, and as a cancellation if it is one).
INSERT INTO growth_sl_orders (provider, hour, orders, cancelled)
SELECT provider, date_trunc('hour', updated_at, 'UTC'), count(*), count(*) FILTER (WHERE status = 'CANCELLED')
FROM growth_orders WHERE updated_at >= now() - interval '2 days' GROUP BY 1, 2;
INSERT INTO growth_sl_windows (provider, calls, errors, slow, orders, cancelled, changed_at)
SELECT provider, sum(calls), sum(errors), sum(slow), sum(orders), sum(cancelled), now() FROM (
    SELECT provider, calls, errors, slow, 0 AS orders, 0 AS cancelled FROM growth_sl_counters
    UNION ALL SELECT provider, 0, 0, 0, orders, cancelled FROM growth_sl_orders) b
GROUP BY provider
ON CONFLICT (provider) DO UPDATE SET calls = EXCLUDED.calls, errors = EXCLUDED.errors, slow = EXCLUDED.slow,
    orders = EXCLUDED.orders, cancelled = EXCLUDED.cancelled, changed_at = EXCLUDED.changed_at;

-- A payout run finishes the PENDING payouts of earlier days first.
CREATE INDEX growth_payouts_pending ON growth_payouts (id) WHERE status = 'PENDING';

-- +goose Down
DROP INDEX growth_payouts_pending;
DROP TRIGGER growth_orders_count ON growth_orders;
DROP FUNCTION growth_orders_count();
DROP TRIGGER growth_sl_orders_window ON growth_sl_orders;
DROP FUNCTION growth_sl_orders_window();
DROP TRIGGER growth_sl_counters_window ON growth_sl_counters;
DROP FUNCTION growth_sl_counters_window();
DROP FUNCTION growth_sl_window_add(text, bigint, bigint, bigint, bigint, bigint);
DROP TABLE growth_sl_windows;
DROP INDEX growth_sl_counters_minute;
DROP TABLE growth_sl_orders;
