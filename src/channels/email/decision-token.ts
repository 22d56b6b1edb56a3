import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * One-click email decision tokens: `<base64url claims>.<base64url HMAC-SHA256>`. A token names the
 * reviewer it was sent to, the action, the payload hash the reviewer saw and the verdict of its link,
 * and expires with the review's SLA. The approve and deny links of one mail share a token id, so
 * using either spends both (single use is enforced where the decision is made, by the token id).
 */
export interface DecisionTokenClaims {
  /** Token id: spent on first use. */
  jti: string;
  /** The reviewer (principal id) the mail was addressed to. */
  sub: string;
  /** Action id. */
  act: string;
  /** Canonical hash of the payload shown in the mail; the decision applies to exactly that payload. */
  ph: string;
  vd: 'approve' | 'deny';
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export type TokenVerification =
  | { ok: true; claims: DecisionTokenClaims }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

// Domain separation: the same secret could never produce a valid token of another kind.
const LABEL = 'holdpoint/email-decision/v1\n';

function mac(secret: string, encodedClaims: string): Buffer {
  return createHmac('sha256', secret).update(LABEL).update(encodedClaims).digest();
}

export function newTokenId(): string {
  return randomBytes(16).toString('base64url');
}

export function signDecisionToken(secret: string, claims: DecisionTokenClaims): string {
  const encoded = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return `${encoded}.${mac(secret, encoded).toString('base64url')}`;
}

export function verifyDecisionToken(secret: string, token: unknown, now: Date = new Date()): TokenVerification {
  if (typeof token !== 'string' || token.length > 2_000) return { ok: false, reason: 'malformed' };
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, encoded, signature] = match as unknown as [string, string, string];
  const offered = Buffer.from(signature, 'base64url');
  const expected = mac(secret, encoded);
  if (offered.length !== expected.length || !timingSafeEqual(offered, expected)) return { ok: false, reason: 'bad-signature' };
  let claims: DecisionTokenClaims;
  try {
    claims = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as DecisionTokenClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const wellFormed =
    typeof claims?.jti === 'string' &&
    typeof claims.sub === 'string' &&
    typeof claims.act === 'string' &&
    typeof claims.ph === 'string' &&
    (claims.vd === 'approve' || claims.vd === 'deny') &&
    Number.isFinite(claims.exp);
  if (!wellFormed) return { ok: false, reason: 'malformed' };
  if (now.getTime() >= claims.exp * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
