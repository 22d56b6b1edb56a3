import express from 'express';
import type { AddressInfo } from 'node:net';
import { ServiceError } from '@temporalio/client';
import { isResourceExhausted, problemMiddleware } from '../../src/platform/http/problem';

/** A Temporal refusal for load is the caller's cue to come back: 429 with Retry-After, never "unreachable". */
describe('Temporal refusing for load', () => {
  const grpcExhausted = Object.assign(new Error('8 RESOURCE_EXHAUSTED: limit on number of concurrent in-flight updates has been reached (10)'), { code: 8 });

  it('recognises RESOURCE_EXHAUSTED however the client wraps it', () => {
    expect(isResourceExhausted(grpcExhausted)).toBe(true);
    expect(isResourceExhausted(new ServiceError('Failed to issue update', { cause: grpcExhausted }))).toBe(true);
    expect(isResourceExhausted(Object.assign(new Error('14 UNAVAILABLE: connection refused'), { code: 14 }))).toBe(false);
  });

  it('answers 429 problem+json with Retry-After', async () => {
    const app = express();
    app.get('/', (_req, _res, next) => next(new ServiceError('Failed to issue update', { cause: grpcExhausted })));
    app.use(problemMiddleware({ error() {}, warn() {} }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const body = (await response.json()) as { type: string; detail: string };
      expect(body.type).toMatch(/temporal-busy$/);
      expect(body.detail).not.toMatch(/unreachable/);
    } finally {
      server.close();
    }
  });
});
