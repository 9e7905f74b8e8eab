-- A device belongs to one edge until an admin moves it (issue 12, item 4): the first edge that reports a
-- device claims it; another edge's records about it are refused with a dead letter.
CREATE TABLE device_owners (
  site       text NOT NULL,
  device     text NOT NULL,
  edge       text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  moved_by   text,
  PRIMARY KEY (site, device)
);
