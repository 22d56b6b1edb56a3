import type { RequestHandler } from 'express';
import { HttpProblem, sendProblem } from '../platform/http/problem';

/** Every request answers within this, plus the long-poll it asked for (?wait / ?timeout, at most 60 s). */
export const REQUEST_BOUND_MS = 10_000;
const MAX_WAIT_SECONDS = 60;

function requestedWaitMs(query: Record<string, unknown>): number {
  const seconds = Number(query.wait ?? query.timeout ?? 0);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, MAX_WAIT_SECONDS) * 1000 : 0;
}

/**
 * The backstop behind every other timeout: whatever is down (Temporal, Postgres, the worker), a
 * request that has not answered within its bound gets 503 problem+json with Retry-After instead of
 * hanging until the client gives up. The handler's own late answer is then dropped.
 */
export function requestDeadline(boundMs = REQUEST_BOUND_MS): RequestHandler {
  return (req, res, next) => {
    const limit = boundMs + requestedWaitMs(req.query as Record<string, unknown>);
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      sendProblem(
        req,
        res,
        new HttpProblem(503, 'unavailable', 'Service unavailable', `no answer within ${limit / 1000} s: Temporal, the worker or Postgres is slow or unavailable; retry later`, {
          retryAfterSeconds: 5,
        }),
      );
    }, limit);
    timer.unref();
    const done = () => clearTimeout(timer);
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}
