import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../platform/config';

/** The Ed25519 key that signs checkpoints; `privateKey` is absent where only verification is possible. */
export interface AuditKey {
  /** `ed25519:` + the first 16 hex digits of the SHA-256 of the public key (SPKI DER). */
  keyId: string;
  publicKey: KeyObject;
  privateKey?: KeyObject;
}

export class AuditKeyError extends Error {
  override name = 'AuditKeyError';
}

/** Where development keeps its generated key, so `npm start` and the CLI sign and verify alike. */
export function developmentKeyPath(dataDir: string): string {
  return path.join(dataDir, 'audit-signing-key.pem');
}

export function auditKeyFromPrivate(privateKey: KeyObject): AuditKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new AuditKeyError(`the audit signing key must be Ed25519, not ${privateKey.asymmetricKeyType}`);
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), publicKey, privateKey };
}

export function auditKeyFromPublic(publicKey: KeyObject): AuditKey {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new AuditKeyError(`the audit public key must be Ed25519, not ${publicKey.asymmetricKeyType}`);
  return { keyId: keyIdOf(publicKey), publicKey };
}

export function generateAuditKey(): AuditKey {
  return auditKeyFromPrivate(generateKeyPairSync('ed25519').privateKey);
}

function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

function parsePrivatePem(pem: string, where: string): KeyObject {
  try {
    return createPrivateKey(pem.replace(/\\n/g, '\n'));
  } catch (err) {
    throw new AuditKeyError(`${where} is not a PEM private key: ${(err as Error).message}`);
  }
}

function readFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new AuditKeyError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/**
 * The configured key: AUDIT_SIGNING_KEY_PATH, AUDIT_SIGNING_KEY, else AUDIT_PUBLIC_KEY_PATH
 * (verify only). In development a key is generated under DATA_DIR on first use when none is
 * configured; elsewhere a missing key is `undefined` and callers say what that disables.
 */
export function loadAuditKey(config: Pick<Config, 'audit' | 'env' | 'dataDir'>, options: { createInDevelopment?: boolean } = {}): AuditKey | undefined {
  const { audit } = config;
  if (audit.signingKeyPath) return auditKeyFromPrivate(parsePrivatePem(readFile(audit.signingKeyPath, 'AUDIT_SIGNING_KEY_PATH'), 'AUDIT_SIGNING_KEY_PATH'));
  if (audit.signingKey) return auditKeyFromPrivate(parsePrivatePem(audit.signingKey, 'AUDIT_SIGNING_KEY'));
  if (audit.publicKeyPath) {
    try {
      return auditKeyFromPublic(createPublicKey(readFile(audit.publicKeyPath, 'AUDIT_PUBLIC_KEY_PATH')));
    } catch (err) {
      if (err instanceof AuditKeyError) throw err;
      throw new AuditKeyError(`AUDIT_PUBLIC_KEY_PATH is not a PEM public key: ${(err as Error).message}`);
    }
  }
  if (config.env !== 'development') return undefined;
  const file = developmentKeyPath(config.dataDir);
  if (fs.existsSync(file)) return auditKeyFromPrivate(parsePrivatePem(readFile(file, 'the development key'), file));
  if (!options.createInDevelopment) return undefined;
  const key = generateAuditKey();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // wx: two processes starting together must not overwrite each other's key.
  try {
    fs.writeFileSync(file, key.privateKey!.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return auditKeyFromPrivate(parsePrivatePem(readFile(file, 'the development key'), file));
  }
  return key;
}

export function signStatement(key: AuditKey, statement: string): string {
  if (!key.privateKey) throw new AuditKeyError('signing needs the private key (AUDIT_SIGNING_KEY_PATH or AUDIT_SIGNING_KEY)');
  return sign(null, Buffer.from(statement, 'utf8'), key.privateKey).toString('base64');
}

export function verifyStatement(key: AuditKey, statement: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(statement, 'utf8'), key.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
