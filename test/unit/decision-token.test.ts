import { newTokenId, signDecisionToken, verifyDecisionToken, type DecisionTokenClaims } from '../../src/channels/email/decision-token';

const SECRET = 'email-token-secret-for-unit-tests-0123';
const NOW = new Date('2026-03-01T12:00:00Z');
const claims: DecisionTokenClaims = {
  jti: newTokenId(),
  sub: 'alice',
  act: 'action-11-support-bot-k1',
  ph: 'sha256:abc',
  vd: 'approve',
  exp: Math.floor(NOW.getTime() / 1000) + 3600,
};

describe('email decision tokens', () => {
  it('round-trips its claims', () => {
    expect(verifyDecisionToken(SECRET, signDecisionToken(SECRET, claims), NOW)).toEqual({ ok: true, claims });
  });

  it('is bound to every claim: changing one breaks the signature', () => {
    const token = signDecisionToken(SECRET, claims);
    const [body, signature] = token.split('.') as [string, string];
    for (const change of [{ sub: 'bob' }, { act: 'action-x' }, { ph: 'sha256:def' }, { vd: 'deny' }, { exp: claims.exp + 3600 }]) {
      const altered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), ...change })).toString('base64url');
      expect(verifyDecisionToken(SECRET, `${altered}.${signature}`, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
    }
    expect(verifyDecisionToken('another-secret-another-secret-0000', token, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('expires at exp', () => {
    const token = signDecisionToken(SECRET, claims);
    expect(verifyDecisionToken(SECRET, token, new Date(claims.exp * 1000 - 1)).ok).toBe(true);
    expect(verifyDecisionToken(SECRET, token, new Date(claims.exp * 1000))).toEqual({ ok: false, reason: 'expired' });
  });

  it('rejects malformed input without throwing', () => {
    for (const token of [undefined, '', 'abc', 'a.b.c', `${'x'.repeat(3000)}.${'y'.repeat(43)}`, 42]) {
      expect(verifyDecisionToken(SECRET, token, NOW)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('draws unguessable token ids', () => {
    const ids = new Set(Array.from({ length: 100 }, newTokenId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
