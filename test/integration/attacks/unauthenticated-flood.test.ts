import { signDecisionToken, newTokenId } from '../../../src/channels/email/decision-token';
import { startApiStack, type ApiStack } from '../../support/api-stack';
import { ATTACK_POLICY_DIR, attackKit } from './attack-helpers';

/**
 * Promise 2: no load may stop an eligible reviewer from deciding. Slack interactivity, email links
 * and console sign-in carry no API key, so the rate limiter keys them by client IP — the same bucket
 * every unauthenticated (or wrongly authenticated) request from that address fills. Behind a reverse
 * proxy (no `trust proxy`) that is every client. An outsider who spends that bucket locks reviewers
 * out of deciding by email (and Slack, and console sign-in) for a minute at a time, indefinitely.
 */
jest.setTimeout(120_000);

const SECRET = 'attack-email-token-secret-0123456789abcdef';
const LIMIT = 40;
let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack({ policyDir: ATTACK_POLICY_DIR, rateLimitPerMinute: LIMIT, reviewerChannels: { emailTokenSecret: SECRET } });
});
afterAll(() => stack?.close());
const kit = attackKit(() => stack);

it("an outsider's unauthenticated flood does not stop a reviewer's email deny", async () => {
  const { id } = await kit.pending(kit.request('test.credit', { amount: 60 }));
  const token = signDecisionToken(SECRET, { jti: newTokenId(), sub: 'alice', act: id, ph: 'sha256:' + '0'.repeat(64), vd: 'deny', exp: Math.floor(Date.now() / 1000) + 3600 });
  // The outsider: no key, or a made-up one (both land in the per-IP bucket).
  await Promise.all(
    Array.from({ length: LIMIT + 5 }, (_, i) =>
      stack.request('GET', '/v1/actions', i % 2 ? { headers: { authorization: 'Bearer hp_not_a_key' } } : {}).then((r) => r.arrayBuffer()),
    ),
  );
  const deny = await fetch(`${stack.baseUrl}/email/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ token, rationale: 'this is not right' }).toString(),
  });
  expect(deny.status).not.toBe(429);
  expect(deny.status).toBeLessThan(300);
  expect((await kit.read(id)).status).toBe('denied');
});

it("bad API keys from a shared address do not lock out a reviewer's valid key (deny by API)", async () => {
  const { id } = await kit.pending(kit.request('test.credit', { amount: 60 }));
  // A hostile agent (or anyone behind the same NAT / reverse proxy) guesses keys.
  for (let i = 0; i < LIMIT + 5; i++) {
    await stack.request('GET', '/v1/actions', { headers: { authorization: `Bearer hp_guess_${i}` } }).then((r) => r.arrayBuffer());
  }
  // alice's own, valid key: she must still be able to refuse the action.
  const deny = await kit.decide(id, 'reviewer', { verdict: 'deny', rationale: 'not right' });
  expect(deny.status).not.toBe(429);
  expect(deny.status).toBe(200);
  expect((await kit.read(id)).status).toBe('denied');
});
