import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import type { Principal, Role } from './principal';
import { parseApiKey } from './api-keys';
import { authenticate } from './principal-repository';
import { HttpProblem } from '../platform/http/problem';
import type { CredentialFailures } from '../platform/http/rate-limits';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    /** Why an offered credential was refused; only protected routes turn it into a 401. */
    authFailure?: string;
  }
}

const FAILURE_DETAIL: Record<string, string> = {
  revoked: 'this API key has been revoked',
  disabled: 'the principal of this API key is disabled',
  malformed: 'not a Holdpoint API key',
  unknown: 'unknown API key',
};

/**
 * Resolves `Authorization: Bearer <key>` to a principal when present. Public routes (health, docs)
 * ignore a bad credential; `requireRole` refuses it with the reason.
 */
export function authenticateRequests(pool: Pool, failures?: CredentialFailures): RequestHandler {
  const issued = new IssuedKeyIds();
  return async (req, _res, next) => {
    const header = req.get('authorization');
    if (!header) return next();
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      req.authFailure = 'the Authorization header must be `Bearer <api key>`';
      return next();
    }
    // An address that keeps offering bad keys is refused before the next lookup, unless the key
    // names an issued key id: guessing costs the database nothing, and reviewers behind the same
    // NAT or proxy as a guesser are never locked out of deciding.
    const refused = failures?.refusal(req);
    if (refused && !(await issued.has(pool, parseApiKey(match[1])?.keyId))) return next(refused);
    const result = await authenticate(pool, match[1]);
    if (result.ok) req.principal = result.principal;
    else {
      req.authFailure = FAILURE_DETAIL[result.reason] ?? 'unknown API key';
      failures?.record(req);
    }
    next();
  };
}

/**
 * The ids of keys not revoked, read at most every few seconds: the public part of a key is enough
 * to tell a real key from a guess without looking the secret up.
 */
class IssuedKeyIds {
  private ids = new Set<string>();
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  async has(pool: Pool, keyId: string | undefined): Promise<boolean> {
    if (!keyId) return false;
    if (!this.ids.has(keyId) && Date.now() - this.loadedAt > REFRESH_ISSUED_MS) {
      this.loading ??= pool
        .query<{ id: string }>('SELECT id FROM api_keys WHERE revoked_at IS NULL')
        .then(({ rows }) => {
          this.ids = new Set(rows.map((row) => row.id));
          this.loadedAt = Date.now();
        })
        .finally(() => {
          this.loading = undefined;
        });
      await this.loading.catch(() => undefined);
    }
    return this.ids.has(keyId);
  }
}

const REFRESH_ISSUED_MS = 5_000;

export function requireRole(roles: readonly Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.principal) return next(unauthorized(req.authFailure ?? 'this endpoint needs an API key (Authorization: Bearer …)'));
    if (!roles.includes(req.principal.role)) {
      return next(new HttpProblem(403, 'forbidden', 'Forbidden', `the ${req.principal.role} role may not call this endpoint`));
    }
    next();
  };
}

export function principalOf(req: { principal?: Principal }): Principal {
  if (!req.principal) throw unauthorized('this endpoint needs an API key');
  return req.principal;
}

function unauthorized(detail: string): HttpProblem {
  return new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, { headers: { 'WWW-Authenticate': 'Bearer realm="holdpoint"' } });
}
