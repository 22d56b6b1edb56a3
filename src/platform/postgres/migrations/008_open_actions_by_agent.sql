-- Issue 15: the per-agent cap on open actions (MAX_OPEN_ACTIONS_PER_AGENT) counts an agent's open
-- actions on every submission; this keeps that an index-only count of the open ones.
CREATE INDEX actions_open_by_agent ON actions (agent_id)
  WHERE status IN ('classifying', 'pending_review', 'approved', 'allowed', 'executing', 'awaiting_report');
