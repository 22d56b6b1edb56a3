import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import type { Principal, Role } from '../../auth/principal';
import { authenticate } from '../../db/principal-repository';
import { HttpProblem } from '../problem';

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
export function authenticateRequests(pool: Pool): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    if (!header) return next();
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      req.authFailure = 'the Authorization header must be `Bearer <api key>`';
      return next();
    }
    const result = await authenticate(pool, match[1]);
    if (result.ok) req.principal = result.principal;
    else req.authFailure = FAILURE_DETAIL[result.reason] ?? 'unknown API key';
    next();
  };
}

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
