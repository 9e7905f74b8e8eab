-- Per-minute and per-hour rollups on plain PostgreSQL: materialized views refreshed on a schedule by the
-- ingest (refresh_rollups()). Same names and columns as the TimescaleDB continuous aggregates, and buckets
-- made with date_bin(), so dashboards run one query on both.
CREATE MATERIALIZED VIEW telemetry_1m AS
SELECT date_bin('1 minute', time, TIMESTAMPTZ '2000-01-01') AS bucket, site, device, metric,
       count(*) AS n, avg(value) AS avg, min(value) AS min, max(value) AS max
  FROM telemetry
 GROUP BY 1, 2, 3, 4
WITH NO DATA;
-- A unique index is what allows REFRESH … CONCURRENTLY, so dashboards are never blocked by a refresh.
CREATE UNIQUE INDEX telemetry_1m_key ON telemetry_1m (bucket, site, device, metric);

CREATE MATERIALIZED VIEW events_1m AS
SELECT date_bin('1 minute', time, TIMESTAMPTZ '2000-01-01') AS bucket, site, kind, severity, count(*) AS n
  FROM events
 GROUP BY 1, 2, 3, 4
WITH NO DATA;
CREATE UNIQUE INDEX events_1m_key ON events_1m (bucket, site, kind, severity);

-- Hourly from the minute rollup: re-reading minutes is far cheaper than re-reading raw rows.
CREATE MATERIALIZED VIEW telemetry_1h AS
SELECT date_bin('1 hour', bucket, TIMESTAMPTZ '2000-01-01') AS bucket, site, device, metric,
       sum(n)::bigint AS n, sum(avg * n) / sum(n) AS avg, min(min) AS min, max(max) AS max
  FROM telemetry_1m
 GROUP BY 1, 2, 3, 4
WITH NO DATA;
CREATE UNIQUE INDEX telemetry_1h_key ON telemetry_1h (bucket, site, device, metric);

-- Refreshes every rollup, in dependency order. The first refresh fills the views; later ones run
-- CONCURRENTLY so readers keep the previous contents meanwhile.
CREATE FUNCTION refresh_rollups() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v text;
  n integer := 0;
BEGIN
  FOREACH v IN ARRAY ARRAY['telemetry_1m', 'events_1m', 'telemetry_1h'] LOOP
    IF (SELECT relispopulated FROM pg_class WHERE oid = v::regclass) THEN
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I', v);
    ELSE
      EXECUTE format('REFRESH MATERIALIZED VIEW %I', v);
    END IF;
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
