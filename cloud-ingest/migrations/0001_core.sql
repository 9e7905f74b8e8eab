-- Core tables that are not time series. Forward-only: never edit a migration that has shipped; add the next one.

-- Per-edge high-water mark: every uplink record with seq <= last_seq is committed. This is what makes
-- ingest idempotent and ordered by (edge, seq) without a unique index on the big time-series tables.
CREATE TABLE edge_cursor (
  edge        text PRIMARY KEY,
  site        text NOT NULL,
  last_seq    bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Rejected input, with the reason, so nothing is dropped silently.
CREATE TABLE dead_letters (
  id          bigserial PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  source      text NOT NULL,            -- 'mqtt:<topic>' or 'http'
  edge        text,
  seq         bigint,
  code        text NOT NULL,            -- stable error code, e.g. ERR_VALIDATION
  reason      text NOT NULL,            -- path + reason
  payload     text NOT NULL             -- the raw text, cut to 64 KiB
);
CREATE INDEX dead_letters_received_at ON dead_letters (received_at);

-- Last known state per device, upserted from status messages.
CREATE TABLE device_status (
  site        text NOT NULL,
  edge        text NOT NULL,
  device      text NOT NULL,
  online      boolean NOT NULL,
  state       jsonb,
  at          timestamptz NOT NULL,
  PRIMARY KEY (site, device)
);

-- Alarms raised at the edge or by cloud rules. One active alarm per (device, type): repeats count up.
CREATE TABLE alarms (
  id              uuid PRIMARY KEY,
  site            text NOT NULL,
  edge            text,
  device          text NOT NULL,
  type            text NOT NULL,
  severity        text NOT NULL CHECK (severity IN ('info','minor','major','critical')),
  state           text NOT NULL CHECK (state IN ('open','acknowledged','dispatched','resolved','false_alarm')),
  raised_at       timestamptz NOT NULL,
  last_seen_at    timestamptz NOT NULL,
  count           integer NOT NULL DEFAULT 1,
  message         text NOT NULL,
  source_event_id uuid,
  tags            jsonb,
  acknowledged_at timestamptz,
  resolved_at     timestamptz
);
CREATE UNIQUE INDEX alarms_one_active ON alarms (site, device, type) WHERE state NOT IN ('resolved','false_alarm');
CREATE INDEX alarms_raised_at ON alarms (raised_at);
