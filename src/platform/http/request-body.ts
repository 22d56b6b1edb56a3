import express from 'express';
import type { Request, RequestHandler } from 'express';
import { findUnsafeJson, jsonPath } from '../../shared/json-safety';
import { FORM_ENDPOINTS } from './form-endpoints';
import { HttpProblem } from './problem';

/** The one JSON endpoint a caller without credentials may send a body to: the body is the credential. */
const SIGN_IN = '/v1/console/session';

/**
 * Whether this request's body may be read at all. Only authenticated callers, console sign-in and
 * the form endpoints that authenticate by a signature or token in the body (Slack, email links)
 * get theirs read; everyone else is answered 401 or 404 by routing without the body being touched.
 * A flood of unauthenticated 256 KB POSTs then costs the API a header parse each.
 */
export function mayReadBody(req: Request): boolean {
  return Boolean(req.principal) || FORM_ENDPOINTS.has(req.path) || (req.method === 'POST' && req.path === SIGN_IN);
}

/** Rejects bodies that are not JSON before parsing (the API speaks JSON only). */
const requireJsonBodies: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  const formEndpoint = FORM_ENDPOINTS.has(req.path) && req.is('application/x-www-form-urlencoded');
  if (hasBody && !req.is('application/json') && !formEndpoint) {
    return next(new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', 'send request bodies as application/json'));
  }
  next();
};

/**
 * A body JSON.parse accepts can still hold what Postgres or a JS number cannot keep exactly (a lone
 * surrogate, U+0000, 1e400, 9007199254740993): accepted, it would fail every evidence write or be
 * approved as a different value than sent. Refused with the path of the first such value.
 */
const refuseUnsafeJson: RequestHandler = (req, _res, next) => {
  const issue = req.body === undefined ? undefined : findUnsafeJson(req.body);
  if (!issue) return next();
  const path = jsonPath('body', issue.path);
  next(new HttpProblem(400, 'validation', 'Invalid request', `${path}: ${issue.message}`, { issues: [{ path, message: issue.message }] }));
};

/** JSON body parsing, for the requests `mayReadBody` lets through; mounted after authentication and rate limiting. */
export function requestBodies(limitBytes: number): RequestHandler[] {
  const onlyWhenReadable =
    (handler: RequestHandler): RequestHandler =>
    (req, res, next) =>
      mayReadBody(req) ? handler(req, res, next) : next();
  return [requireJsonBodies, express.json({ limit: limitBytes, strict: true }), refuseUnsafeJson].map(onlyWhenReadable);
}
