-- Rolling counters for the limit ledger (007), so that a window's aggregates read a bounded number
-- of rows however busy the scope is.
--
-- limit_buckets holds, per scope and hour, how many of the scope's ledger rows submitted in that
-- hour count by default (every status but a refusal: DEFAULT_COUNTED_STATUSES in
-- src/policy/limits.ts), and the sum of their amounts. Triggers on limit_ledger keep it in step
-- in the transaction that writes the ledger (admission's insert, the status trigger's update,
-- retention's delete), so one statement reading both sees one state. Only what changes the
-- default total touches a bucket: a new row, a refusal, an approved amount, a removal. A status
-- change within the counted set (classifying, executing, executed...) does not.
--
-- A window (since, ∞) of a limit that counts the default set is read as the ledger rows after
-- `since` in its first, partial hour plus the buckets of every later hour: exact, since an hour
-- comes from the buckets only when all of it lies inside the window. A 24 h window reads at most
-- 24 bucket rows and one hour of the scope's ledger rows. A limit that lists its own statuses
-- reads the ledger rows of its whole window, as before. The ledger stays the record: an auditor
-- recomputes an aggregate from it, and shadow candidates read it.
--
-- limit_admit replaces limit_admission (007) for admission; 007's limit_admission and
-- limit_aggregates keep working, over the counters, for a process still running the previous code.

-- The statuses in a fixed order: bit n - 1 of a status mask is status n. The same list and order as
-- LIMIT_STATUSES in src/policy/limits.ts (a test compares them).
CREATE FUNCTION limit_statuses() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY['classifying', 'pending_review', 'approved', 'allowed', 'executing', 'awaiting_report', 'executed',
               'execution_failed', 'mismatch', 'unconfirmed', 'failed', 'denied', 'auto_denied', 'expired', 'cancelled']
$$;

CREATE FUNCTION limit_status_mask(p_statuses text[]) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(bit_or(1 << (array_position(limit_statuses(), s) - 1)), 0)::integer FROM unnest(p_statuses) AS s
$$;

-- Whether a row in this status counts by default, and the mask of those statuses.
CREATE FUNCTION limit_counted(p_status text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT p_status NOT IN ('denied', 'auto_denied', 'expired', 'cancelled')
$$;

CREATE FUNCTION limit_default_mask() RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT limit_status_mask(ARRAY(SELECT s FROM unnest(limit_statuses()) AS s WHERE limit_counted(s)))
$$;

-- The hour a submission time falls in, the same whatever the session's time zone.
CREATE FUNCTION limit_bucket_of(p_at timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT date_bin('1 hour', p_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')
$$;

CREATE TABLE limit_buckets (
  scope_key text NOT NULL,
  -- Start of the hour (limit_bucket_of of its rows' `at`).
  bucket    timestamptz NOT NULL,
  -- The hour's ledger rows that count by default, and the sum of their amounts (null adds 0).
  counted   integer NOT NULL,
  amount    numeric NOT NULL,
  PRIMARY KEY (scope_key, bucket)
-- Admissions update their scopes' current hour: room for those updates to stay heap-only.
) WITH (fillfactor = 80);

-- Adds a row's part of the default total to its bucket (p_sign 1) or takes it off (-1); an hour
-- left with nothing is dropped.
CREATE FUNCTION limit_bucket_add(p_key text, p_at timestamptz, p_amount numeric, p_sign integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_left integer;
BEGIN
  IF p_sign > 0 THEN
    INSERT INTO limit_buckets AS t (scope_key, bucket, counted, amount) VALUES (p_key, limit_bucket_of(p_at), 1, coalesce(p_amount, 0))
    ON CONFLICT (scope_key, bucket) DO UPDATE SET counted = t.counted + 1, amount = t.amount + excluded.amount;
    RETURN;
  END IF;
  UPDATE limit_buckets SET counted = counted - 1, amount = amount - coalesce(p_amount, 0)
   WHERE scope_key = p_key AND bucket = limit_bucket_of(p_at)
  RETURNING counted INTO v_left;
  IF v_left = 0 THEN
    DELETE FROM limit_buckets WHERE scope_key = p_key AND bucket = limit_bucket_of(p_at);
  END IF;
END;
$$;

-- A new row adds to its hour: one statement per insert, in key order, so that two transactions
-- lock shared buckets in the same order (and an admission, whose scopes are locked, never waits).
CREATE FUNCTION limit_ledger_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO limit_buckets AS t (scope_key, bucket, counted, amount)
  SELECT n.scope_key, limit_bucket_of(n.at), count(*), coalesce(sum(n.amount), 0)
    FROM new_rows n
   WHERE limit_counted(n.status)
   GROUP BY 1, 2
   ORDER BY 1, 2
  ON CONFLICT (scope_key, bucket) DO UPDATE SET counted = t.counted + excluded.counted, amount = t.amount + excluded.amount;
  RETURN NULL;
END;
$$;

-- A changed or removed row, one statement per row; only a refusal, an approved amount or retention
-- gets here (see the triggers' conditions). Writers that change several rows of one action do so
-- in scope-key order (sync_limit_ledger), so two transactions lock shared buckets in the same
-- order and never wait on each other in a cycle.
CREATE FUNCTION limit_ledger_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was_counted boolean := limit_counted(OLD.status);
  is_counted boolean := TG_OP = 'UPDATE' AND limit_counted(NEW.status);
BEGIN
  IF was_counted AND is_counted AND OLD.scope_key = NEW.scope_key AND limit_bucket_of(OLD.at) = limit_bucket_of(NEW.at) THEN
    -- An approved amount.
    UPDATE limit_buckets SET amount = amount - coalesce(OLD.amount, 0) + coalesce(NEW.amount, 0)
     WHERE scope_key = NEW.scope_key AND bucket = limit_bucket_of(NEW.at);
    RETURN NULL;
  END IF;
  IF was_counted THEN
    PERFORM limit_bucket_add(OLD.scope_key, OLD.at, OLD.amount, -1);
  END IF;
  IF is_counted THEN
    PERFORM limit_bucket_add(NEW.scope_key, NEW.at, NEW.amount, 1);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER limit_ledger_buckets_insert AFTER INSERT ON limit_ledger
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION limit_ledger_inserted();
-- A status change within the counted set (or within the refusals) leaves the default total alone.
CREATE TRIGGER limit_ledger_buckets_update AFTER UPDATE ON limit_ledger
  FOR EACH ROW WHEN (limit_counted(OLD.status) IS DISTINCT FROM limit_counted(NEW.status)
                     OR (limit_counted(NEW.status) AND OLD.amount IS DISTINCT FROM NEW.amount)
                     OR OLD.scope_key IS DISTINCT FROM NEW.scope_key OR OLD.at IS DISTINCT FROM NEW.at)
  EXECUTE FUNCTION limit_ledger_changed();
CREATE TRIGGER limit_ledger_buckets_delete AFTER DELETE ON limit_ledger
  FOR EACH ROW WHEN (limit_counted(OLD.status)) EXECUTE FUNCTION limit_ledger_changed();

-- The rows already in the ledger. The triggers were created first, and creating them locked the
-- ledger against writes until this transaction commits: no row is missed or counted twice.
INSERT INTO limit_buckets (scope_key, bucket, counted, amount)
SELECT scope_key, limit_bucket_of(at), count(*), coalesce(sum(amount), 0)
  FROM limit_ledger
 WHERE limit_counted(status)
 GROUP BY 1, 2;

-- As in 007. A change that moves the action in or out of the default total, or changes its
-- amount (an approved edit), touches its buckets: then its rows are updated in scope-key order,
-- so the buckets are locked in that order (the sorted sub-select drives a nested loop over the
-- primary key; joined on its columns, not on NEW.id, which would let the planner take the rows in
-- index order). Any other change (classifying, executing, executed, an approval of the payload as
-- submitted: the amounts are read from the same payload) touches no bucket, and takes the rows as
-- they come.
CREATE OR REPLACE FUNCTION sync_limit_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF limit_counted(OLD.status) = limit_counted(NEW.status)
     AND coalesce(OLD.approved_payload, OLD.payload) = coalesce(NEW.approved_payload, NEW.payload) THEN
    UPDATE limit_ledger l
       SET status = NEW.status
     WHERE l.action_id = NEW.id AND l.status IS DISTINCT FROM NEW.status;
    RETURN NULL;
  END IF;
  UPDATE limit_ledger l
     SET status = NEW.status,
         amount = limit_ledger_amount(coalesce(NEW.approved_payload, NEW.payload), l.amount_path)
    FROM (SELECT r.scope_key, r.at, r.action_id FROM limit_ledger r WHERE r.action_id = NEW.id ORDER BY r.scope_key) o
   WHERE l.scope_key = o.scope_key AND l.at = o.at AND l.action_id = o.action_id
     AND (l.status IS DISTINCT FROM NEW.status
          OR l.amount IS DISTINCT FROM limit_ledger_amount(coalesce(NEW.approved_payload, NEW.payload), l.amount_path));
  RETURN NULL;
END;
$$;

-- The aggregates of several limits for one request, one row per limit (limit_index from 0, in the
-- order given): the scope's ledger rows submitted after `since` (no upper bound) whose status is in
-- the mask, counted and summed, leaving out p_exclude_action's rows.
--   edge: for the default mask, the first hour boundary after `since`; rows in (since, edge) are
--         read from the ledger, rows from `edge` on from the buckets, which count the excluded
--         action's rows too: those (found by action id, once for all limits) are taken off
--         again. For another mask the edge is infinity: the ledger alone, the whole window.
-- Inlined into the functions below, which run it with a generic plan (the plan does not depend on
-- the arguments, and planning it costs more than running it).
CREATE FUNCTION limit_aggregate_rows(p_keys text[], p_since timestamptz[], p_masks integer[], p_exclude_action text)
RETURNS TABLE (limit_index integer, counted integer, total numeric) LANGUAGE sql STABLE AS $$
  WITH excluded AS MATERIALIZED (
    SELECT l.scope_key, l.at, l.status, l.amount FROM limit_ledger l WHERE l.action_id = p_exclude_action
  )
  SELECT (s.n - 1)::integer, (e.counted + b.counted - x.counted)::integer, e.total + b.total - x.total
    FROM unnest(p_keys, p_since, p_masks) WITH ORDINALITY AS s(key, since, mask, n)
    CROSS JOIN LATERAL (
      SELECT CASE WHEN s.mask = limit_default_mask() THEN limit_bucket_of(s.since) + interval '1 hour' ELSE 'infinity' END AS edge
    ) p
    CROSS JOIN LATERAL (
      SELECT count(*) AS counted, coalesce(sum(l.amount), 0) AS total
        FROM limit_ledger l
       WHERE l.scope_key = s.key AND l.at > s.since AND l.at < p.edge
         AND s.mask & (1 << (array_position(limit_statuses(), l.status) - 1)) <> 0 AND l.action_id IS DISTINCT FROM p_exclude_action
    ) e
    CROSS JOIN LATERAL (
      SELECT coalesce(sum(t.counted), 0) AS counted, coalesce(sum(t.amount), 0) AS total
        FROM limit_buckets t
       WHERE t.scope_key = s.key AND t.bucket >= p.edge
    ) b
    CROSS JOIN LATERAL (
      SELECT count(*) AS counted, coalesce(sum(x.amount), 0) AS total
        FROM excluded x
       WHERE x.scope_key = s.key AND x.at >= p.edge AND limit_counted(x.status)
    ) x
$$;

-- Reads without locking or recording (dry runs, reviewers' edits, shadow mode).
CREATE FUNCTION limit_read(p_keys text[], p_since timestamptz[], p_masks integer[], p_exclude_action text)
RETURNS TABLE (limit_index integer, counted integer, total numeric) LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  RETURN QUERY SELECT * FROM limit_aggregate_rows(p_keys, p_since, p_masks, p_exclude_action);
END;
$$;

-- Admission's part, in one round trip: lock the scopes (ascending, so two admissions sharing scopes
-- never wait on each other in a cycle), read the aggregates of everything admitted before, and
-- record the action in each scope (p_amounts: its summed amount per key, null when it adds
-- nothing; p_paths: the summed field, '.'-separated, null for a limit that only counts). The read
-- is a statement of its own, so its snapshot sees every admission that held these locks before
-- this one; the locks are held until the admission transaction ends, so the next one sees this
-- action.
CREATE FUNCTION limit_admit(p_action_id text, p_submitted_at timestamptz, p_locks bigint[], p_keys text[], p_since timestamptz[],
                            p_masks integer[], p_amounts numeric[], p_paths text[])
RETURNS TABLE (limit_index integer, counted integer, total numeric) LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(lock_id) FROM unnest(p_locks) AS lock_id ORDER BY lock_id;
  -- One statement: its read does not see the rows its insert adds.
  RETURN QUERY
  WITH recorded AS (
    INSERT INTO limit_ledger (scope_key, at, action_id, status, amount, amount_path)
    SELECT DISTINCT ON (k.key) k.key, p_submitted_at, p_action_id, 'classifying', k.amount, string_to_array(k.path, '.')
      FROM unnest(p_keys, p_amounts, p_paths) AS k(key, amount, path)
     ORDER BY k.key
    ON CONFLICT DO NOTHING
  )
  SELECT * FROM limit_aggregate_rows(p_keys, p_since, p_masks, NULL);
END;
$$;

-- 007's read over the counters, for a process still running the previous code.
CREATE OR REPLACE FUNCTION limit_aggregates(p_limits jsonb, p_exclude_action text)
RETURNS TABLE (limit_index integer, counted integer, total numeric) LANGUAGE sql STABLE AS $$
  SELECT r.limit_index, r.counted, r.total
    FROM limit_read(
           ARRAY(SELECT e->>'key' FROM jsonb_array_elements(p_limits) WITH ORDINALITY AS x(e, n) ORDER BY n),
           ARRAY(SELECT (e->>'since')::timestamptz FROM jsonb_array_elements(p_limits) WITH ORDINALITY AS x(e, n) ORDER BY n),
           ARRAY(SELECT limit_status_mask(ARRAY(SELECT jsonb_array_elements_text(e->'statuses')))
                   FROM jsonb_array_elements(p_limits) WITH ORDINALITY AS x(e, n) ORDER BY n),
           p_exclude_action) r
$$;
