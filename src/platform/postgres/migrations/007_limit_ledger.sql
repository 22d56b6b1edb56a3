-- Issue 17: cumulative and velocity limits (policy `limits:`).
-- One row per action and limit scope it falls into, written by admission (limit_admission below)
-- in the transaction that stores the action, while it holds the scope's advisory lock. A row
-- carries what the aggregates need, so reading a window never touches `actions`: the action's
-- status and the summed amount, kept in step with the action by the trigger below (a refused
-- action stops counting in the transaction that stores the refusal; an approved edit counts with
-- the approved amount).
CREATE TABLE limit_ledger (
  -- Hash of the limit's ledger (action types, scope fields, summed field) and the scope's values.
  scope_key   text NOT NULL,
  -- The action's submission time (actions.created_at): what windows are measured against.
  at          timestamptz NOT NULL,
  -- Deferred: admission records the row before the action row itself, in the same transaction.
  action_id   text NOT NULL REFERENCES actions (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  status      text NOT NULL,
  -- The summed payload field where it is a JSON number (approved payload first); null adds nothing.
  amount      numeric,
  -- Where the amount is read from, for the trigger; null for limits that only count.
  amount_path text[],
  -- Also the window index: one range scan per (scope, since).
  PRIMARY KEY (scope_key, at, action_id)
-- Room on each page for the trigger's status updates to stay heap-only (no index entries).
) WITH (fillfactor = 80);

-- The trigger, retention (audit_prune_actions) and the foreign key find an action's rows by id.
CREATE INDEX limit_ledger_action ON limit_ledger (action_id);

CREATE FUNCTION limit_ledger_amount(p_payload jsonb, p_path text[]) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_path IS NOT NULL AND jsonb_typeof(p_payload #> p_path) = 'number' THEN (p_payload #> p_path)::numeric END
$$;

-- Status changes and approvals are written to actions by updateProjection only; this keeps the
-- ledger rows of the action in step, in the same transaction. Rows that already agree are left alone.
CREATE FUNCTION sync_limit_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE limit_ledger l
     SET status = NEW.status,
         amount = limit_ledger_amount(coalesce(NEW.approved_payload, NEW.payload), l.amount_path)
   WHERE l.action_id = NEW.id
     AND (l.status IS DISTINCT FROM NEW.status
          OR l.amount IS DISTINCT FROM limit_ledger_amount(coalesce(NEW.approved_payload, NEW.payload), l.amount_path));
  RETURN NULL;
END;
$$;

CREATE TRIGGER actions_limit_ledger
  AFTER UPDATE OF status, approved_payload ON actions
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.approved_payload IS DISTINCT FROM NEW.approved_payload)
  EXECUTE FUNCTION sync_limit_ledger();

-- The aggregates of several limits for one request, one row per entry of p_limits (in order):
-- [{ "key": scope_key, "since": timestamptz, "statuses": [...] }]. Counts the ledger rows of each
-- scope submitted after `since` with one of the statuses, and sums their amounts. STABLE: it reads
-- with the snapshot of the statement that calls it.
CREATE FUNCTION limit_aggregates(p_limits jsonb, p_exclude_action text)
RETURNS TABLE (limit_index integer, counted integer, total numeric) LANGUAGE sql STABLE AS $$
  SELECT (s.n - 1)::integer, agg.counted, agg.total
    FROM jsonb_array_elements(p_limits) WITH ORDINALITY AS s(spec, n)
    CROSS JOIN LATERAL (SELECT ARRAY(SELECT jsonb_array_elements_text(s.spec->'statuses')) AS statuses) p
    CROSS JOIN LATERAL (
      SELECT count(*)::integer AS counted, sum(l.amount) AS total
        FROM limit_ledger l
       WHERE l.scope_key = s.spec->>'key' AND l.at > (s.spec->>'since')::timestamptz
         AND l.status = ANY(p.statuses) AND l.action_id IS DISTINCT FROM p_exclude_action
    ) agg
$$;

-- Admission's part, in one round trip: lock the scopes (ascending, so two admissions sharing scopes
-- never wait on each other in a cycle), read the aggregates of everything admitted before, and
-- record the action in each scope ([{ "key", "since", "statuses", "amount", "path" }]). Each
-- statement of a VOLATILE function takes a new snapshot, so the read sees every admission that held
-- these locks before this one; the locks are held until the admission transaction ends, so the
-- next one sees this action.
CREATE FUNCTION limit_admission(p_action_id text, p_submitted_at timestamptz, p_locks bigint[], p_limits jsonb)
RETURNS TABLE (limit_index integer, counted integer, total numeric) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(lock_id) FROM unnest(p_locks) AS lock_id ORDER BY lock_id;
  RETURN QUERY SELECT * FROM limit_aggregates(p_limits, p_action_id);
  INSERT INTO limit_ledger (scope_key, at, action_id, status, amount, amount_path)
  SELECT DISTINCT ON (spec->>'key') spec->>'key', p_submitted_at, p_action_id, 'classifying', (spec->>'amount')::numeric,
         CASE WHEN spec ? 'path' THEN ARRAY(SELECT jsonb_array_elements_text(spec->'path')) END
    FROM jsonb_array_elements(p_limits) AS spec
  ON CONFLICT DO NOTHING;
END;
$$;
