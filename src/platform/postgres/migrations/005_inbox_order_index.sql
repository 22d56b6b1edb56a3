-- The reviewer inbox reads pending actions soonest-deadline first; without an index in that order
-- it sorts every pending row of the reviewer (linear in the backlog).
CREATE INDEX actions_pending_inbox ON actions ((COALESCE(review_due_at, 'infinity'::timestamptz)), id)
  WHERE status = 'pending_review';
