import { signWebhook } from './standard-webhooks';

export interface SignedPostOptions {
  attempts?: number;
  initialBackoffMs?: number;
  timeoutMs?: number;
}

/**
 * POSTs a JSON body signed per Standard Webhooks, retrying network errors, 5xx and 429 with
 * exponential backoff under the same webhook-id (receivers deduplicate on it). Never throws.
 */
export async function postSignedJson(
  url: string,
  secrets: string[],
  webhookId: string,
  body: string,
  options: SignedPostOptions = {},
): Promise<{ ok: boolean; detail: string }> {
  const attempts = options.attempts ?? 3;
  let detail = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signWebhook(secrets, webhookId, body) },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      await response.arrayBuffer().catch(() => undefined);
      detail = `HTTP ${response.status}`;
      if (response.ok) return { ok: true, detail };
      if (response.status < 500 && response.status !== 429) break; // refused: retrying will not help
    } catch (err) {
      detail = (err as Error).message;
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, (options.initialBackoffMs ?? 200) * 2 ** (attempt - 1)));
  }
  return { ok: false, detail };
}
