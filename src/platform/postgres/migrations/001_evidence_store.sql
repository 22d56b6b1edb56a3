-- One row per agent action: a queryable projection of the workflow, updated as it advances.
CREATE TABLE actions (
  id                    text PRIMARY KEY,           -- the workflow id: action-<agentId>-<idempotencyKey>
  run_id                text,
  agent_id              text NOT NULL,
  on_behalf_of          text,
  idempotency_key       text NOT NULL,
  request_hash          text NOT NULL,              -- canonical hash of the submitted request
  action_type           text NOT NULL,
  action_tool           text,
  action_step           text,
  resource_type         text NOT NULL,
  resource_id           text NOT NULL,
  payload               jsonb NOT NULL,
  payload_hash          text NOT NULL,
  context               jsonb NOT NULL DEFAULT '{}'::jsonb,
  deadline              timestamptz,
  execution_mode        text,
  callback_url          text,
  status                text NOT NULL,
  outcome               text,
  risk                  text,
  matched_rules         text[] NOT NULL DEFAULT '{}',
  reason                text,
  policy_version        text,
  review_groups         text[] NOT NULL DEFAULT '{}',
  assignees             text[] NOT NULL DEFAULT '{}',
  review_due_at         timestamptz,
  decided_by            text[] NOT NULL DEFAULT '{}',
  decided_at            timestamptz,
  rationale             text,
  reason_code           text,
  approved_payload      jsonb,
  approved_payload_hash text,
  executed_payload_hash text,
  execution_result      jsonb,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  completed_at          timestamptz
);

CREATE INDEX actions_agent_created ON actions (agent_id, created_at DESC);
CREATE INDEX actions_status_due ON actions (status, review_due_at);
CREATE INDEX actions_type_risk_created ON actions (action_type, risk, created_at);
CREATE INDEX actions_assignees ON actions USING gin (assignees);
CREATE INDEX actions_review_groups ON actions USING gin (review_groups);

-- Append-only evidence: one row per step, hash-chained per action.
CREATE TABLE action_events (
  action_id   text NOT NULL REFERENCES actions (id),
  seq         integer NOT NULL,
  event_key   text NOT NULL,                        -- the workflow step; makes activity retries no-ops
  type        text NOT NULL,
  actor       text,
  data        jsonb NOT NULL,
  occurred_at timestamptz NOT NULL,
  prev_hash   text,
  hash        text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (action_id, seq),
  UNIQUE (action_id, event_key)
);

CREATE INDEX action_events_type_time ON action_events (type, occurred_at);

CREATE FUNCTION reject_evidence_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'action_events is append-only (% rejected)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER action_events_append_only
  BEFORE UPDATE OR DELETE ON action_events
  FOR EACH ROW EXECUTE FUNCTION reject_evidence_change();

CREATE TRIGGER action_events_no_truncate
  BEFORE TRUNCATE ON action_events
  FOR EACH STATEMENT EXECUTE FUNCTION reject_evidence_change();
