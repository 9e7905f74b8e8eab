-- Alarm lifecycle (issue 6): who acts on an alarm, how alarms group into incidents, the audit trail,
-- evidence, comments, dispatches to guards' terminals, persisted timers and cloud-rule state.
-- Plain SQL that runs on PostgreSQL and PGlite alike.

-- Incidents group related alarms (same site + building, or same resident tag, within a window) so staff
-- handle one thing. An incident closes when all of its alarms are resolved or false alarms.
CREATE TABLE incidents (
  id             uuid PRIMARY KEY,
  site           text NOT NULL,
  group_key      text NOT NULL,            -- 'building:<b>', 'resident:<r>' or 'device:<d>'
  state          text NOT NULL CHECK (state IN ('open','closed')),
  severity       text NOT NULL CHECK (severity IN ('info','minor','major','critical')),
  opened_at      timestamptz NOT NULL,
  last_alarm_at  timestamptz NOT NULL,
  closed_at      timestamptz
);
CREATE INDEX incidents_open_key ON incidents (site, group_key, last_alarm_at) WHERE state = 'open';

-- Edge alarms are inserted by the ingest with these defaults; the lifecycle fills the rest.
ALTER TABLE alarms ADD COLUMN origin text NOT NULL DEFAULT 'edge';   -- edge | rule | report | api
ALTER TABLE alarms ADD COLUMN rule text;
ALTER TABLE alarms ADD COLUMN assignee text;
ALTER TABLE alarms ADD COLUMN acknowledged_by text;
ALTER TABLE alarms ADD COLUMN dispatched_at timestamptz;
ALTER TABLE alarms ADD COLUMN resolved_by text;
ALTER TABLE alarms ADD COLUMN resolution_note text;
ALTER TABLE alarms ADD COLUMN escalation_level integer NOT NULL DEFAULT 0;
ALTER TABLE alarms ADD COLUMN notifications integer NOT NULL DEFAULT 0;
ALTER TABLE alarms ADD COLUMN incident_id uuid REFERENCES incidents (id);
-- Edge alarms the lifecycle has not taken in yet (no incident, no escalation timer): adopted after the commit.
ALTER TABLE alarms ADD COLUMN adopted boolean NOT NULL DEFAULT false;
CREATE INDEX alarms_site_state_raised ON alarms (site, state, raised_at DESC);
CREATE INDEX alarms_incident ON alarms (incident_id);
CREATE INDEX alarms_unadopted ON alarms (raised_at) WHERE NOT adopted;

-- Every change, with who did it and the state before and after.
CREATE TABLE alarm_audit (
  id          bigserial PRIMARY KEY,
  alarm_id    uuid NOT NULL REFERENCES alarms (id),
  at          timestamptz NOT NULL,
  actor       text NOT NULL,              -- 'user:<id>', 'rule:<id>', 'edge:<id>', 'system', 'terminal:<id>'
  action      text NOT NULL,              -- raised, repeated, acknowledged, assigned, dispatched, resolved, ...
  from_state  text,
  to_state    text,
  detail      jsonb
);
CREATE INDEX alarm_audit_alarm ON alarm_audit (alarm_id, id);

CREATE TABLE alarm_comments (
  id        bigserial PRIMARY KEY,
  alarm_id  uuid NOT NULL REFERENCES alarms (id),
  at        timestamptz NOT NULL,
  author    text NOT NULL,
  text      text NOT NULL
);
CREATE INDEX alarm_comments_alarm ON alarm_comments (alarm_id, id);

-- Snapshot refs, triggering events and linkage executions that back an alarm.
CREATE TABLE alarm_evidence (
  id        bigserial PRIMARY KEY,
  alarm_id  uuid NOT NULL REFERENCES alarms (id),
  kind      text NOT NULL CHECK (kind IN ('snapshot','event','linkage')),
  ref       text NOT NULL,
  at        timestamptz NOT NULL,
  detail    jsonb,
  UNIQUE (alarm_id, kind, ref)
);

-- An alarm sent to a guard's or team's handheld terminal, and what the terminal reported back.
CREATE TABLE alarm_dispatches (
  id           uuid PRIMARY KEY,
  alarm_id     uuid NOT NULL REFERENCES alarms (id),
  terminal     text NOT NULL,
  status       text NOT NULL CHECK (status IN ('sent','accepted','arrived','done','cancelled')),
  sent_by      text NOT NULL,
  note         text,
  sent_at      timestamptz NOT NULL,
  accepted_at  timestamptz,
  arrived_at   timestamptz,
  feedback     text,
  feedback_at  timestamptz
);
CREATE INDEX alarm_dispatches_terminal ON alarm_dispatches (terminal, status);
CREATE INDEX alarm_dispatches_alarm ON alarm_dispatches (alarm_id);

-- Pending timers (escalation repeats, device-offline thresholds). A timer lives here until it has run, so
-- a restart loses nothing: the next instance finds it and runs it when due.
CREATE TABLE pending_timers (
  kind     text NOT NULL,
  key      text NOT NULL,
  due_at   timestamptz NOT NULL,
  payload  jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (kind, key)
);
CREATE INDEX pending_timers_due ON pending_timers (due_at);

-- Recent rule matches inside each rule's window (double knock, door forced + person): the rule's state.
CREATE TABLE rule_hits (
  id         bigserial PRIMARY KEY,
  rule       text NOT NULL,
  site       text NOT NULL,
  group_key  text NOT NULL,
  role       text NOT NULL,              -- which side of the rule matched ('knock', 'door', 'person')
  member     text NOT NULL,              -- what must differ between knocks: device or zone
  event_id   uuid,
  at         timestamptz NOT NULL
);
CREATE INDEX rule_hits_key ON rule_hits (rule, site, group_key, at);

-- Versioned rule sets: every accepted version is kept, the highest is active.
CREATE TABLE rule_sets (
  version     integer PRIMARY KEY,
  loaded_at   timestamptz NOT NULL,
  loaded_by   text NOT NULL,
  body        jsonb NOT NULL
);
