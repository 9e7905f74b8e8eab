-- TimescaleDB done as the product needs it (issue 17): chunk sizes for the documented scale, columnar
-- compression laid out for the dashboards' filters, retention as policies, and real-time rollups.

-- Chunk intervals (new chunks; existing ones keep theirs). A community sends about 0.65M telemetry rows
-- and 0.1M events a day (BENCHMARKS.md, `dashboards`): a day of telemetry is ~100 MB with its index, so
-- daily chunks stay far under a quarter of the server's memory even for dozens of communities on one
-- database. Events, command results and linkage runs are an order of magnitude fewer: a week per chunk.
SELECT set_chunk_time_interval('telemetry', INTERVAL '1 day');
SELECT set_chunk_time_interval('events', INTERVAL '7 days');
SELECT set_chunk_time_interval('command_results', INTERVAL '7 days');
SELECT set_chunk_time_interval('linkage_executions', INTERVAL '7 days');

-- Compression: segmented by what the dashboards and the API filter on, so a panel reads only its site's,
-- device's and metric's batches, each in time order. Chunks are compressed once they stop receiving
-- live data (a replay after an outage and the scrubs of personal data still write into compressed
-- chunks; TimescaleDB decompresses just the batches they touch).
ALTER TABLE telemetry SET (timescaledb.compress, timescaledb.compress_segmentby = 'site, edge, device, metric',
                           timescaledb.compress_orderby = 'time DESC');
ALTER TABLE events SET (timescaledb.compress, timescaledb.compress_segmentby = 'site, kind',
                        timescaledb.compress_orderby = 'time DESC');
ALTER TABLE command_results SET (timescaledb.compress, timescaledb.compress_segmentby = 'site',
                                 timescaledb.compress_orderby = 'time DESC');
ALTER TABLE linkage_executions SET (timescaledb.compress, timescaledb.compress_segmentby = 'site',
                                    timescaledb.compress_orderby = 'time DESC');
-- telemetry's policy (2 days) came with 0002; the weekly tables are compressed once their chunk is a week old.
SELECT add_compression_policy('events', INTERVAL '7 days');
SELECT add_compression_policy('command_results', INTERVAL '7 days');
SELECT add_compression_policy('linkage_executions', INTERVAL '7 days');

-- Applies the store's retention setting (maintenance.retentionDays; 0 keeps everything) as one retention
-- policy per hypertable, which TimescaleDB's job scheduler runs: set when missing, changed when the
-- setting changed, removed for 0. Returns how many policies it changed (0 when they already match).
-- The rollups have none: they are what long-range panels read after the raw rows are gone.
CREATE FUNCTION apply_retention(days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  t text;
  current interval;
  changed integer := 0;
BEGIN
  FOREACH t IN ARRAY ARRAY['events', 'telemetry', 'command_results', 'linkage_executions'] LOOP
    SELECT (j.config->>'drop_after')::interval INTO current
      FROM timescaledb_information.jobs j
     WHERE j.proc_name = 'policy_retention' AND j.hypertable_schema = current_schema() AND j.hypertable_name = t;
    IF days > 0 AND current IS NOT DISTINCT FROM make_interval(days => days) THEN CONTINUE; END IF;
    IF days <= 0 AND current IS NULL THEN CONTINUE; END IF;
    IF current IS NOT NULL THEN PERFORM remove_retention_policy(t::regclass); END IF;
    IF days > 0 THEN PERFORM add_retention_policy(t::regclass, drop_after => make_interval(days => days)); END IF;
    changed := changed + 1;
  END LOOP;
  RETURN changed;
END $$;

-- Rollups rebuilt as real-time continuous aggregates (materialized_only = false: a query sees the
-- materialized buckets plus the newest rows not yet materialized), without residents' positions
-- (wearable.lat/lon): a per-minute average of a resident's fixes is still their position, and the rollups
-- outlive the location retention that deletes the raw fixes. Same names and columns as the plain variant.
DROP MATERIALIZED VIEW telemetry_1h;
DROP MATERIALIZED VIEW telemetry_1m;
CREATE MATERIALIZED VIEW telemetry_1m WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 minute', time) AS bucket, site, device, metric,
       count(*) AS n, avg(value) AS avg, min(value) AS min, max(value) AS max
  FROM telemetry
 WHERE metric NOT IN ('wearable.lat', 'wearable.lon')
 GROUP BY 1, 2, 3, 4
WITH NO DATA;
SELECT add_continuous_aggregate_policy('telemetry_1m', start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');

CREATE MATERIALIZED VIEW telemetry_1h WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', bucket) AS bucket, site, device, metric,
       sum(n)::bigint AS n, sum(avg * n) / sum(n) AS avg, min(min) AS min, max(max) AS max
  FROM telemetry_1m
 GROUP BY 1, 2, 3, 4
WITH NO DATA;
SELECT add_continuous_aggregate_policy('telemetry_1h', start_offset => INTERVAL '7 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes');

ALTER MATERIALIZED VIEW events_1m SET (timescaledb.materialized_only = false);
