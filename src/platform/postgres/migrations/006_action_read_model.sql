-- The read model of an action: the workflow's state as of its last stored step. Agents' reads and
-- waits are answered from here, so waiting never holds a Temporal Update or query.
-- json, not jsonb: the payload inside reads back byte for byte as the agent sent it (key order kept).
ALTER TABLE actions ADD COLUMN state json;
-- Concurrent writers of one action (a vote beside an escalation) may commit out of order; the
-- newest snapshot wins.
ALTER TABLE actions ADD COLUMN state_revision integer;

-- Waiters wake on a change: the NOTIFY is sent in the same transaction as the change, so a woken
-- waiter always reads the committed row.
CREATE FUNCTION notify_action_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('holdpoint_action_changed', NEW.id);
  RETURN NULL;
END;
$$;

CREATE TRIGGER actions_changed
  AFTER INSERT OR UPDATE OF status, state ON actions
  FOR EACH ROW EXECUTE FUNCTION notify_action_changed();

-- Break-glass approvals and actions that failed for good are counted like the other roll-ups.
CREATE FUNCTION roll_up_override_and_failure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    IF NEW.type = 'review.break_glass' THEN
      PERFORM bump_metric_rollup('break_glass_total',
        jsonb_build_object('action_type', (SELECT action_type FROM actions WHERE id = NEW.action_id)), (abs(hashtext(NEW.action_id)) % 8)::smallint, 1);
    ELSIF NEW.type = 'action.failed' THEN
      PERFORM bump_metric_rollup('actions_failed_total', '{}'::jsonb, (abs(hashtext(NEW.action_id)) % 8)::smallint, 1);
    END IF;
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'metric roll-up skipped for % %: %', NEW.action_id, NEW.event_key, SQLERRM;
  END;
  RETURN NULL;
END;
$$;

CREATE TRIGGER action_events_override_and_failure
  AFTER INSERT ON action_events
  FOR EACH ROW WHEN (NEW.type IN ('review.break_glass', 'action.failed'))
  EXECUTE FUNCTION roll_up_override_and_failure();
