import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { createConsoleSession, endConsoleSession } from './console-session-repository';
import { authenticate } from '../access/principal-repository';
import type { ConsoleAssets } from './console-assets';
import { clearSessionCookie, SESSION_COOKIE, sessionCookieOptions } from './console-session';
import { principalOf } from '../access/authenticate';
import { DocumentedRouter, problem } from '../platform/http/documented-router';
import { HttpProblem } from '../platform/http/problem';
import { parseInput } from '../platform/http/validate';
import type { Assert, ConsolePrincipal, ConsoleSession, Exactly } from '../shared/wire-types';

export interface ConsoleRouteOptions {
  pool: Pool;
  /** Built once per process; the routes wait for it. */
  assets: Promise<ConsoleAssets>;
  sessionHours: number;
  /** Mark the cookie Secure (the API is served over https). */
  secureCookies: boolean;
  logger: Pick<Logger, 'error'>;
}

const signInBody = z.strictObject({ apiKey: z.string().min(1).max(200).openapi({ description: 'A reviewer or admin API key' }) }).openapi('ConsoleSignIn');
const sessionView = z
  .object({
    principal: z.object({ id: z.string(), role: z.enum(['reviewer', 'admin'] satisfies ConsolePrincipal['role'][]), groups: z.array(z.string()) }),
    csrfToken: z.string().nullable().openapi({ description: 'Send as X-CSRF-Token on every POST made with the session cookie' }),
    expiresAt: z.string().nullable(),
  })
  .openapi('ConsoleSession') satisfies z.ZodType<ConsoleSession>;
type _Exact = Assert<Exactly<z.output<typeof sessionView>, ConsoleSession>>;
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

// The console's own policy: scripts and styles from this origin only, no framing, no form posts elsewhere.
const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The reviewer console: its static files under /console and the session endpoints it signs in with.
 * After sign-in the console calls the same /v1 API as any client, authenticated by the cookie.
 */
export function consoleRoutes(registry: OpenAPIRegistry, options: ConsoleRouteOptions) {
  const api = new DocumentedRouter(registry);
  const { pool } = options;

  const serveAssets: RequestHandler = async (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path === '/' && !req.originalUrl.split('?')[0]!.endsWith('/')) return res.redirect(301, '/console/');
    const name = req.path === '/' ? '/index.html' : req.path;
    let assets: ConsoleAssets;
    try {
      assets = await options.assets;
    } catch (err) {
      options.logger.error({ err }, 'console assets unavailable');
      return next(new HttpProblem(503, 'console-unavailable', 'Console unavailable', 'the console could not be built; see the API log', { retryAfterSeconds: 30 }));
    }
    const file = assets.get(name);
    if (!file) return next();
    res.setHeader('Content-Type', file.contentType);
    res.setHeader('ETag', file.etag);
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    // index.html is revalidated every time; app.js/app.css are addressed by a content version.
    res.setHeader('Cache-Control', name === '/index.html' || !req.query.v ? 'no-cache' : 'public, max-age=31536000, immutable');
    if (req.headers['if-none-match'] === file.etag) return res.status(304).end();
    res.status(200).end(req.method === 'HEAD' ? undefined : file.body);
  };
  api.router.use('/console', serveAssets);

  api.post(
    {
      path: '/v1/console/session',
      summary: 'Sign in to the reviewer console with an API key (sets an httpOnly session cookie)',
      tags: ['console'],
      request: { body: { content: { 'application/json': { schema: signInBody } } } },
      responses: {
        201: json(sessionView, 'Signed in; the session cookie is set'),
        401: problem('Unknown, revoked or malformed key'),
        403: problem('Agents cannot use the console'),
      },
    },
    async (req, res) => {
      const { apiKey } = parseInput(signInBody, req.body, 'body');
      const result = await authenticate(pool, apiKey);
      if (!result.ok) throw new HttpProblem(401, 'unauthorized', 'Unauthorized', result.reason === 'malformed' ? 'not a Holdpoint API key' : `the key is ${result.reason}`);
      const { principal } = result;
      if (principal.role !== 'reviewer' && principal.role !== 'admin') {
        throw new HttpProblem(403, 'forbidden', 'Forbidden', 'the console is for reviewers and admins');
      }
      const session = await createConsoleSession(pool, principal, options.sessionHours);
      res.cookie(SESSION_COOKIE, session.sessionId, sessionCookieOptions(options.secureCookies, options.sessionHours * 3_600_000));
      res.setHeader('Cache-Control', 'no-store');
      res.status(201).json({ principal: { id: principal.id, role: principal.role, groups: principal.groups }, csrfToken: session.csrfToken, expiresAt: session.expiresAt });
    },
  );

  api.get(
    {
      path: '/v1/console/session',
      summary: 'The signed-in reviewer and the CSRF token of the session',
      tags: ['console'],
      roles: ['reviewer', 'admin'],
      responses: { 200: json(sessionView, 'The current session') },
    },
    (req, res) => {
      const principal = principalOf(req);
      res.setHeader('Cache-Control', 'no-store');
      res.json({
        principal: { id: principal.id, role: principal.role, groups: principal.groups },
        csrfToken: req.consoleSession?.csrfToken ?? null,
        expiresAt: req.consoleSession?.expiresAt ?? null,
      });
    },
  );

  api.post(
    {
      path: '/v1/console/session/end',
      summary: 'Sign out of the console (needs the CSRF token)',
      tags: ['console'],
      roles: ['reviewer', 'admin'],
      responses: { 204: { description: 'Signed out; the cookie is cleared' } },
    },
    async (req, res) => {
      if (req.consoleSession) await endConsoleSession(pool, req.consoleSession.id);
      clearSessionCookie(res, options.secureCookies);
      res.status(204).end();
    },
  );

  return api.router;
}
