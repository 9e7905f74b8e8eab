-- Sign-in for people (issue 15): a password per user (scrypt, optional), browser sessions behind an
-- HTTP-only cookie, and one-time sign-in links an admin issues. Bearer tokens stay for machines.
ALTER TABLE api_users ADD COLUMN password_hash text;

-- A browser session: only the hash of the cookie's secret is kept, with the CSRF token the page sends back
-- on every write. Expired or revoked rows no longer sign anyone in.
CREATE TABLE staff_sessions (
  id_hash      text PRIMARY KEY,
  user_id      text NOT NULL REFERENCES api_users (id) ON DELETE CASCADE,
  csrf         text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  how          text NOT NULL CHECK (how IN ('password','link'))
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);

-- One-time sign-in links: used once, within their expiry.
CREATE TABLE sign_in_links (
  token_hash  text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES api_users (id) ON DELETE CASCADE,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
