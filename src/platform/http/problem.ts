import type { ErrorRequestHandler, Request, Response } from 'express';
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

/** Which backing service an error says is unreachable, if any: a 503 naming it, never a hang or a stack trace. */
export function unavailableService(err: unknown): 'Temporal' | 'Postgres' | undefined {
  const e = err as { code?: unknown; name?: string; message?: string };
  const message = e?.message ?? '';
  if (e?.name === 'ServiceError' || /UNAVAILABLE|DEADLINE_EXCEEDED/.test(message)) return 'Temporal';
  if (
    (typeof e?.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001'].includes(e.code)) ||
    /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Query read timeout/i.test(message)
  ) {
    return 'Postgres';
  }
  return undefined;
}

/** Temporal refused for load (too many in-flight Updates or requests): the caller should come back shortly. */
export function isResourceExhausted(err: unknown): boolean {
  const e = err as { code?: unknown; message?: string; cause?: { code?: unknown; message?: string } };
  const grpcResourceExhausted = 8;
  return e?.code === grpcResourceExhausted || e?.cause?.code === grpcResourceExhausted || /RESOURCE_EXHAUSTED/.test(`${e?.message ?? ''} ${e?.cause?.message ?? ''}`);
}

export function problemMiddleware(logger: Pick<Logger, 'error' | 'warn'>): ErrorRequestHandler {
  return (err, req, res, next) => {
    void next;
    // Answered already (the request deadline did, and the handler failed afterwards): nothing to add.
    if (res.headersSent) return;
    let problem: HttpProblem;
    if (err instanceof HttpProblem) problem = err;
    else if (err?.type === 'entity.too.large') problem = new HttpProblem(413, 'payload-too-large', 'Payload too large', `request bodies are limited to ${err.limit} bytes`);
    else if (err?.type === 'entity.parse.failed') problem = new HttpProblem(400, 'malformed-json', 'Malformed JSON', `the body is not valid JSON: ${err.message}`);
    else if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported') problem = new HttpProblem(415, 'unsupported-media-type', 'Unsupported encoding', err.message);
    else if (isResourceExhausted(err)) {
      logger.warn({ err, requestId: req.id }, 'temporal refused for load');
      problem = new HttpProblem(429, 'temporal-busy', 'Too many requests in flight', 'Temporal refused the request for load (too many in flight for this action or namespace); retry shortly', { retryAfterSeconds: 1 });
    } else if (unavailableService(err)) {
      const service = unavailableService(err);
      logger.warn({ err, requestId: req.id, service }, 'dependency unavailable');
      problem = new HttpProblem(503, 'unavailable', 'Service unavailable', `${service} is unreachable; retry later`, { retryAfterSeconds: 5 });
    } else {
      logger.error({ err, requestId: req.id }, 'unhandled error');
      problem = new HttpProblem(500, 'internal', 'Internal error', 'an unexpected error occurred; it has been logged');
    }
    sendProblem(req, res, problem);
  };
}

/** Writes `problem` as RFC 9457 problem+json, with its Retry-After and headers. */
export function sendProblem(req: Request, res: Response, problem: HttpProblem): void {
  // Refused before its body was read (no credentials, rate limited, too large): close the connection
  // rather than read and discard the rest, so a flood of large bodies costs a header parse each.
  if (!req.complete) {
    res.setHeader('Connection', 'close');
    res.once('finish', () => req.socket.destroy());
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
}
