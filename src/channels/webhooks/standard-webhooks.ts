import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signing (webhook-id, webhook-timestamp, webhook-signature: `v1,<base64 HMAC-SHA256
 * of id.timestamp.body>`). Secrets are `whsec_<base64>`; several may be active during rotation, and
 * the signature header then carries one entry per secret.
 */
export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

function secretBytes(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

function sign(secret: string, id: string, timestamp: string, body: string): string {
  return createHmac('sha256', secretBytes(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
}

export function signWebhook(secrets: string[], id: string, body: string, at: Date = new Date()): SignedHeaders {
  if (secrets.length === 0) throw new Error('at least one webhook secret is required to sign');
  const timestamp = String(Math.floor(at.getTime() / 1000));
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': secrets.map((secret) => `v1,${sign(secret, id, timestamp, body)}`).join(' '),
  };
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing-headers' | 'stale-timestamp' | 'bad-signature' | 'replayed' };

export interface VerifyOptions {
  toleranceSeconds?: number;
  now?: Date;
  /** Returns true if this id was seen before (and remembers it); enables replay protection. */
  seen?: (id: string) => boolean;
}

/** Verifier shipped for receivers: constant-time compare against any of the given secrets. */
export function verifyWebhook(
  secrets: string[],
  headers: Record<string, string | string[] | undefined>,
  body: string,
  options: VerifyOptions = {},
): VerifyResult {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signatures = header('webhook-signature');
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing-headers' };
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (!/^\d+$/.test(timestamp) || Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? 300)) {
    return { ok: false, reason: 'stale-timestamp' };
  }
  const offered = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  const matches = secrets.some((secret) => {
    const expected = Buffer.from(sign(secret, id, timestamp, body), 'base64');
    return offered.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected));
  });
  if (!matches) return { ok: false, reason: 'bad-signature' };
  if (options.seen?.(id)) return { ok: false, reason: 'replayed' };
  return { ok: true };
}
