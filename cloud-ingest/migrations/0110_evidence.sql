-- Video evidence clips uploaded by the edges (issue 16). A row is made with the first chunk (status
-- 'uploading', bytes = the announced size) and turns 'ready' when the last chunk's size and sha256 match;
-- the file itself lives in the evidence store under storage_key. Site and edge are the uploading edge's
-- identity, never what it claims.
CREATE TABLE evidence_clips (
  clip          uuid PRIMARY KEY,
  site          text NOT NULL,
  edge          text NOT NULL,
  camera        text NOT NULL,
  trigger_event uuid NOT NULL,
  trigger_kind  text NOT NULL,
  severity      text NOT NULL,
  start_at      timestamptz NOT NULL,
  duration_ms   integer NOT NULL CHECK (duration_ms > 0),
  bytes         bigint NOT NULL CHECK (bytes > 0),
  sha256        text NOT NULL,
  blurred       boolean NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  storage_key   text,
  status        text NOT NULL DEFAULT 'uploading' CHECK (status IN ('uploading', 'ready'))
);
-- An alarm's evidence looks clips up by the event that caused them; retention by site and age.
CREATE INDEX evidence_clips_trigger ON evidence_clips (site, trigger_event);
CREATE INDEX evidence_clips_age ON evidence_clips (site, received_at);

-- Per-site evidence settings, changed by the site's admins (audited in api_audit). A site without a row
-- has the defaults: unblurred clips refused, clips kept 30 days.
CREATE TABLE evidence_site_settings (
  site            text PRIMARY KEY,
  allow_unblurred boolean NOT NULL DEFAULT false,
  retention_days  integer NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 3650),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  updated_by      text
);
