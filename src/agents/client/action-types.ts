/**
 * What the Holdpoint API sends and accepts, as the client sees it. Only type imports from
 * src/shared, so the client stays free of server code (test/unit/client-types.test.ts checks
 * these stay assignable from the API's own view).
 */
import type { ActionDescriptor, ActionRequest, AgentIdentity, ExecutionMode, JsonObject, JsonValue, ResourceRef } from '../../shared/action';
import type { ActionStatus, FinalDecision } from '../../shared/action-state';
import type { PolicyOutcome, RiskTier } from '../../shared/policy';

export type { ActionDescriptor, ActionStatus, AgentIdentity, ExecutionMode, JsonObject, JsonValue, PolicyOutcome, ResourceRef, RiskTier };

/** The body of `POST /v1/actions`. */
export type SubmitActionRequest = ActionRequest;

export interface ReviewView {
  /** 1-based tier currently active. */
  tier: number;
  tiers: number;
  assignees: string[];
  dueAt: string | null;
  approvals: number;
  approvalsNeeded: number;
  editableFields: string[];
}

export interface DecisionView {
  verdict: FinalDecision['verdict'];
  by: string[];
  rationale: string | null;
  at: string;
}

export interface ExecutionView {
  mode: ExecutionMode;
  executor?: string;
  result?: JsonValue;
  error?: string;
  executedPayloadHash?: string;
  reportedAt?: string;
}

/** One action as `GET /v1/actions/:id` returns it. */
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
  links: { self: string; wait: string; evidence: string; temporal?: string };
}

/** The body of `POST /v1/actions/:id/execution` (agent execution mode). */
export interface ExecutionReport {
  /** What the agent actually executed; anything but the approved payload is recorded as a mismatch. */
  payload: JsonObject;
  succeeded: boolean;
  result?: JsonValue;
  error?: string;
}

export type WaitMilestone = 'decided' | 'completed';
