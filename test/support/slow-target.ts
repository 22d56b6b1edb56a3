import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowTarget {
  url: string;
  /** Requests received per Idempotency-Key, retries included. */
  calls: Map<string, number>;
  /** Side effects applied: one per distinct Idempotency-Key. */
  effects: Set<string>;
  /** Requests currently being held. */
  inFlight(): number;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/**
 * An executor target that holds each response `delayMs` (so executions are in flight when a
 * process is killed) and applies each Idempotency-Key once, like a well-behaved payments API.
 */
export async function startSlowTarget(delayMs = 0): Promise<SlowTarget> {
  let delay = delayMs;
  let holding = 0;
  const calls = new Map<string, number>();
  const effects = new Set<string>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? 'missing');
      calls.set(key, (calls.get(key) ?? 0) + 1);
      holding += 1;
      setTimeout(() => {
        holding -= 1;
        const replayed = effects.has(key);
        effects.add(key);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ applied: true, replayed, key }));
      }, delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/execute`,
    calls,
    effects,
    inFlight: () => holding,
    setDelay: (ms) => (delay = ms),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
