-- Retention and rollups, one entry point on both variants (the TimescaleDB variant hands them to its
-- policies). On plain PostgreSQL the maintenance job does the work itself.

-- Applies the store's retention setting (maintenance.retentionDays; 0 keeps everything): here, whole day
-- partitions that ended on or before today minus `days` are dropped now. Returns how many.
CREATE FUNCTION apply_retention(days integer) RETURNS integer
LANGUAGE sql AS $$
  SELECT CASE WHEN days > 0 THEN drop_day_partitions_before((now() AT TIME ZONE 'UTC')::date - days) ELSE 0 END
$$;

-- Residents' positions (wearable.lat/lon, care/positions.ts LOCATION_METRICS) stay out of the rollups: a
-- per-minute average of a resident's fixes is still their position, and the rollups outlive the location
-- retention that removes the raw fixes. Nothing reads positions from the rollups. Built with their data,
-- so long-range panels (dashboards/src/rollups.ts) can read them before the first refresh.
DROP MATERIALIZED VIEW telemetry_1h;
DROP MATERIALIZED VIEW telemetry_1m;
CREATE MATERIALIZED VIEW telemetry_1m AS
SELECT date_bin('1 minute', time, TIMESTAMPTZ '2000-01-01') AS bucket, site, device, metric,
       count(*) AS n, avg(value) AS avg, min(value) AS min, max(value) AS max
  FROM telemetry
 WHERE metric NOT IN ('wearable.lat', 'wearable.lon')
 GROUP BY 1, 2, 3, 4
WITH DATA;
CREATE UNIQUE INDEX telemetry_1m_key ON telemetry_1m (bucket, site, device, metric);

CREATE MATERIALIZED VIEW telemetry_1h AS
SELECT date_bin('1 hour', bucket, TIMESTAMPTZ '2000-01-01') AS bucket, site, device, metric,
       sum(n)::bigint AS n, sum(avg * n) / sum(n) AS avg, min(min) AS min, max(max) AS max
  FROM telemetry_1m
 GROUP BY 1, 2, 3, 4
WITH DATA;
CREATE UNIQUE INDEX telemetry_1h_key ON telemetry_1h (bucket, site, device, metric);
