/**
 * The bench's worker process: the Holdpoint worker and the floor worker, kept apart from the API
 * and the load generator so figure 5 measures the worker's own memory. Started by worker-child.ts
 * with the spec in WORKER_SPEC_ENV; answers memory requests over IPC.
 */
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';
import { createPool } from '../src/platform/postgres/pool';
import { HttpExecutor } from '../src/gate/executors/http-executor';
import { createHoldpointWorker, WORKFLOWS_PATH } from '../src/gate/worker-runtime';
import { switchableBenchEngine } from './bench-policy';
import type { FloorActivities } from './floor-workflow';
import { WORKER_SPEC_ENV, type FromWorkerMessage, type ToWorkerMessage, type WorkerProcessSpec } from './worker-protocol';

const FLOOR_WORKFLOWS_PATH = require.resolve('./floor-workflow');
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never;

const send = (message: FromWorkerMessage) => process.send?.(message);

async function main(): Promise<number> {
  const spec = JSON.parse(process.env[WORKER_SPEC_ENV] ?? 'null') as WorkerProcessSpec | null;
  if (!spec) throw new Error(`${WORKER_SPEC_ENV} is not set; bench/worker-child.ts starts this process`);
  // No SDK signal hooks: this process decides when to stop (below), and the SDK's INFO lines would
  // drown the bench's progress output.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });

  const [bundle, floorBundle] = await Promise.all([
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: silent }),
    bundleWorkflowCode({ workflowsPath: FLOOR_WORKFLOWS_PATH, logger: silent }),
  ]);
  const pool = createPool(spec.databaseUrl, 20);
  const connection = await NativeConnection.connect({ address: spec.temporalAddress });
  const floorActivities: FloorActivities = { noop: async () => undefined };
  // The bench policy, with or without cumulative limits, as the bench asks (figure 7 alternates).
  const policy = switchableBenchEngine();
  const workers = await Promise.all([
    createHoldpointWorker({
      connection,
      namespace: spec.namespace,
      taskQueue: spec.taskQueue,
      workflowBundle: bundle,
      maxCachedWorkflows: spec.maxCachedWorkflows,
      deps: {
        pool,
        policy,
        channels: [],
        executors: new Map([['target', new HttpExecutor({ url: spec.targetUrl })]]),
        logger: pino({ level: 'silent' }),
      },
    }),
    Worker.create({ connection, namespace: spec.namespace, taskQueue: spec.floorTaskQueue, workflowBundle: floorBundle, activities: floorActivities }),
  ]);

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    // A shutdown stuck on an unreachable server must not keep this process alive.
    setTimeout(() => process.exit(1), 15_000).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  // The IPC channel closes however the bench ends, SIGKILL included: never outlive it.
  process.once('disconnect', shutdown);
  process.on('message', (message: ToWorkerMessage) => {
    if (message.type === 'policy') {
      policy.use(message.variant);
      send({ type: 'policy', id: message.id, variant: message.variant });
      return;
    }
    // After a full GC, so the figure is what the worker holds rather than garbage not yet collected.
    global.gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    send({ type: 'memory', id: message.id, rss, heapUsed });
  });

  // One worker failing takes the other down with it, so the bench sees the process exit.
  const running = workers.map((worker) => worker.run().finally(shutdown));
  send({ type: 'ready' });
  const outcomes = await Promise.allSettled(running);
  await pool.end();
  await connection.close();
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure) process.stderr.write(`worker process: ${String(failure.reason)}\n`);
  return failure ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`worker process failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
