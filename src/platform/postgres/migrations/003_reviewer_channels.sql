-- Reviewer channels: console sessions, single-use tokens, and the Slack messages we posted.

-- Console sign-in sessions. Only a SHA-256 of the cookie value is stored; a session dies with the
-- API key it was opened with (revoked key or disabled principal: refused at the next request).
CREATE TABLE console_sessions (
  id_hash      text PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
  principal_id text NOT NULL REFERENCES principals (id),
  key_id       text NOT NULL REFERENCES api_keys (id),
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  ended_at     timestamptz
);

CREATE INDEX console_sessions_principal ON console_sessions (principal_id);

-- One-time tokens and replay guards: an email link's token id, a Slack request signature. The
-- primary key makes "use once" atomic across API replicas; rows past expires_at may be deleted.
CREATE TABLE consumed_tokens (
  scope       text NOT NULL CHECK (scope IN ('email-decision', 'slack-request')),
  token_id    text NOT NULL,
  expires_at  timestamptz NOT NULL,
  consumed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, token_id)
);

CREATE INDEX consumed_tokens_expiry ON consumed_tokens (expires_at);

-- Slack messages posted for a notification, so retries do not post twice and the outcome can be
-- written into every message of the action, wherever the decision was made.
CREATE TABLE slack_messages (
  notification_id text NOT NULL,
  destination     text NOT NULL,                  -- the channel or user id we posted to
  action_id       text NOT NULL REFERENCES actions (id),
  channel         text NOT NULL,                  -- the conversation id Slack answered with
  ts              text NOT NULL,
  posted_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (notification_id, destination)
);

CREATE INDEX slack_messages_action ON slack_messages (action_id);
