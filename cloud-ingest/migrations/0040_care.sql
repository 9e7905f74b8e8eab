-- Elderly care in the cloud: the residents enrolled at each site (the same residents file the edge runs
-- with), so care alarms escalate to the resident's own guard team and family, and so location history is
-- readable only by that team and by admins.
CREATE TABLE care_residents (
  site        text NOT NULL,
  id          text NOT NULL,
  name        text NOT NULL,
  wearable    text NOT NULL,
  building    text,
  unit        text,
  team        text,                          -- the guard team assigned (first guard_team contact's team)
  contacts    jsonb NOT NULL DEFAULT '[]',   -- [{name, role: family|guard_team, phone?, team?}] in calling order
  consent     jsonb NOT NULL,                -- {givenAt, givenBy, scope[]}
  updated_at  timestamptz NOT NULL DEFAULT now(),
  updated_by  text,
  PRIMARY KEY (site, id),
  UNIQUE (site, wearable)
);

-- Users may belong to guard teams; a care resident's location history is shown to members of their team.
ALTER TABLE api_users ADD COLUMN teams text[] NOT NULL DEFAULT '{}';
