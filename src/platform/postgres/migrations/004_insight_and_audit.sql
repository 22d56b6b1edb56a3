-- Issue 6: metrics over the evidence store, policy shadow results, and signed audit checkpoints.

-- ---- Metrics (/v1/metrics) --------------------------------------------------------------------
-- Every metric selects actions by creation time. The covering columns let volume, outcome and
-- execution counts come from the index alone; reviewed actions have their own, smaller index.
CREATE INDEX actions_created ON actions (created_at) INCLUDE (action_type, risk, outcome, status, decided_at);
CREATE INDEX actions_reviewed_created ON actions (created_at) WHERE outcome = 'require_approval';

-- Review timing, projected from the evidence as it is stored (by the trigger below), so response
-- times and SLA breaches never need to search the event log. Derived data, not evidence.
CREATE TABLE review_tiers (
  action_id         text NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
  tier              integer NOT NULL,
  groups            text[] NOT NULL,
  assignees         text[] NOT NULL,
  opened_at         timestamptz NOT NULL,
  due_at            timestamptz,
  action_created_at timestamptz NOT NULL,
  PRIMARY KEY (action_id, tier)
);
CREATE INDEX review_tiers_created ON review_tiers (action_created_at);

CREATE TABLE review_votes (
  action_id         text NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
  reviewer          text NOT NULL,
  verdict           text NOT NULL,                  -- approved | denied | approved_with_edit
  opened_at         timestamptz NOT NULL,           -- the first tier that named the reviewer, else the first tier
  voted_at          timestamptz NOT NULL,
  seconds           double precision NOT NULL,
  groups            text[] NOT NULL,                -- that tier's groups
  action_created_at timestamptz NOT NULL,
  PRIMARY KEY (action_id, reviewer)
);
CREATE INDEX review_votes_created ON review_votes (action_created_at);

-- ---- Prometheus counters (/metrics) -------------------------------------------------------------
-- Counters (and the review timing tables above) are rolled up as evidence is written, by a trigger in the same transaction: exactly
-- once per stored event (retries store nothing new), the same on every API replica, unaffected by
-- restarts, and a scrape reads a handful of rows however many actions there are. Rows are spread
-- over 8 shards by action so concurrent writers rarely wait for the same counter row.
CREATE TABLE metric_rollups (
  metric text NOT NULL,
  labels jsonb NOT NULL,
  shard  smallint NOT NULL,
  value  double precision NOT NULL,
  PRIMARY KEY (metric, labels, shard)
);

CREATE FUNCTION bump_metric_rollup(p_metric text, p_labels jsonb, p_shard smallint, p_value double precision)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO metric_rollups (metric, labels, shard, value) VALUES (p_metric, p_labels, p_shard, p_value)
  ON CONFLICT (metric, labels, shard) DO UPDATE SET value = metric_rollups.value + EXCLUDED.value
$$;

CREATE FUNCTION roll_up_action_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_shard   smallint := abs(hashtext(NEW.action_id)) % 8;
  v_action  record;
  v_opened  record;
  v_seconds double precision;
  v_le      text;
BEGIN
  -- Metrics must never cost evidence: any failure here is logged and the event is stored anyway.
  BEGIN
    IF NEW.event_key = 'decided' AND NEW.type LIKE 'action.%' THEN
      SELECT action_type, COALESCE(risk, 'unknown') AS risk INTO v_action FROM actions WHERE id = NEW.action_id;
      PERFORM bump_metric_rollup('actions_decided_total',
        jsonb_build_object('action_type', v_action.action_type, 'risk', v_action.risk, 'outcome', substr(NEW.type, 8)), v_shard, 1);
    ELSIF NEW.event_key = 'completed' THEN
      PERFORM bump_metric_rollup('actions_completed_total', jsonb_build_object('status', COALESCE(NEW.data->>'status', 'unknown')), v_shard, 1);
    ELSIF NEW.type IN ('review.requested', 'review.escalated') THEN
      INSERT INTO review_tiers (action_id, tier, groups, assignees, opened_at, due_at, action_created_at)
      SELECT NEW.action_id, COALESCE((NEW.data->>'tier')::int, 0),
             ARRAY(SELECT jsonb_array_elements_text(COALESCE(NEW.data->'groups', '[]'::jsonb))),
             ARRAY(SELECT jsonb_array_elements_text(COALESCE(NEW.data->'assignees', '[]'::jsonb))),
             NEW.occurred_at, (NEW.data->>'dueAt')::timestamptz, a.created_at
        FROM actions a WHERE a.id = NEW.action_id
      ON CONFLICT (action_id, tier) DO NOTHING;
      IF NEW.type = 'review.escalated' THEN
        PERFORM bump_metric_rollup('review_escalations_total', jsonb_build_object('tier', COALESCE(NEW.data->>'tier', 'unknown')), v_shard, 1);
      END IF;
    ELSIF NEW.type IN ('review.approved', 'review.denied', 'review.approved_with_edit') THEN
      -- Opened: when the reviewer was first asked (the first tier naming them), else the first tier.
      SELECT t.opened_at, t.groups, a.created_at INTO v_opened
        FROM review_tiers t JOIN actions a ON a.id = t.action_id
       WHERE t.action_id = NEW.action_id
       ORDER BY t.assignees @> ARRAY[COALESCE(NEW.actor, '')] DESC, t.tier
       LIMIT 1;
      IF v_opened.opened_at IS NOT NULL THEN
        v_seconds := greatest(0, extract(epoch FROM NEW.occurred_at - v_opened.opened_at));
        INSERT INTO review_votes (action_id, reviewer, verdict, opened_at, voted_at, seconds, groups, action_created_at)
        VALUES (NEW.action_id, COALESCE(NEW.actor, 'unknown'), substr(NEW.type, 8), v_opened.opened_at, NEW.occurred_at, v_seconds,
                v_opened.groups, v_opened.created_at)
        ON CONFLICT (action_id, reviewer) DO NOTHING;
        -- Keep in step with REVIEW_RESPONSE_BUCKETS in src/metrics/prometheus-metrics.ts.
        SELECT COALESCE(min(b)::text, '+Inf') INTO v_le
          FROM unnest(ARRAY[5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400]::double precision[]) b
         WHERE v_seconds <= b;
        PERFORM bump_metric_rollup('review_response_seconds_bucket',
          jsonb_build_object('verdict', substr(NEW.type, 8), 'le', v_le), v_shard, 1);
        PERFORM bump_metric_rollup('review_response_seconds_sum', jsonb_build_object('verdict', substr(NEW.type, 8)), v_shard, v_seconds);
      END IF;
    ELSIF NEW.type IN ('execution.succeeded', 'execution.failed', 'execution.reported', 'execution.mismatch', 'execution.unconfirmed') THEN
      PERFORM bump_metric_rollup('executions_total', jsonb_build_object('result', substr(NEW.type, 11)), v_shard, 1);
    ELSIF NEW.type IN ('notification.sent', 'notification.partially_failed') THEN
      PERFORM bump_metric_rollup('notifications_total', jsonb_build_object('result', substr(NEW.type, 14)), v_shard, 1);
    END IF;
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'metric roll-up skipped for % %: %', NEW.action_id, NEW.event_key, SQLERRM;
  END;
  RETURN NULL;
END;
$$;

CREATE TRIGGER action_events_metric_rollup
  AFTER INSERT ON action_events
  FOR EACH ROW EXECUTE FUNCTION roll_up_action_event();

-- ---- Policy shadow mode -------------------------------------------------------------------------
-- What a candidate policy would have decided, beside what the live policy did. Kept out of the hash
-- chain on purpose: the chain records what happened; this is a hypothesis about another policy.
CREATE TABLE policy_shadow_results (
  action_id         text NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
  candidate_version text NOT NULL,
  live_version      text NOT NULL,
  action_type       text NOT NULL,
  live_outcome      text NOT NULL,
  live_risk         text NOT NULL,
  live_rules        text[] NOT NULL,
  candidate_outcome text NOT NULL,
  candidate_risk    text NOT NULL,
  candidate_rules   text[] NOT NULL,
  candidate_rule    text,                           -- the rule that decided for the candidate; null: its default
  candidate_reason  text NOT NULL,
  differs           boolean NOT NULL,               -- outcome or risk differs
  evaluated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (action_id, candidate_version)
);

CREATE INDEX policy_shadow_results_candidate ON policy_shadow_results (candidate_version, evaluated_at);

-- ---- Signed checkpoints and retention ----------------------------------------------------------
-- A checkpoint signs (Ed25519) the chain heads that changed since the previous one, and links to
-- the previous checkpoint's digest. Folding all checkpoints gives the last signed head of every
-- chain, so a deleted action or a cut-off tail is detected by `audit verify`.
CREATE TABLE audit_checkpoints (
  id           bigint PRIMARY KEY CHECK (id > 0),
  kind         text NOT NULL CHECK (kind IN ('scheduled', 'manual', 'prune')),
  created_at   timestamptz NOT NULL,
  prev_digest  text,
  heads_digest text NOT NULL,
  head_count   integer NOT NULL,
  pruned_count integer NOT NULL,
  key_id       text NOT NULL,
  digest       text NOT NULL,                       -- sha256 of the signed statement
  signature    text NOT NULL                        -- base64 Ed25519 signature of the statement
);

CREATE TABLE audit_checkpoint_heads (
  checkpoint_id bigint NOT NULL REFERENCES audit_checkpoints (id) DEFERRABLE INITIALLY DEFERRED,
  action_id     text COLLATE "C" NOT NULL,          -- byte order: the order the heads digest is computed in
  seq           integer NOT NULL,
  hash          text NOT NULL,
  pruned        boolean NOT NULL DEFAULT false,     -- retention removed this action after signing its head
  PRIMARY KEY (checkpoint_id, action_id)
);

CREATE INDEX audit_checkpoint_heads_action ON audit_checkpoint_heads (action_id, checkpoint_id DESC);

CREATE FUNCTION reject_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (% rejected)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION reject_audit_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION reject_audit_change();
CREATE TRIGGER audit_checkpoint_heads_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint_heads
  FOR EACH ROW EXECUTE FUNCTION reject_audit_change();
CREATE TRIGGER audit_checkpoint_heads_no_truncate BEFORE TRUNCATE ON audit_checkpoint_heads
  FOR EACH STATEMENT EXECUTE FUNCTION reject_audit_change();

-- Retention and append-only: an event may be deleted only once the newest checkpoint naming its
-- action has signed it as pruned. Everything else is refused as before, so every deletion leaves a
-- signed record (a forged record fails `audit verify`).
CREATE OR REPLACE FUNCTION reject_evidence_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND (
    SELECT h.pruned FROM audit_checkpoint_heads h WHERE h.action_id = OLD.action_id ORDER BY h.checkpoint_id DESC LIMIT 1
  ) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'action_events is append-only (% rejected)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Removes the actions a prune checkpoint signed as pruned: their events, every row that references
-- them (any table with a foreign key to actions), then the actions. Returns the actions removed.
CREATE FUNCTION audit_prune_actions(p_checkpoint bigint) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_ref     record;
  v_removed integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM audit_checkpoints WHERE id = p_checkpoint AND kind = 'prune') THEN
    RAISE EXCEPTION 'checkpoint % is not a prune checkpoint', p_checkpoint;
  END IF;
  DELETE FROM action_events e USING audit_checkpoint_heads h
   WHERE h.checkpoint_id = p_checkpoint AND h.pruned AND e.action_id = h.action_id;
  FOR v_ref IN
    SELECT c.conrelid::regclass AS tbl, a.attname AS col
      FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     WHERE c.contype = 'f' AND c.confrelid = 'actions'::regclass AND c.conrelid <> 'action_events'::regclass
  LOOP
    EXECUTE format('DELETE FROM %s t USING audit_checkpoint_heads h WHERE h.checkpoint_id = $1 AND h.pruned AND t.%I = h.action_id',
                   v_ref.tbl, v_ref.col) USING p_checkpoint;
  END LOOP;
  DELETE FROM actions a USING audit_checkpoint_heads h
   WHERE h.checkpoint_id = p_checkpoint AND h.pruned AND a.id = h.action_id;
  GET DIAGNOSTICS v_removed = ROW_COUNT;
  RETURN v_removed;
END;
$$;

-- Checkpoints find the chains that changed since the previous one by the time events were stored.
CREATE INDEX action_events_recorded ON action_events (recorded_at);
