/** Shapes of the Holdpoint API responses the console reads (see /openapi.json). */

export type Risk = 'low' | 'medium' | 'high' | 'critical';
export type JsonObject = Record<string, unknown>;

export interface Principal {
  id: string;
  role: 'reviewer' | 'admin';
  groups: string[];
}

export interface Session {
  principal: Principal;
  csrfToken: string | null;
  expiresAt: string | null;
}

export interface ActionSummary {
  id: string;
  status: string;
  risk: Risk | null;
  actionType: string;
  agent: { id: string; onBehalfOf?: string };
  resource: { type: string; id: string };
  reason: string | null;
  matchedRules: string[];
  assignees: string[];
  reviewGroups: string[];
  dueAt: string | null;
  decidedBy: string[];
  decidedAt: string | null;
  createdAt: string;
}

export interface ActionPage {
  items: ActionSummary[];
  nextCursor: string | null;
}

export interface ActionView {
  id: string;
  status: string;
  risk: Risk | null;
  matchedRules: string[];
  reason: string | null;
  policyVersion: string | null;
  agent: { id: string; onBehalfOf?: string };
  action: { type: string; tool?: string; step?: string };
  resource: { type: string; id: string; attributes?: JsonObject };
  payload: JsonObject;
  payloadHash: string | null;
  review: {
    tier: number;
    tiers: number;
    assignees: string[];
    dueAt: string | null;
    approvals: number;
    approvalsNeeded: number;
    editableFields: string[];
    /** The payload approvals apply to now (the submitted one or a reviewer's edit), and its hash. */
    candidatePayload?: JsonObject;
    candidatePayloadHash?: string;
  } | null;
  /** `breakGlass`: an admin's approval outside the routed tiers (an override, recorded as `review.break_glass`). */
  decision: { verdict: string; by: string[]; rationale: string | null; at: string; breakGlass?: boolean } | null;
  approvedPayload: JsonObject | null;
  approvedPayloadHash: string | null;
  execution: JsonObject | null;
  links: { self: string; wait: string; evidence: string; temporal?: string };
}

export interface EvidenceEvent {
  seq: number;
  eventKey: string;
  type: string;
  actor?: string | null;
  data: JsonObject;
  occurredAt: string;
}

export interface EvidenceBundle {
  request: { request?: { context?: JsonObject; callbackUrl?: string; deadline?: string } } | null;
  events: EvidenceEvent[];
  chain: { ok: boolean; events: number };
  temporal: { namespace: string; workflowId: string; runId: string | null; url?: string };
}

export interface DecisionInput {
  verdict: 'approve' | 'deny';
  rationale?: string;
  reasonCode?: string;
  editedPayload?: JsonObject;
  /** Hash of the payload the reviewer was shown; an approval of anything else is refused (409). */
  payloadHash?: string;
  /** An admin's approval of an action not routed to them (rationale required); never sent with a deny. */
  breakGlass?: boolean;
}

/** `GET /v1/metrics` (the sections the dashboard shows). */
export interface Metrics {
  window: { from: string; to: string; bucket: 'hour' | 'day' | 'week' };
  scope: 'all' | 'readable';
  volume: { total: number };
  volumeOverTime: { start: string; counts: Record<string, number> }[];
  responseTimes: { decisions: number; medianSeconds: number | null; p90Seconds: number | null; histogram: { upToSeconds: number | null; count: number }[] };
  slaBreaches: {
    byTier: { tier: number; reached: number; breached: number; rate: number }[];
    byRisk: { risk: string; reviewed: number; breached: number; rate: number }[];
  };
  denialReasons: { actionType: string; denials: number; reasons: { reasonCode: string; count: number; rationales: string[] }[] }[];
  ruleSuggestions: { rule: string; suggestion: 'allow' | 'deny'; decisions: number; approved: number; denied: number; share: number }[];
}
