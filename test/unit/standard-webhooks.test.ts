import { createHmac, randomBytes } from 'node:crypto';
import { signWebhook, verifyWebhook, type SignedHeaders } from '../../src/channels/webhooks/standard-webhooks';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const OTHER = `whsec_${randomBytes(24).toString('base64')}`;
const BODY = JSON.stringify({ type: 'review.review_requested', data: { actionId: 'action-1', amount: 700 } });
const AT = new Date('2026-01-02T03:04:05.678Z');
const AT_SECONDS = Math.floor(AT.getTime() / 1000);

/** Independent reference: HMAC-SHA256 over `id.timestamp.body` keyed by the base64 bytes after whsec_. */
function referenceSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

const headersOf = (signed: SignedHeaders): SignedHeaders & Record<string, string> => ({ ...signed });

describe('signWebhook', () => {
  it('produces the Standard Webhooks headers with a v1 HMAC of id.timestamp.body', () => {
    const headers = signWebhook([SECRET], 'msg_1', BODY, AT);
    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-timestamp']).toBe(String(AT_SECONDS));
    expect(headers['webhook-signature']).toBe(`v1,${referenceSignature(SECRET, 'msg_1', AT_SECONDS, BODY)}`);
  });

  it('matches the published Standard Webhooks / Svix example vector', () => {
    const body = '{"test": 2432232314}';
    const at = new Date(1614265330 * 1000);
    const headers = signWebhook(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], 'msg_p5jXN8AQM9LWM0D4loKWxJek', body, at);
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(verifyWebhook(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], headersOf(headers), body, { now: at })).toEqual({ ok: true });
  });

  it('carries one space-separated v1 entry per secret during rotation', () => {
    const signature = signWebhook([SECRET, OTHER], 'msg_2', BODY, AT)['webhook-signature'];
    expect(signature.split(' ')).toEqual([
      `v1,${referenceSignature(SECRET, 'msg_2', AT_SECONDS, BODY)}`,
      `v1,${referenceSignature(OTHER, 'msg_2', AT_SECONDS, BODY)}`,
    ]);
  });

  it('refuses to sign without a secret', () => {
    expect(() => signWebhook([], 'msg_3', BODY, AT)).toThrow(/secret/);
  });
});

describe('verifyWebhook', () => {
  const signed = headersOf(signWebhook([SECRET], 'msg_10', BODY, AT));
  const verify = (headers: Record<string, string | string[] | undefined>, body = BODY, secrets = [SECRET], now = AT) =>
    verifyWebhook(secrets, headers, body, { now });

  it('accepts its own signature (roundtrip)', () => {
    expect(verify(signed)).toEqual({ ok: true });
  });

  it('accepts a receiver-computed signature (interoperability)', () => {
    const headers = { 'webhook-id': 'x', 'webhook-timestamp': String(AT_SECONDS), 'webhook-signature': `v1,${referenceSignature(SECRET, 'x', AT_SECONDS, BODY)}` };
    expect(verify(headers)).toEqual({ ok: true });
  });

  it('rejects a wrong secret as bad-signature', () => {
    expect(verify(signed, BODY, [OTHER])).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('rejects a tampered body, id or timestamp as bad-signature', () => {
    expect(verify(signed, BODY.replace('700', '7000'))).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(signed, `${BODY} `)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify({ ...signed, 'webhook-id': 'msg_11' })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify({ ...signed, 'webhook-timestamp': String(AT_SECONDS + 1) })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('ignores signature entries of other versions and malformed entries', () => {
    const v1 = signed['webhook-signature'];
    expect(verify({ ...signed, 'webhook-signature': `v1a,${v1.slice(3)}` })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify({ ...signed, 'webhook-signature': `v2,garbage v1,AAAA ${v1}` })).toEqual({ ok: true });
  });

  it('rejects a timestamp more than 5 minutes old or ahead as stale-timestamp', () => {
    const seconds = (s: number) => new Date(AT.getTime() + s * 1000);
    expect(verify(signed, BODY, [SECRET], seconds(300))).toEqual({ ok: true });
    expect(verify(signed, BODY, [SECRET], seconds(-300))).toEqual({ ok: true });
    expect(verify(signed, BODY, [SECRET], seconds(301))).toEqual({ ok: false, reason: 'stale-timestamp' });
    expect(verify(signed, BODY, [SECRET], seconds(-301))).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  it('honours a custom tolerance and rejects a non-numeric timestamp', () => {
    const later = new Date(AT.getTime() + 60_000);
    expect(verifyWebhook([SECRET], signed, BODY, { now: later, toleranceSeconds: 30 })).toEqual({ ok: false, reason: 'stale-timestamp' });
    expect(verify({ ...signed, 'webhook-timestamp': `${AT_SECONDS}.0` })).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  it('reports a replayed id when a seen set is given', () => {
    const seenIds = new Set<string>();
    const seen = (id: string) => {
      if (seenIds.has(id)) return true;
      seenIds.add(id);
      return false;
    };
    expect(verifyWebhook([SECRET], signed, BODY, { now: AT, seen })).toEqual({ ok: true });
    expect(verifyWebhook([SECRET], signed, BODY, { now: AT, seen })).toEqual({ ok: false, reason: 'replayed' });
  });

  it('does not remember ids of deliveries that fail verification', () => {
    const seen = jest.fn(() => false);
    verifyWebhook([OTHER], signed, BODY, { now: AT, seen });
    expect(seen).not.toHaveBeenCalled();
  });

  it('accepts during rotation: signed with two secrets, verified with either; or verifier holding both', () => {
    const rotated = headersOf(signWebhook([SECRET, OTHER], 'msg_20', BODY, AT));
    expect(verify(rotated, BODY, [SECRET])).toEqual({ ok: true });
    expect(verify(rotated, BODY, [OTHER])).toEqual({ ok: true });
    const third = `whsec_${randomBytes(24).toString('base64')}`;
    expect(verify(rotated, BODY, [third])).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(signed, BODY, [OTHER, SECRET])).toEqual({ ok: true });
  });

  it('reports missing headers', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const { [name]: _dropped, ...rest } = signed;
      expect(verify(rest)).toEqual({ ok: false, reason: 'missing-headers' });
      expect(verify({ ...signed, [name]: '' })).toEqual({ ok: false, reason: 'missing-headers' });
    }
  });

  it('reads the first value of a repeated header (node:http array form)', () => {
    expect(verify({ ...signed, 'webhook-id': [signed['webhook-id'], 'other'] })).toEqual({ ok: true });
  });

  it('treats a secret without the whsec_ prefix as raw UTF-8 key bytes', () => {
    const raw = 'plain-secret-of-enough-length';
    const headers = headersOf(signWebhook([raw], 'msg_30', BODY, AT));
    const expected = createHmac('sha256', Buffer.from(raw, 'utf8')).update(`msg_30.${AT_SECONDS}.${BODY}`).digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
    expect(verify(headers, BODY, [raw])).toEqual({ ok: true });
  });
});
