import { actionWorkflowId } from '../../shared/action-state';
import type { JsonObject, JsonValue, ResourceRef } from '../../shared/action';
import type { ActionView, SubmitActionRequest } from '../../shared/wire-types';
import { HoldpointApiError, HoldpointError } from './errors';
import type { HoldpointClient } from './holdpoint-client';
import { isRefusedStatus, toExecution, toRefusal, type HoldpointExecution, type HoldpointRefusal } from './refusal';
import { awaitExecutionStart } from './execution-start';

/** What a guarded function learns about the approval it runs under. */
export interface GuardRunContext {
  action: ActionView;
  approvedPayload: JsonObject;
  /** True when a reviewer changed the payload before approving it. */
  edited: boolean;
  signal?: AbortSignal;
}

export type GuardEvent =
  | { type: 'submitted'; action: ActionView; created: boolean }
  | { type: 'waiting'; action: ActionView; waitedMs: number }
  | { type: 'decided'; action: ActionView };

export interface GuardOptions<Args, R = unknown> {
  client: HoldpointClient;
  /** Must be the principal of the client's API key. */
  agentId: string;
  onBehalfOf?: string;
  /** What the action touches; policies route and match on it (`billing:cus_123`). */
  resource: ResourceRef | ((args: Args) => ResourceRef);
  /** The payload reviewers see and approve. Default: the arguments themselves. */
  toPayload?: (args: Args) => JsonObject;
  /**
   * Arguments to run with, from the approved (possibly edited) payload. Default: the approved
   * payload itself when `toPayload` is not set, else the arguments with the payload's fields laid over them.
   */
  fromPayload?: (approvedPayload: JsonObject, args: Args) => Args;
  context?: JsonObject | ((args: Args) => JsonObject | undefined);
  /** Recorded as `action.tool` (the framework's tool name). */
  tool?: string;
  /** Default: a new key per call. Reuse a key (a tool-call id) to make a retried call resume the same action. */
  idempotencyKey?: (args: Args) => string;
  /** How long to wait for a decision overall. Default 5 minutes. */
  timeoutMs?: number;
  /** Longest single long-poll, in seconds (max 60). Default 30. */
  pollSeconds?: number;
  /**
   * When no decision arrives in time: `cancel` (default) withdraws the request, so an approval that
   * comes later cannot start an action the agent already reported as not done; `leave_pending`
   * leaves it for the reviewer (resume by calling again with the same idempotency key).
   */
  onTimeout?: 'cancel' | 'leave_pending';
  /** Progress: submitted, each long-poll that ended undecided, decided. */
  onUpdate?: (event: GuardEvent) => void;
  /** The result to record with the execution report. Default: the return value as JSON (large values abbreviated). */
  reportResult?: (value: R) => JsonValue | undefined;
  /** A return value that means failure (an MCP `isError` result): the message to report. */
  failureOf?: (value: R) => string | undefined;
  /** The execution report could not be delivered after retries. Default: a console warning. */
  onReportError?: (error: unknown, action: ActionView) => void;
}

export interface GuardCallOptions {
  idempotencyKey?: string;
  signal?: AbortSignal;
  onUpdate?: (event: GuardEvent) => void;
}

export type GuardedResult<R> = R | HoldpointRefusal | HoldpointExecution;
export type GuardedFunction<Args, R> = (args: Args, call?: GuardCallOptions) => Promise<GuardedResult<R>>;

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const REPORT_RESULT_LIMIT = 16_000;

/**
 * Wraps a tool function so it runs only once Holdpoint allows or a reviewer approves it, and
 * only with the approved payload. In agent execution mode the outcome is reported back; when
 * Holdpoint executes the action itself (server mode) `fn` is not called. Anything else returns a
 * `HoldpointRefusal` the calling model can read. Errors thrown by `fn` are reported, then rethrown.
 */
export function guard<Args extends object, R>(
  actionType: string,
  fn: (args: Args, context: GuardRunContext) => R | Promise<R>,
  options: GuardOptions<Args, Awaited<R>>,
): GuardedFunction<Args, Awaited<R>> {
  const { client } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const toPayload = options.toPayload ?? ((args: Args) => args as unknown as JsonObject);
  const fromPayload =
    options.fromPayload ??
    (options.toPayload ? (approved: JsonObject, args: Args) => ({ ...args, ...approved }) as Args : (approved: JsonObject) => approved as unknown as Args);

  return async function guarded(args: Args, call: GuardCallOptions = {}): Promise<GuardedResult<Awaited<R>>> {
    const started = Date.now();
    const remaining = () => Math.max(0, started + timeoutMs - Date.now());
    const emit = (event: GuardEvent) => {
      options.onUpdate?.(event);
      call.onUpdate?.(event);
    };
    const context = typeof options.context === 'function' ? options.context(args) : options.context;
    const request: SubmitActionRequest = {
      agent: { id: options.agentId, ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}) },
      action: { type: actionType, ...(options.tool ? { tool: options.tool } : {}) },
      resource: typeof options.resource === 'function' ? options.resource(args) : options.resource,
      // The wire form: what reviewers approve is exactly what JSON carries (undefined fields dropped).
      payload: JSON.parse(JSON.stringify(toPayload(args))) as JsonObject,
      ...(context ? { context } : {}),
    };
    const idempotencyKey = call.idempotencyKey ?? options.idempotencyKey?.(args) ?? globalThis.crypto.randomUUID();
    const pollSeconds = options.pollSeconds ?? 30;

    let action: ActionView;
    let reached: boolean;
    try {
      // No hold on the submit: the policy's answer comes back at once, so the caller hears "waiting
      // for alice" right away rather than after the first long-poll.
      const submitted = await client.submit(request, { idempotencyKey, signal: call.signal });
      action = submitted.action;
      emit({ type: 'submitted', action, created: submitted.created });
      reached = submitted.decided;
      if (!reached && remaining() > 0) {
        emit({ type: 'waiting', action, waitedMs: Date.now() - started });
        ({ action, reached } = await client.wait(action.id, {
          until: 'decided',
          timeoutMs: remaining(),
          pollSeconds,
          signal: call.signal,
          onPoll: (latest) => emit({ type: 'waiting', action: latest, waitedMs: Date.now() - started }),
        }));
      }
    } catch (err) {
      // The caller gave up (its own cancellation): withdraw, so nothing runs behind its back.
      if (call.signal?.aborted && options.onTimeout !== 'leave_pending') await withdraw(client, actionWorkflowId(options.agentId, idempotencyKey));
      throw err;
    }

    if (!reached) {
      if (options.onTimeout === 'leave_pending') return toRefusal(action, { waitedMs: Date.now() - started });
      action = await cancelOrRead(client, action.id);
      if (action.status === 'cancelled') return toRefusal(action, { waitedMs: Date.now() - started, withdrawn: true });
    }
    emit({ type: 'decided', action });
    return settle(action);

    async function settle(decided: ActionView): Promise<GuardedResult<Awaited<R>>> {
      let current = decided;
      if (current.status === 'approved' || current.status === 'allowed') current = await awaitExecutionStart(client, current, Math.max(remaining(), 15_000), call.signal);
      if (current.status === 'executing') {
        // Server mode: Holdpoint's executor runs it; give it at least a minute beyond our own budget.
        current = (await client.wait(current.id, { until: 'completed', timeoutMs: Math.max(remaining(), 60_000), pollSeconds, signal: call.signal })).action;
      }
      if (current.status === 'awaiting_report') return execute(current);
      if (current.status === 'executed' || current.status === 'execution_failed' || (current.status === 'executing' && current.execution?.mode === 'server')) {
        return toExecution(current);
      }
      if (isRefusedStatus(current.status)) return toRefusal(current);
      throw new HoldpointError(`action ${current.id} was approved but has not started executing (status ${current.status})`);
    }

    async function execute(approved: ActionView): Promise<Awaited<R>> {
      const approvedPayload = approved.approvedPayload ?? approved.payload;
      const runContext: GuardRunContext = { action: approved, approvedPayload, edited: approved.approvedPayloadHash !== approved.payloadHash, signal: call.signal };
      let value: Awaited<R>;
      try {
        value = await fn(fromPayload(approvedPayload, args), runContext);
      } catch (err) {
        await report(approved, { payload: approvedPayload, succeeded: false, error: errorMessage(err) });
        throw err;
      }
      const failure = options.failureOf?.(value);
      const result = options.reportResult ? options.reportResult(value) : toReportableJson(value);
      await report(approved, {
        payload: approvedPayload,
        succeeded: failure === undefined,
        ...(result === undefined ? {} : { result }),
        ...(failure === undefined ? {} : { error: failure.slice(0, 4_000) }),
      });
      return value;
    }

    async function report(approved: ActionView, body: Parameters<HoldpointClient['reportExecution']>[1]) {
      try {
        await client.reportExecution(approved.id, body);
      } catch (err) {
        (options.onReportError ?? warnReportFailed)(err, approved);
      }
    }
  };
}

/** Best effort: the submit may never have arrived (404) or the action may be decided already (409). */
async function withdraw(client: HoldpointClient, actionId: string) {
  await client.cancel(actionId, { reason: 'the agent stopped waiting for a decision' }).catch(() => undefined);
}

/** Cancels; if a decision won the race (409 not pending), answers with that decision instead. */
async function cancelOrRead(client: HoldpointClient, actionId: string): Promise<ActionView> {
  try {
    return await client.cancel(actionId, { reason: 'the agent stopped waiting for a decision' });
  } catch (err) {
    if (err instanceof HoldpointApiError && err.status === 409) return client.get(actionId);
    throw err;
  }
}

function toReportableJson(value: unknown): JsonValue | undefined {
  if (value === undefined) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return { unserializable: true, type: typeof value };
  }
  if (text === undefined) return undefined;
  if (text.length > REPORT_RESULT_LIMIT) return { abbreviated: true, preview: text.slice(0, 2_000), length: text.length };
  return JSON.parse(text) as JsonValue;
}

function errorMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 4_000) || 'failed';
}

function warnReportFailed(error: unknown, action: ActionView) {
  console.warn(`[holdpoint] could not report the execution of ${action.id}: ${errorMessage(error)}`);
}
