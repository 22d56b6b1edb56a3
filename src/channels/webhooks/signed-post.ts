import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { CallbackTargets } from '../callbacks/callback-target';
import { signWebhook } from './standard-webhooks';

export interface SignedPostOptions {
  attempts?: number;
  initialBackoffMs?: number;
  timeoutMs?: number;
}

/** A refusal by the target check: retrying would be refused the same way. */
class TargetRefused extends Error {}

/**
 * POSTs a JSON body signed per Standard Webhooks to a URL that `targets` allows, retrying network
 * errors, 5xx and 429 with exponential backoff under the same webhook-id (receivers deduplicate on
 * it). Each attempt checks the URL again and connects to exactly the address it checked; no
 * redirect is followed. Never throws; `detail` is for operators' logs, not for the agent.
 */
export async function postSignedJson(
  url: string,
  secrets: string[],
  webhookId: string,
  body: string,
  targets: CallbackTargets,
  options: SignedPostOptions = {},
): Promise<{ ok: boolean; detail: string }> {
  const attempts = options.attempts ?? 3;
  let detail = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const status = await postOnce(url, { 'content-type': 'application/json', ...signWebhook(secrets, webhookId, body) }, body, targets, options.timeoutMs ?? 5_000);
      detail = `HTTP ${status}`;
      if (status >= 200 && status < 300) return { ok: true, detail };
      if (status < 500 && status !== 429) break; // refused: retrying will not help
    } catch (err) {
      detail = (err as Error).message;
      if (err instanceof TargetRefused || (err as { code?: string }).code === 'CALLBACK_REFUSED') break;
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, (options.initialBackoffMs ?? 200) * 2 ** (attempt - 1)));
  }
  return { ok: false, detail };
}

async function postOnce(rawUrl: string, headers: Record<string, string>, body: string, targets: CallbackTargets, timeoutMs: number): Promise<number> {
  const url = new URL(rawUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // Node skips `lookup` for an address literal, so a literal is checked here; a name is checked by
  // the lookup itself, on the answer the socket then connects to.
  if (isIP(host)) {
    const verdict = await targets.check(rawUrl);
    if (!verdict.allowed) throw new TargetRefused(`callback refused: ${verdict.reason}`);
  }
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    const request = transport.request(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        lookup: targets.lookupFor(rawUrl),
        // A fresh connection per attempt: no pooled socket skips the check.
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        response.resume(); // the receiver's body is not read, only its status
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
