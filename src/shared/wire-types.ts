/**
 * What the Holdpoint API sends and accepts: one definition for all sides. The API's zod schemas
 * must describe exactly these (each is checked with `Exactly` at compile time), the services build
 * them, and the TypeScript client and the console import them by `import type` only. Nothing here
 * may import the Temporal SDK, even as a type: the client (`holdpoint/client`) type-checks through
 * this file (test/unit/client-import-graph.test.ts); src/shared/messages.ts builds on it instead.
 */
import type { ActionDescriptor, ActionRequest, AgentIdentity, JsonObject, JsonValue, ResourceRef } from './action';
import type { ActionStatus, ExecutionRecord, FinalDecision, Verdict } from './action-state';
import type { PolicyDecision, PolicyOutcome, RiskTier } from './policy';

/**
 * `true` when `Actual` is exactly `Wire`. A schema of a wire type is checked twice: `satisfies z.ZodType<Wire>`
 * catches one that lacks or mistypes a field (with a readable error); `Assert<Exactly<z.output<typeof schema>, Wire>>`
 * also catches one documenting a field the type lacks, or a field optional on one side only.
 */
export type Exactly<Actual, Wire> = (<T>() => T extends Actual ? 1 : 2) extends <T>() => T extends Wire ? 1 : 2 ? true : false;
/** Compiles only for `true`. */
export type Assert<T extends true> = T;

/** Every ActionStatus, to validate one read back from storage or a query string against. */
export const ACTION_STATUSES = [
  'classifying',
  'pending_review',
  'approved',
  'denied',
  'expired',
  'cancelled',
  'allowed',
  'auto_denied',
  'executing',
  'executed',
  'execution_failed',
  'awaiting_report',
  'mismatch',
  'unconfirmed',
  'failed',
] as const satisfies readonly ActionStatus[];
type _AllStatuses = Assert<Exactly<(typeof ACTION_STATUSES)[number], ActionStatus>>;

/** The body of `POST /v1/actions`. */
export type SubmitActionRequest = ActionRequest;

/** How long `?wait` / `/wait` hold: until the action is decided, or until it is also executed and recorded. */
export type WaitMilestone = 'decided' | 'completed';

export interface ReviewView {
  /** 1-based tier currently active. */
  tier: number;
  tiers: number;
  assignees: string[];
  dueAt: string | null;
  approvals: number;
  approvalsNeeded: number;
  editableFields: string[];
  /** The payload approvals currently apply to: the submitted one, or a reviewer's edit of it. */
  candidatePayload: JsonObject;
  /** Send it as `payloadHash` when approving. */
  candidatePayloadHash: string;
}

export interface DecisionView {
  verdict: FinalDecision['verdict'];
  by: string[];
  rationale: string | null;
  at: string;
  /** An admin approved outside the routed tiers (recorded as `review.break_glass`). */
  breakGlass?: boolean;
}

export type ExecutionView = ExecutionRecord;

export interface ActionLinks {
  self: string;
  wait: string;
  evidence: string;
  /** The workflow in the Temporal UI, when the API knows its address. */
  temporal?: string;
}

/** One action as `GET /v1/actions/:id` (and every call that changes an action) returns it. */
export interface ActionView {
  id: string;
  status: ActionStatus;
  outcome: PolicyOutcome | null;
  risk: RiskTier | null;
  matchedRules: string[];
  reason: string | null;
  policyVersion: string | null;
  agent: AgentIdentity;
  action: ActionDescriptor;
  resource: ResourceRef;
  payload: JsonObject;
  payloadHash: string | null;
  review: ReviewView | null;
  decision: DecisionView | null;
  /** The payload to execute: the submitted one, or a reviewer's edit of it. */
  approvedPayload: JsonObject | null;
  approvedPayloadHash: string | null;
  execution: ExecutionView | null;
  links: ActionLinks;
}

/** One row of `GET /v1/actions` and of the reviewer inbox `GET /v1/reviews`. */
export interface ActionSummary {
  id: string;
  status: ActionStatus;
  outcome: PolicyOutcome | null;
  risk: RiskTier | null;
  actionType: string;
  agent: AgentIdentity;
  resource: Pick<ResourceRef, 'type' | 'id'>;
  reason: string | null;
  matchedRules: string[];
  assignees: string[];
  reviewGroups: string[];
  dueAt: string | null;
  decidedBy: string[];
  decidedAt: string | null;
  createdAt: string;
  links: Pick<ActionLinks, 'self'>;
}

export interface ActionPage {
  items: ActionSummary[];
  /** Pass as `?cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/**
 * The body of `POST /v1/actions/:id/decision`. The workflow's ReviewerDecision (src/shared/messages.ts) is this
 * plus who decides, which the API adds from the authenticated caller.
 */
export interface DecisionRequest {
  verdict: Verdict;
  rationale?: string;
  reasonCode?: string;
  /** Approve with an edited payload: only the fields the policy lets reviewers edit. */
  editedPayload?: JsonObject;
  /**
   * Hash of the candidate payload the reviewer was shown. An approval counts only for that exact
   * payload: a hash that is no longer the candidate is refused (PayloadChanged). Absent on an
   * approval: the payload as submitted, accepted only while it is still the candidate. A deny needs none.
   */
  payloadHash?: string;
  /** An admin's explicit override outside the routed tiers: needs a rationale, recorded as its own event. */
  breakGlass?: boolean;
}

/** The body of `POST /v1/actions/:id/execution` (agent execution mode), passed to the workflow as it is. */
export interface ExecutionReport {
  /** The payload the agent actually executed. */
  payload: JsonObject;
  succeeded: boolean;
  result?: JsonValue;
  error?: string;
}

/** One workflow step as the evidence store records it (src/shared/evidence-steps.ts builds them). */
export interface EvidenceEvent {
  actionId: string;
  /** The workflow step this event records; the same step is stored once however often it is retried. */
  eventKey: string;
  type: string;
  actor?: string;
  data: JsonObject;
  occurredAt: string;
}

/** A recorded step as the evidence endpoint lists it: the event, its place in the hash chain, when it was stored. */
export interface EvidenceRecord extends EvidenceEvent {
  seq: number;
  prevHash: string | null;
  hash: string;
  recordedAt: string;
}

/** `GET /v1/actions/:id/evidence`: the request, its policy decision and every recorded step, with the hash chain checked. */
export interface EvidenceBundle {
  action: ActionSummary;
  /** The `requested` step's data. */
  request: { request: ActionRequest; requestHash: string; payloadHash: string } | null;
  /** The `classified` step's data. */
  policyDecision: { decision: PolicyDecision; payloadHash: string } | null;
  notifications: EvidenceRecord[];
  reviewerActions: EvidenceRecord[];
  escalations: EvidenceRecord[];
  execution: EvidenceRecord[];
  hashes: { payload: string; approvedPayload: string | null; executedPayload: string | null };
  events: EvidenceRecord[];
  chain: { ok: boolean; events: number; breaks: { seq: number; problem: string }[] };
  temporal: { namespace: string; workflowId: string; runId: string | null; url?: string };
}

export interface ConsolePrincipal {
  id: string;
  role: 'reviewer' | 'admin';
  groups: string[];
}

/** `GET /v1/console/session`: who is signed in to the console. */
export interface ConsoleSession {
  principal: ConsolePrincipal;
  /** Send as `X-CSRF-Token` on every POST made with the session cookie. */
  csrfToken: string | null;
  expiresAt: string | null;
}

export type MetricsBucket = 'hour' | 'day' | 'week';

/** One row of `volume`: the count of one combination of the `groupBy` dimensions (only those are present). */
export interface MetricsVolumeRow {
  actionType?: string;
  /** `unclassified` before the policy has classified the action. */
  risk?: string;
  /** How the action ended up: allowed, approved, denied, auto_denied, expired, cancelled or pending. */
  outcome?: string;
  agentId?: string;
  count: number;
}

/** What `volume` can be grouped by. */
export type MetricsDimension = Exclude<keyof MetricsVolumeRow, 'count'>;

export interface MetricsResponseStats {
  decisions: number;
  /** Interpolated (percentile_cont), rounded to 0.1 s. */
  medianSeconds: number | null;
  p90Seconds: number | null;
}

export interface MetricsExecutionCounts {
  executions: number;
  executed: number;
  failed: number;
  mismatched: number;
  unconfirmed: number;
  inProgress: number;
  /** (failed + mismatched + unconfirmed) / finished executions. */
  problemRate: number;
}

/** `GET /v1/metrics`: approval metrics over the actions created in a window. */
export interface MetricsReport {
  window: { from: string; to: string; bucket: MetricsBucket; groupBy: MetricsDimension[] };
  /** `all` for admins; reviewers see the actions routed to them or their groups. */
  scope: 'all' | 'readable';
  volume: { total: number; rows: MetricsVolumeRow[] };
  volumeOverTime: { start: string; counts: Record<string, number> }[];
  responseTimes: MetricsResponseTimes;
  slaBreaches: {
    byTier: { tier: number; reached: number; breached: number; rate: number }[];
    byRisk: { risk: string; reviewed: number; breached: number; rate: number }[];
  };
  denialReasons: { actionType: string; denials: number; reasons: { reasonCode: string; count: number; rationales: string[] }[] }[];
  executionProblems: { total: MetricsExecutionCounts; byActionType: MetricsActionTypeExecutions[] };
  rubberStamp: { thresholdSeconds: number; byReviewer: { reviewer: string; approvals: number; fast: number; share: number }[] };
  ruleSuggestions: { rule: string; suggestion: 'allow' | 'deny'; decisions: number; approved: number; denied: number; share: number }[];
}

export interface MetricsResponseTimes extends MetricsResponseStats {
  /** Votes per response-time bucket; `upToSeconds` null is beyond the last bound. */
  histogram: { upToSeconds: number | null; count: number }[];
  byGroup: MetricsGroupResponseStats[];
  byReviewer: MetricsReviewerResponseStats[];
}

export interface MetricsGroupResponseStats extends MetricsResponseStats {
  group: string;
}

export interface MetricsReviewerResponseStats extends MetricsResponseStats {
  reviewer: string;
}

export interface MetricsActionTypeExecutions extends MetricsExecutionCounts {
  actionType: string;
}
