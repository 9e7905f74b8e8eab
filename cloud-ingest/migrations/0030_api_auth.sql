-- REST API: users with hashed bearer tokens, edge credentials, the audit trail of every API write, and the
-- commands the API sent down (their outcome is read from command_results, written by the ingest).

-- A user acts with one role, on a list of sites or on all of them (sites IS NULL).
CREATE TABLE api_users (
  id          text PRIMARY KEY,
  role        text NOT NULL CHECK (role IN ('admin','security','installer','viewer')),
  sites       text[],                       -- NULL = every site
  token_hash  text NOT NULL UNIQUE,         -- sha256 of the token; the token itself is never stored
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text,
  disabled    boolean NOT NULL DEFAULT false
);

-- Edges that use the HTTP ingest authenticate with their own secret (never a user token).
CREATE TABLE edge_credentials (
  edge        text PRIMARY KEY,
  site        text NOT NULL,
  secret_hash text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Every write through the API, allowed or refused: who, what, when, and the request id that ties it to logs.
CREATE TABLE api_audit (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text,                         -- NULL when the caller could not be authenticated
  role        text,
  request_id  text NOT NULL,
  method      text NOT NULL,
  route       text NOT NULL,                -- the route pattern, e.g. /api/v1/alarms/:id/ack
  target      text,                         -- the id acted on, when the route has one
  status      integer NOT NULL,
  code        text,                         -- the error code of a refused write
  detail      jsonb
);
CREATE INDEX api_audit_at ON api_audit (at);
CREATE INDEX api_audit_actor_at ON api_audit (actor, at);

-- Commands issued through the API. Pending until a command_results row with this id arrives, or timed out
-- once deadline has passed without one.
CREATE TABLE api_commands (
  id          uuid PRIMARY KEY,
  site        text NOT NULL,
  edge        text NOT NULL,
  device      text NOT NULL,
  action      text NOT NULL,
  params      jsonb NOT NULL,
  issued_by   text NOT NULL,
  issued_at   timestamptz NOT NULL,
  deadline    timestamptz NOT NULL,
  purpose     text NOT NULL DEFAULT 'command'  -- 'command' or 'warning' (display screens)
);
CREATE INDEX api_commands_site_issued ON api_commands (site, issued_at DESC);
