import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HeadsDigest, statementDigest, statementText, type CheckpointStatement } from '../../src/evidence/audit/checkpoint-statement';
import { AuditKeyError, developmentKeyPath, generateAuditKey, loadAuditKey, signStatement, verifyStatement } from '../../src/evidence/audit/signing-key';
import { loadConfig } from '../../src/platform/config';

const statement = (overrides: Partial<CheckpointStatement> = {}): CheckpointStatement => ({
  type: 'holdpoint.audit.checkpoint',
  v: 1,
  id: 3,
  kind: 'scheduled',
  createdAt: '2026-01-01T00:00:00.000Z',
  prevDigest: 'sha256:prev',
  headsDigest: 'sha256:heads',
  headCount: 2,
  prunedCount: 0,
  keyId: 'ed25519:x',
  ...overrides,
});

describe('checkpoint signatures', () => {
  it('verify with the same key and fail for any change or another key', () => {
    const key = generateAuditKey();
    const signature = signStatement(key, statementText(statement()));
    expect(verifyStatement(key, statementText(statement()), signature)).toBe(true);
    expect(verifyStatement(key, statementText(statement({ headCount: 3 })), signature)).toBe(false);
    expect(verifyStatement(generateAuditKey(), statementText(statement()), signature)).toBe(false);
    expect(verifyStatement(key, statementText(statement()), 'not base64 at all')).toBe(false);
    expect(statementDigest(statement())).not.toBe(statementDigest(statement({ prevDigest: null })));
  });

  it('digest heads in order, covering every field', () => {
    const digest = (heads: [string, number, string, boolean][]) => {
      const d = new HeadsDigest();
      for (const [actionId, seq, hash, pruned] of heads) d.add({ actionId, seq, hash, pruned });
      return d.digest();
    };
    const base = digest([['a', 1, 'h1', false], ['b', 2, 'h2', false]]);
    expect(digest([['b', 2, 'h2', false], ['a', 1, 'h1', false]])).not.toBe(base);
    expect(digest([['a', 1, 'h1', true], ['b', 2, 'h2', false]])).not.toBe(base);
    expect(digest([['a', 2, 'h1', false], ['b', 2, 'h2', false]])).not.toBe(base);
    expect(digest([['a', 1, 'h1', false], ['b', 2, 'h2', false]])).toBe(base);
  });
});

describe('loadAuditKey', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-key-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const config = (env: Record<string, string>) => loadConfig({ DATA_DIR: dataDir, ...env });

  it('reads AUDIT_SIGNING_KEY as PEM text with \\n escapes, and a public key for verify-only use', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const key = loadAuditKey(config({ HOLDPOINT_ENV: 'test', AUDIT_SIGNING_KEY: pem.replace(/\n/g, '\\n') }))!;
    expect(key.keyId).toMatch(/^ed25519:[0-9a-f]{16}$/);
    const publicFile = path.join(dataDir, 'public.pem');
    fs.writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }));
    const verifier = loadAuditKey(config({ HOLDPOINT_ENV: 'test', AUDIT_PUBLIC_KEY_PATH: publicFile }))!;
    expect(verifier.privateKey).toBeUndefined();
    expect(verifier.keyId).toBe(key.keyId);
    expect(verifyStatement(verifier, 'm', signStatement(key, 'm'))).toBe(true);
  });

  it('refuses keys that are not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadAuditKey(config({ HOLDPOINT_ENV: 'test', AUDIT_SIGNING_KEY: rsa }))).toThrow(AuditKeyError);
    expect(() => loadAuditKey(config({ HOLDPOINT_ENV: 'test', AUDIT_SIGNING_KEY: 'nope' }))).toThrow(/not a PEM private key/);
  });

  it('generates one development key under DATA_DIR on first use, and none elsewhere', () => {
    expect(loadAuditKey(config({ HOLDPOINT_ENV: 'test' }), { createInDevelopment: true })).toBeUndefined();
    expect(loadAuditKey(config({ HOLDPOINT_ENV: 'development' }))).toBeUndefined();
    const created = loadAuditKey(config({ HOLDPOINT_ENV: 'development' }), { createInDevelopment: true })!;
    expect(fs.statSync(developmentKeyPath(dataDir)).mode & 0o777).toBe(0o600);
    expect(loadAuditKey(config({ HOLDPOINT_ENV: 'development' }))!.keyId).toBe(created.keyId);
  });
});

describe('audit configuration', () => {
  it('has defaults and parses intervals', () => {
    expect(loadConfig({}).audit).toMatchObject({ checkpointIntervalMs: 15 * 60_000, retentionDays: 400 });
    expect(loadConfig({}).metrics).toMatchObject({ rubberStampSeconds: 10 });
    expect(loadConfig({ CHECKPOINT_INTERVAL: 'off' }).audit.checkpointIntervalMs).toBe(0);
    expect(loadConfig({ CHECKPOINT_INTERVAL: '1h', RETENTION_DAYS: '30' }).audit).toMatchObject({ checkpointIntervalMs: 3_600_000, retentionDays: 30 });
    expect(() => loadConfig({ CHECKPOINT_INTERVAL: 'soon' })).toThrow(/CHECKPOINT_INTERVAL/);
    expect(() => loadConfig({ AUDIT_SIGNING_KEY: 'a', AUDIT_SIGNING_KEY_PATH: '/k' })).toThrow(/AUDIT_SIGNING_KEY: set either/);
  });
});
