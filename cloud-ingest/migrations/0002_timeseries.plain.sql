-- Time-series tables on plain PostgreSQL: declarative range partitions by day on the row's own time
-- (the device/edge time, so a replay after an outage lands in the day it happened), BRIN on time.
-- The TimescaleDB variant of this migration creates the same tables as hypertables.

CREATE TABLE events (
  edge        text NOT NULL,
  seq         bigint NOT NULL,
  id          uuid NOT NULL,
  site        text NOT NULL,
  device      text NOT NULL,
  kind        text NOT NULL,
  severity    text NOT NULL,
  device_time timestamptz,
  time        timestamptz NOT NULL,     -- edge time: when the edge saw it
  received_at timestamptz NOT NULL DEFAULT now(),
  tags        jsonb,
  payload     jsonb NOT NULL
) PARTITION BY RANGE (time);

CREATE TABLE telemetry (
  edge        text NOT NULL,
  seq         bigint NOT NULL,
  site        text NOT NULL,
  device      text NOT NULL,
  metric      text NOT NULL,
  value       double precision NOT NULL,
  unit        text,
  time        timestamptz NOT NULL
) PARTITION BY RANGE (time);

CREATE TABLE command_results (
  edge        text NOT NULL,
  seq         bigint NOT NULL,
  command_id  uuid NOT NULL,
  site        text NOT NULL,
  device      text NOT NULL,
  action      text NOT NULL,
  status      text NOT NULL,
  attempts    integer NOT NULL,
  latency_ms  double precision NOT NULL,
  time        timestamptz NOT NULL,
  detail      text
) PARTITION BY RANGE (time);

CREATE TABLE linkage_executions (
  edge             text NOT NULL,
  seq              bigint NOT NULL,
  id               uuid NOT NULL,
  site             text NOT NULL,
  rule             text NOT NULL,
  trigger_event_id uuid NOT NULL,
  time             timestamptz NOT NULL,  -- started at
  finished_at      timestamptz NOT NULL,
  status           text NOT NULL,
  actions          jsonb NOT NULL
) PARTITION BY RANGE (time);

-- A catch-all partition per table so an insert never fails for want of a partition (nothing lost);
-- maintenance creates daily partitions ahead so the default stays near empty.
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE TABLE telemetry_default PARTITION OF telemetry DEFAULT;
CREATE TABLE command_results_default PARTITION OF command_results DEFAULT;
CREATE TABLE linkage_executions_default PARTITION OF linkage_executions DEFAULT;

CREATE INDEX events_time_brin ON events USING brin (time);
CREATE INDEX events_site_kind_time ON events (site, kind, time DESC);
CREATE INDEX telemetry_time_brin ON telemetry USING brin (time);
CREATE INDEX command_results_time_brin ON command_results USING brin (time);
CREATE INDEX linkage_executions_time_brin ON linkage_executions USING brin (time);

-- Creates one day partition per table for each day in [from_day, from_day + days).
CREATE FUNCTION ensure_day_partitions(from_day date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  t text;
  d date;
  made integer := 0;
BEGIN
  FOREACH t IN ARRAY ARRAY['events','telemetry','command_results','linkage_executions'] LOOP
    FOR i IN 0 .. days - 1 LOOP
      d := from_day + i;
      IF to_regclass(format('%I', t || '_' || to_char(d, 'YYYYMMDD'))) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       t || '_' || to_char(d, 'YYYYMMDD'), t, d::timestamptz, (d + 1)::timestamptz);
        made := made + 1;
      END IF;
    END LOOP;
  END LOOP;
  RETURN made;
END $$;

SELECT ensure_day_partitions((now() AT TIME ZONE 'UTC')::date - 1, 9);
