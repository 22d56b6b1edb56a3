import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TargetCall {
  idempotencyKey: string | undefined;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

export interface DemoTarget {
  url: string;
  /** Every request received, retries included. */
  calls: TargetCall[];
  /** Side effects applied: one per distinct Idempotency-Key. */
  effects: Map<string, unknown>;
  /** Status codes to answer before succeeding (e.g. [503, 503] then 200). */
  failNext(...statuses: number[]): void;
  close(): Promise<void>;
}

/** `billing:cus_123` when the call names its resource (type and id) and agent; otherwise undefined. */
function routedResource(body: unknown): string | undefined {
  const call = body as { agent?: { id?: unknown }; resource?: { type?: unknown; id?: unknown } } | null;
  const resource = call?.resource;
  if (typeof call?.agent?.id !== 'string' || typeof resource?.type !== 'string' || typeof resource.id !== 'string') return undefined;
  return `${resource.type}:${resource.id}`;
}

/**
 * A stand-in for a system an executor calls (payments, CRM): applies each Idempotency-Key once,
 * the way a well-behaved target does. Used by `npm start` and by tests as the executor's view.
 * Like a real target it acts on the resource the call names, so a call without one is refused (422).
 */
export async function startDemoTarget(port = 0): Promise<DemoTarget> {
  const calls: TargetCall[] = [];
  const effects = new Map<string, unknown>();
  const queued: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      const idempotencyKey = req.headers['idempotency-key'] as string | undefined;
      calls.push({ idempotencyKey, body, headers: req.headers });
      const status = queued.shift() ?? 200;
      if (status >= 300) {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `simulated ${status}` }));
        return;
      }
      const resource = routedResource(body);
      if (resource === undefined) {
        res.writeHead(422, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'the call names no agent or resource to act on' }));
        return;
      }
      const key = idempotencyKey ?? `anonymous-${calls.length}`;
      const firstTime = !effects.has(key);
      if (firstTime) effects.set(key, body);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ applied: true, replayed: !firstTime, key, resource }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/execute`,
    calls,
    effects,
    failNext: (...statuses) => queued.push(...statuses),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
