-- Per-minute and per-hour rollups on TimescaleDB: continuous aggregates with refresh policies, with the
-- same names and columns as the plain variant's materialized views. time_bucket() is what continuous
-- aggregates accept; for these widths its buckets equal date_bin()'s with the 2000-01-01 origin, so the
-- dashboards' queries on the rollups are the same on both.
CREATE MATERIALIZED VIEW telemetry_1m WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 minute', time) AS bucket, site, device, metric,
       count(*) AS n, avg(value) AS avg, min(value) AS min, max(value) AS max
  FROM telemetry
 GROUP BY 1, 2, 3, 4
WITH NO DATA;
SELECT add_continuous_aggregate_policy('telemetry_1m', start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');

CREATE MATERIALIZED VIEW events_1m WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 minute', time) AS bucket, site, kind, severity, count(*) AS n
  FROM events
 GROUP BY 1, 2, 3, 4
WITH NO DATA;
SELECT add_continuous_aggregate_policy('events_1m', start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');

CREATE MATERIALIZED VIEW telemetry_1h WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 hour', bucket) AS bucket, site, device, metric,
       sum(n)::bigint AS n, sum(avg * n) / sum(n) AS avg, min(min) AS min, max(max) AS max
  FROM telemetry_1m
 GROUP BY 1, 2, 3, 4
WITH NO DATA;
SELECT add_continuous_aggregate_policy('telemetry_1h', start_offset => INTERVAL '7 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes');

-- The policies refresh the aggregates; kept so callers need not know which variant ran.
CREATE FUNCTION refresh_rollups() RETURNS integer
LANGUAGE sql AS $$ SELECT 0 $$;
