import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';
import { findConsoleSession } from './console-session-repository';
import { FORM_ENDPOINTS } from '../platform/http/form-endpoints';
import { HttpProblem } from '../platform/http/problem';
import type { CredentialFailures } from '../platform/http/rate-limits';

export const SESSION_COOKIE = 'holdpoint_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'express-serve-static-core' {
  interface Request {
    /** Set when the caller was authenticated by a console session cookie (not an API key). */
    consoleSession?: { id: string; csrfToken: string; expiresAt: string };
  }
}

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return undefined;
}

export function sessionCookieOptions(secure: boolean, maxAgeMs?: number): CookieOptions {
  // Strict: the browser never sends the session with a request another site starts.
  return { httpOnly: true, sameSite: 'strict', secure, path: '/', ...(maxAgeMs !== undefined ? { maxAge: maxAgeMs } : {}) };
}

export function clearSessionCookie(res: Response, secure: boolean): void {
  res.clearCookie(SESSION_COOKIE, sessionCookieOptions(secure));
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Authenticates console requests by their session cookie when no API key was sent, and requires
 * the session's CSRF token in `X-CSRF-Token` on every state-changing request (synchronizer token,
 * on top of SameSite=Strict and the API's JSON-only bodies).
 */
export function consoleSessionAuth(pool: Pool, failures?: CredentialFailures): RequestHandler {
  return async (req, _res, next) => {
    if (req.principal || req.get('authorization')) return next();
    const sessionId = readCookie(req, SESSION_COOKIE);
    if (!sessionId) return next();
    const refused = failures?.refusal(req);
    if (refused) return next(refused);
    const session = await findConsoleSession(pool, sessionId);
    if (!session) {
      req.authFailure = 'the console session has ended; sign in again';
      failures?.record(req);
      return next();
    }
    req.principal = session.principal;
    req.consoleSession = { id: sessionId, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
    if (!SAFE_METHODS.has(req.method) && !FORM_ENDPOINTS.has(req.path)) {
      const offered = req.get(CSRF_HEADER);
      if (!offered || !sameToken(offered, session.csrfToken)) {
        return next(new HttpProblem(403, 'csrf', 'CSRF token missing or wrong', `send the session's CSRF token in the ${CSRF_HEADER} header`));
      }
    }
    next();
  };
}
