-- Settings the service publishes for its neighbours (issue 15): `public_url` is where people's browsers
-- reach the ingest's pages (its PUBLIC_URL); the Grafana dashboards read it for their alarm links, so the
-- committed dashboard JSON serves every deployment.
CREATE TABLE service_settings (
  key        text PRIMARY KEY,
  value      text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
