import { spawn } from 'node:child_process';
import type { BenchPolicyVariant } from './bench-policy';
import { WORKER_SPEC_ENV, type FromWorkerMessage, type ProcessMemory, type ToWorkerMessage, type WorkerProcessSpec } from './worker-protocol';

const ENTRY = require.resolve('./worker-process');

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface WorkerChild {
  pid: number;
  maxCachedWorkflows: number;
  /** The worker process's memory, read there after a full GC. */
  memory(): Promise<ProcessMemory>;
  /** Resolves once the worker evaluates with this bench policy variant. */
  usePolicy(variant: BenchPolicyVariant): Promise<void>;
  stop(): Promise<void>;
}

/** Starts bench/worker-process.ts and resolves once both of its workers are polling. */
export async function startWorkerChild(spec: WorkerProcessSpec, log: (line: string) => void): Promise<WorkerChild> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', ENTRY], {
    env: { ...process.env, [WORKER_SPEC_ENV]: JSON.stringify(spec) },
    // Its stdout to our stderr: our stdout carries the results table.
    stdio: ['ignore', 2, 'inherit', 'ipc'],
  });
  // Covers process.exit and uncaught errors here; a SIGKILL of ours closes the IPC channel, which the worker watches.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopping = false;
  const requests = new Map<number, { resolve: (message: FromWorkerMessage) => void; reject: (err: Error) => void }>();
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit);
      const how = signal ? `signal ${signal}` : `code ${code}`;
      for (const request of requests.values()) request.reject(new Error(`worker process exited (${how})`));
      requests.clear();
      if (!stopping || code !== 0) log(`worker process ${child.pid} exited with ${how}${stopping ? '' : ' while the bench was running'}`);
      resolve(how);
    });
    // Spawning itself failed: there will be no exit event.
    child.once('error', (err) => child.pid === undefined && resolve(`not started: ${err.message}`));
  });

  const ready = new Promise<void>((resolve, reject) => {
    void exited.then((how) => reject(new Error(`worker process exited before it was ready (${how})`)));
    child.on('message', (message: FromWorkerMessage) => {
      if (message.type === 'ready') return resolve();
      requests.get(message.id)?.resolve(message);
      requests.delete(message.id);
    });
  });

  const stop = async () => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const hardStop = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(hardStop);
  };
  await ready.catch(async (err: unknown) => {
    await stop();
    throw err;
  });

  let nextId = 0;
  const ask = (message: DistributiveOmit<ToWorkerMessage, 'id'>) =>
    new Promise<FromWorkerMessage>((resolve, reject) => {
      const id = ++nextId;
      requests.set(id, { resolve, reject });
      child.send({ ...message, id } as ToWorkerMessage, (err) => {
        if (!err) return;
        requests.delete(id);
        reject(err);
      });
    });
  return {
    pid: child.pid!,
    maxCachedWorkflows: spec.maxCachedWorkflows,
    memory: async () => {
      const answer = await ask({ type: 'memory' });
      if (answer.type !== 'memory') throw new Error(`worker process answered ${answer.type} to a memory request`);
      return { rss: answer.rss, heapUsed: answer.heapUsed };
    },
    usePolicy: async (variant) => {
      await ask({ type: 'policy', variant });
    },
    stop,
  };
}
