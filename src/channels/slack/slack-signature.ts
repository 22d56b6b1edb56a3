import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's replay window for signed requests. */
export const SLACK_TOLERANCE_SECONDS = 5 * 60;

export type SlackVerification =
  | { ok: true; signature: string; timestamp: number }
  | { ok: false; reason: 'missing-headers' | 'stale-timestamp' | 'bad-signature' };

export function signSlackRequest(signingSecret: string, timestamp: number | string, rawBody: string | Buffer): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

/**
 * Slack request signing: `v0=` + hex HMAC-SHA256 over `v0:<timestamp>:<raw body>` with the app's
 * signing secret; the timestamp must be within five minutes; compared in constant time.
 * Replays inside the window are the caller's job (it remembers accepted signatures).
 */
export function verifySlackRequest(
  signingSecret: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
  now: Date = new Date(),
): SlackVerification {
  const one = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const timestamp = one('x-slack-request-timestamp');
  const signature = one('x-slack-signature');
  if (!timestamp || !signature) return { ok: false, reason: 'missing-headers' };
  const seconds = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now.getTime() / 1000 - seconds) > SLACK_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'stale-timestamp' };
  }
  const expected = Buffer.from(signSlackRequest(signingSecret, timestamp, rawBody), 'utf8');
  const offered = Buffer.from(signature, 'utf8');
  if (offered.length !== expected.length || !timingSafeEqual(offered, expected)) return { ok: false, reason: 'bad-signature' };
  return { ok: true, signature, timestamp: seconds };
}
