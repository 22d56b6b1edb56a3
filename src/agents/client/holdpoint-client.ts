import { isDecided, isTerminal } from '../../shared/action-state';
import type { ActionView, ExecutionReport, SubmitActionRequest, WaitMilestone } from '../../shared/wire-types';
import { HoldpointApiError, HoldpointConnectionError, toProblemDetails } from './errors';
import { DEFAULT_RETRY_POLICY, isRetryableStatus, parseRetryAfter, retryDelayMs, sleep, type RetryPolicy } from './retry-policy';

export interface HoldpointClientOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:8080. */
  url: string;
  /** An agent's API key (`hp_…`); sent as a Bearer token. */
  apiKey: string;
  /** A fetch implementation (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy>;
  /** Per request, on top of the time a long-poll is asked to hold. Default 30 s. */
  requestTimeoutMs?: number;
}

export interface SubmitOptions {
  /** Names the action: a retry with the same key never creates a second one. Default: a random UUID. */
  idempotencyKey?: string;
  /** Hold the response up to this many seconds (max 60) for the milestone in `until`. */
  waitSeconds?: number;
  /** With `waitSeconds`: `decided` (default), or `completed` (a server-side execution is done and recorded). */
  until?: WaitMilestone;
  signal?: AbortSignal;
}

export interface SubmitResult {
  action: ActionView;
  /** False when the key named an action that already existed (a retry or a duplicate). */
  created: boolean;
  /** True once the action has its answer (allowed, approved, denied, expired, cancelled…). */
  decided: boolean;
  idempotencyKey: string;
}

export interface WaitOptions {
  until?: WaitMilestone;
  /** Overall time to wait, across as many long-polls as it takes. Default 30 s; 0 reads the state once. */
  timeoutMs?: number;
  /** Longest single long-poll (max 60 s, the API's limit). Default 30 s. */
  pollSeconds?: number;
  signal?: AbortSignal;
  /** Called after every long-poll that ended without reaching the milestone. */
  onPoll?: (action: ActionView) => void;
}

export interface WaitResult {
  action: ActionView;
  /** False when `timeoutMs` passed first; `action` is then the latest state. */
  reached: boolean;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface HoldpointClient {
  readonly url: string;
  /** `POST /v1/actions`: classify (and, with `waitSeconds`, decide) an action. */
  submit(request: SubmitActionRequest, options?: SubmitOptions): Promise<SubmitResult>;
  get(actionId: string, options?: RequestOptions): Promise<ActionView>;
  /** Long-polls `/wait`, re-polling until the milestone is reached or `timeoutMs` passes. */
  wait(actionId: string, options?: WaitOptions): Promise<WaitResult>;
  /** Withdraws a pending action. */
  cancel(actionId: string, options?: RequestOptions & { reason?: string }): Promise<ActionView>;
  /** Agent execution mode: what was executed, with which payload, and how it went. */
  reportExecution(actionId: string, report: ExecutionReport, options?: RequestOptions): Promise<ActionView>;
}

const MAX_HOLD_SECONDS = 60;

interface SendOptions extends RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Seconds the server may legitimately hold this request (long-poll). */
  holdSeconds?: number;
}

interface Reply<T> {
  status: number;
  body: T;
  retryAfterSeconds?: number;
}

export function createHoldpointClient(options: HoldpointClientOptions): HoldpointClient {
  const base = options.url.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const actionPath = (actionId: string) => `/v1/actions/${encodeURIComponent(actionId)}`;

  /** One logical call: retried on network errors, 429 and 5xx with the same request (and Idempotency-Key). */
  async function send<T>(method: string, path: string, { body, headers = {}, signal, holdSeconds = 0 }: SendOptions = {}): Promise<Reply<T>> {
    for (let attempt = 1; ; attempt++) {
      let failure: Error;
      let retryAfterSeconds: number | undefined;
      const attemptSignal = AbortSignal.any([
        ...(signal ? [signal] : []),
        AbortSignal.timeout(requestTimeoutMs + holdSeconds * 1000),
      ]);
      try {
        const response = await fetchImpl(`${base}${path}`, {
          method,
          headers: {
            accept: 'application/json, application/problem+json',
            authorization: `Bearer ${options.apiKey}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: attemptSignal,
        });
        const text = await response.text();
        const parsed: unknown = text ? safeJson(text) : undefined;
        retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
        if (response.ok) return { status: response.status, body: parsed as T, retryAfterSeconds };
        const error = new HoldpointApiError(response.status, toProblemDetails(response.status, response.statusText, parsed), attempt, retryAfterSeconds);
        if (!isRetryableStatus(response.status)) throw error;
        failure = error;
      } catch (err) {
        if (err instanceof HoldpointApiError) throw err;
        if (signal?.aborted) throw signal.reason;
        const reason = attemptSignal.aborted ? 'timed out' : err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
        failure = new HoldpointConnectionError(`cannot reach Holdpoint at ${base} (${method} ${path}): ${reason}`, attempt, { cause: err });
      }
      if (attempt >= policy.maxAttempts) throw failure;
      await sleep(retryDelayMs(policy, attempt, retryAfterSeconds), signal);
    }
  }

  /**
   * A retried cancel or report may find its first attempt already took effect (the reply was lost):
   * the API then says 409. If the action shows that effect, the call succeeded.
   */
  async function settledByEarlierAttempt(err: unknown, actionId: string, done: (action: ActionView) => boolean, signal?: AbortSignal) {
    if (!(err instanceof HoldpointApiError) || err.status !== 409 || err.attempts < 2) return undefined;
    const action = (await send<ActionView>('GET', actionPath(actionId), { signal })).body;
    return done(action) ? action : undefined;
  }

  return {
    url: base,

    async submit(request, { idempotencyKey = globalThis.crypto.randomUUID(), waitSeconds, until, signal } = {}) {
      const hold = waitSeconds === undefined ? undefined : Math.max(0, Math.min(MAX_HOLD_SECONDS, Math.ceil(waitSeconds)));
      const query = hold ? `?wait=${hold}${until ? `&until=${until}` : ''}` : '';
      const reply = await send<ActionView>('POST', `/v1/actions${query}`, {
        body: request,
        headers: { 'idempotency-key': idempotencyKey },
        signal,
        holdSeconds: hold,
      });
      // 201 created; 200 the key's existing action; 202 created but not at the milestone within `wait`.
      return { action: reply.body, created: reply.status !== 200, decided: isDecided(reply.body.status), idempotencyKey };
    },

    async get(actionId, { signal } = {}) {
      return (await send<ActionView>('GET', actionPath(actionId), { signal })).body;
    },

    async wait(actionId, { until = 'decided', timeoutMs = 30_000, pollSeconds = 30, signal, onPoll } = {}) {
      const deadline = Date.now() + timeoutMs;
      const longest = Math.max(1, Math.min(MAX_HOLD_SECONDS, Math.floor(pollSeconds)));
      for (;;) {
        const seconds = Math.max(0, Math.min(longest, Math.ceil((deadline - Date.now()) / 1000)));
        const polled = Date.now();
        const reply = await send<ActionView>('GET', `${actionPath(actionId)}/wait?timeout=${seconds}&until=${until}`, { signal, holdSeconds: seconds });
        if (reply.status === 200) return { action: reply.body, reached: true };
        if (seconds === 0 || Date.now() >= deadline) return { action: reply.body, reached: false };
        onPoll?.(reply.body);
        // A 202 long before the hold ended (a proxy cutting long-polls short): pace by Retry-After, never spin.
        if (Date.now() - polled < (seconds * 1000) / 2) {
          const left = Math.max(0, deadline - Date.now());
          const pause = Math.min((reply.retryAfterSeconds ?? 1) * 1000, left);
          await sleep(pause, signal);
          // Timers may fire a hair before Date.now() reaches the deadline: a pause to the deadline ends the wait.
          if (pause >= left || Date.now() >= deadline) return { action: reply.body, reached: false };
        }
      }
    },

    async cancel(actionId, { reason, signal } = {}) {
      try {
        return (await send<ActionView>('POST', `${actionPath(actionId)}/cancel`, { body: reason ? { reason } : {}, signal })).body;
      } catch (err) {
        const settled = await settledByEarlierAttempt(err, actionId, (action) => action.status === 'cancelled', signal);
        if (settled) return settled;
        throw err;
      }
    },

    async reportExecution(actionId, report, { signal } = {}) {
      try {
        return (await send<ActionView>('POST', `${actionPath(actionId)}/execution`, { body: report, signal })).body;
      } catch (err) {
        const settled = await settledByEarlierAttempt(err, actionId, (action) => isTerminal(action.status) && action.execution?.reportedAt !== undefined, signal);
        if (settled) return settled;
        throw err;
      }
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
