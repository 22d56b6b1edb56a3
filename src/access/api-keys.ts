import { createHash, randomBytes } from 'node:crypto';

const SECRET_BYTES = 32;
const KEY_ID_BYTES = 4;
// hp_ + 8 hex key id + _ + 43 base64url characters (32 bytes, unpadded). The key id has a fixed
// length, so the `_` that base64url may contain in the secret is never ambiguous.
const API_KEY_PATTERN = /^hp_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$/;

export interface GeneratedApiKey {
  /** Public: shown in listings and used to revoke; carries no secret. */
  keyId: string;
  /** The full bearer key; shown once, stored only as `hashApiKey(apiKey)`. */
  apiKey: string;
}

export function generateApiKey(): GeneratedApiKey {
  const keyId = randomBytes(KEY_ID_BYTES).toString('hex');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { keyId, apiKey: `hp_${keyId}_${secret}` };
}

/**
 * SHA-256 hex of the whole key. A plain (unsalted, fast) hash is enough: the secret has 256 bits
 * of entropy, so there is nothing to brute-force, and a deterministic hash allows an indexed lookup.
 */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

/** Format check only, so garbage (or another system's token) never reaches the database. */
export function parseApiKey(text: string): { keyId: string } | undefined {
  const match = typeof text === 'string' ? API_KEY_PATTERN.exec(text) : null;
  return match?.[1] ? { keyId: match[1] } : undefined;
}
