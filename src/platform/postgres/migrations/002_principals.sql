-- Who may call Holdpoint: agents submit actions, reviewers decide them, admins manage both.
-- Ids follow the agent-id rule of the API so an agent principal and the agent it speaks for match.
CREATE TABLE principals (
  id            text PRIMARY KEY
                CHECK (length(id) <= 128 AND id ~ '^[A-Za-z0-9][A-Za-z0-9._:@-]*$'),
  role          text NOT NULL CHECK (role IN ('agent', 'reviewer', 'admin')),
  groups        text[] NOT NULL DEFAULT '{}',
  display_name  text,
  slack_user_id text UNIQUE,                        -- maps Slack interactions to a reviewer
  email         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled_at   timestamptz                         -- set: every key of the principal is refused
);

-- API keys: only a SHA-256 hash of the full key is kept, so a database leak yields no usable key.
CREATE TABLE api_keys (
  id           text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{8}$'),  -- public key id, part of the key text
  principal_id text NOT NULL REFERENCES principals (id),
  key_hash     text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  last_used_at timestamptz                          -- refreshed at most once a minute
);

CREATE INDEX api_keys_principal ON api_keys (principal_id);
