import type { BenchPolicyVariant } from './bench-policy';

/** What the bench's worker process runs against. */
export interface WorkerProcessSpec {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  floorTaskQueue: string;
  databaseUrl: string;
  /** The demo executor target (`target` in the bench policy). */
  targetUrl: string;
  maxCachedWorkflows: number;
}

// In the environment rather than argv, so `ps` does not show the database URL.
export const WORKER_SPEC_ENV = 'HOLDPOINT_BENCH_WORKER_SPEC';

export interface ProcessMemory {
  rss: number;
  heapUsed: number;
}

/** `policy`: evaluate from now on with that bench policy variant (answered with `policy` once in use). */
export type ToWorkerMessage = { type: 'memory'; id: number } | { type: 'policy'; id: number; variant: BenchPolicyVariant };
export type FromWorkerMessage = { type: 'ready' } | ({ type: 'memory'; id: number } & ProcessMemory) | { type: 'policy'; id: number; variant: BenchPolicyVariant };
