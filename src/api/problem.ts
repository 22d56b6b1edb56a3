import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';

export interface ProblemIssue {
  path: string;
  message: string;
}

/** An RFC 9457 problem the API answers with; `type` is stable and documented. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail: string,
    readonly extra: { issues?: ProblemIssue[]; retryAfterSeconds?: number; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

export const PROBLEM_BASE = 'https://holdpoint.dev/problems/';

export function validationProblem(error: z.ZodError, where: 'body' | 'query' | 'params' | 'headers'): HttpProblem {
  const issues = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  return new HttpProblem(400, 'validation', 'Invalid request', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { issues });
}

/** Temporal or Postgres unreachable: a 503 with Retry-After, never a hang or a stack trace. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; name?: string; message?: string };
  const message = e?.message ?? '';
  return (
    e?.name === 'ServiceError' ||
    (typeof e?.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001'].includes(e.code)) ||
    /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|UNAVAILABLE|DEADLINE_EXCEEDED/i.test(message)
  );
}

export function problemMiddleware(logger: Pick<Logger, 'error' | 'warn'>): ErrorRequestHandler {
  return (err, req, res, next) => {
    void next;
    let problem: HttpProblem;
    if (err instanceof HttpProblem) problem = err;
    else if (err?.type === 'entity.too.large') problem = new HttpProblem(413, 'payload-too-large', 'Payload too large', `request bodies are limited to ${err.limit} bytes`);
    else if (err?.type === 'entity.parse.failed') problem = new HttpProblem(400, 'malformed-json', 'Malformed JSON', `the body is not valid JSON: ${err.message}`);
    else if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported') problem = new HttpProblem(415, 'unsupported-media-type', 'Unsupported encoding', err.message);
    else if (isUnavailable(err)) {
      logger.warn({ err, requestId: req.id }, 'dependency unavailable');
      problem = new HttpProblem(503, 'unavailable', 'Service unavailable', 'a backing service (Temporal or Postgres) is unreachable; retry later', { retryAfterSeconds: 5 });
    } else {
      logger.error({ err, requestId: req.id }, 'unhandled error');
      problem = new HttpProblem(500, 'internal', 'Internal error', 'an unexpected error occurred; it has been logged');
    }
    if (problem.extra.retryAfterSeconds) res.setHeader('Retry-After', String(problem.extra.retryAfterSeconds));
    for (const [name, value] of Object.entries(problem.extra.headers ?? {})) res.setHeader(name, value);
    res
      .status(problem.status)
      .type('application/problem+json')
      .send(
        JSON.stringify({
          type: `${PROBLEM_BASE}${problem.type}`,
          title: problem.title,
          status: problem.status,
          detail: problem.detail,
          instance: req.originalUrl,
          ...(problem.extra.issues ? { issues: problem.extra.issues } : {}),
        }),
      );
  };
}
