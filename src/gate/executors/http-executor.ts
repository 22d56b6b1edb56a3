import type { JsonValue } from '../../shared/action';
import { signWebhook } from '../../channels/webhooks/standard-webhooks';
import { ExecutionRejectedError, executionRequestBody, type ExecutionCall, type ExecutionOutcome, type Executor } from './executor';

export interface HttpExecutorOptions {
  url: string;
  /** Standard Webhooks secrets; the target verifies the call came from Holdpoint. */
  secrets?: string[];
  timeoutMs?: number;
}

async function readBody(response: Response): Promise<JsonValue> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text.slice(0, 4_096);
  }
}

/**
 * POSTs the routed request with the approved payload (see ExecutionRequestBody) with `Idempotency-Key: <actionId>`, so the target applies it once however
 * often Temporal retries us. 5xx and network errors throw (retryable); 4xx is a final refusal.
 */
export class HttpExecutor implements Executor {
  constructor(private readonly options: HttpExecutorOptions) {}

  async execute(call: ExecutionCall): Promise<ExecutionOutcome> {
    const body = JSON.stringify(executionRequestBody(call));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': call.actionId };
    if (this.options.secrets?.length) Object.assign(headers, signWebhook(this.options.secrets, call.actionId, body));
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
    });
    const result = await readBody(response);
    if (response.ok) return { status: response.status, result };
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
      throw new ExecutionRejectedError(`executor target answered HTTP ${response.status}`, response.status, result);
    }
    throw new Error(`executor target answered HTTP ${response.status}`);
  }
}
