import { createHash } from 'node:crypto';
import { generateApiKey, hashApiKey, parseApiKey } from '../../src/access/api-keys';

describe('generateApiKey', () => {
  it('formats keys as hp_<8 hex key id>_<base64url secret>', () => {
    const { keyId, apiKey } = generateApiKey();
    expect(keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(apiKey).toMatch(/^hp_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    expect(apiKey.startsWith(`hp_${keyId}_`)).toBe(true);
  });

  it('carries a 32-byte random secret', () => {
    const { keyId, apiKey } = generateApiKey();
    const secret = apiKey.slice(`hp_${keyId}_`.length);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(Buffer.from(secret, 'base64url').toString('base64url')).toBe(secret);
  });

  it('never repeats a key or a secret', () => {
    const keys = Array.from({ length: 2000 }, () => generateApiKey());
    expect(new Set(keys.map((key) => key.apiKey)).size).toBe(keys.length);
    expect(new Set(keys.map((key) => key.apiKey.slice(12))).size).toBe(keys.length);
  });

  it('draws secret characters from the whole base64url alphabet', () => {
    const characters = new Set(Array.from({ length: 200 }, () => generateApiKey().apiKey.slice(12)).join(''));
    // 8,600 draws from 64 symbols: every symbol appears unless the generator is badly skewed.
    expect(characters.size).toBe(64);
  });
});

describe('hashApiKey', () => {
  it('is the SHA-256 hex of the whole key', () => {
    const { apiKey } = generateApiKey();
    expect(hashApiKey(apiKey)).toBe(createHash('sha256').update(apiKey).digest('hex'));
    expect(hashApiKey(apiKey)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is deterministic and differs between keys', () => {
    const a = generateApiKey().apiKey;
    const b = generateApiKey().apiKey;
    expect(hashApiKey(a)).toBe(hashApiKey(a));
    expect(hashApiKey(a)).not.toBe(hashApiKey(b));
  });

  it('matches a known vector', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('parseApiKey', () => {
  it('returns the key id of a generated key', () => {
    const { keyId, apiKey } = generateApiKey();
    expect(parseApiKey(apiKey)).toEqual({ keyId });
  });

  it('accepts secrets containing _ and -', () => {
    expect(parseApiKey(`hp_0123abcd_${'_-'.repeat(21)}A`)).toEqual({ keyId: '0123abcd' });
  });

  const { apiKey } = generateApiKey();
  it.each([
    ['empty', ''],
    ['wrong prefix', apiKey.replace(/^hp_/, 'sk_')],
    ['upper-case key id', `hp_0123ABCD_${apiKey.slice(12)}`],
    ['short key id', `hp_0123abc_${apiKey.slice(12)}`],
    ['short secret', apiKey.slice(0, -1)],
    ['long secret', `${apiKey}A`],
    ['padding', `${apiKey.slice(0, -1)}=`],
    ['surrounding space', ` ${apiKey}`],
    ['trailing newline', `${apiKey}\n`],
    ['a Bearer header', `Bearer ${apiKey}`],
    ['base64 (not url) characters', `hp_0123abcd_${'+/'.repeat(21)}A`],
  ])('rejects %s', (_label, text) => {
    expect(parseApiKey(text)).toBeUndefined();
  });

  it('rejects non-strings without throwing', () => {
    expect(parseApiKey(undefined as unknown as string)).toBeUndefined();
    expect(parseApiKey(42 as unknown as string)).toBeUndefined();
  });
});
