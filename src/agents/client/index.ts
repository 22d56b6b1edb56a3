/**
 * Holdpoint's TypeScript client: `createHoldpointClient` for the agent endpoints and `guard` to
 * put any tool function behind the gate. Import from `holdpoint/client` (or `src/client` in this repo).
 */
export { createHoldpointClient } from './holdpoint-client';
export type { HoldpointClient, HoldpointClientOptions, RequestOptions, SubmitOptions, SubmitResult, WaitOptions, WaitResult } from './holdpoint-client';
export { guard } from './guard';
export type { GuardCallOptions, GuardedFunction, GuardedResult, GuardEvent, GuardOptions, GuardRunContext } from './guard';
export { isHoldpointExecution, isRefusal, toExecution, toRefusal } from './refusal';
export type { HoldpointExecution, HoldpointRefusal, RefusalOutcome } from './refusal';
export { HoldpointApiError, HoldpointConnectionError, HoldpointError } from './errors';
export type { ProblemDetails } from './errors';
export { DEFAULT_RETRY_POLICY } from './retry-policy';
export type { RetryPolicy } from './retry-policy';
// The API's wire types and the request types they use: one definition shared with the server (src/shared).
export type { ActionDescriptor, AgentIdentity, ExecutionMode, JsonObject, JsonValue, ResourceRef } from '../../shared/action';
export type { ActionStatus } from '../../shared/action-state';
export type { PolicyOutcome, RiskTier } from '../../shared/policy';
export type { ActionLinks, ActionView, DecisionView, ExecutionReport, ExecutionView, ReviewView, SubmitActionRequest, WaitMilestone } from '../../shared/wire-types';
