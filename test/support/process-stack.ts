import path from 'node:path';
import { ManagedProcess } from '../../src/ops/dev/managed-process';

const root = path.resolve(__dirname, '../..');

export interface ProcessEnv {
  databaseUrl: string;
  /** DATABASE_MIGRATION_URL: the owner, when the processes should migrate and grant as in production. */
  migrationUrl?: string;
  temporalAddress: string;
  taskQueue: string;
  policyPath: string;
  executorUrl: string;
  extra?: Record<string, string>;
}

export interface RunningChild {
  process: ManagedProcess;
  /** The last lines of output, for failure messages. */
  output(): string;
  /** SIGKILL the whole process group, no shutdown hooks. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

function childEnv(env: ProcessEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOLDPOINT_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: env.databaseUrl,
    ...(env.migrationUrl ? { DATABASE_MIGRATION_URL: env.migrationUrl } : {}),
    DATABASE_POOL_MAX: '10',
    TEMPORAL_ADDRESS: env.temporalAddress,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
    POLICY_PATH: env.policyPath,
    EXECUTORS: JSON.stringify({ target: { url: env.executorUrl } }),
    CHECKPOINT_INTERVAL: 'off',
    API_HOST: '127.0.0.1',
    ...env.extra,
  };
}

function spawnChild(name: string, file: string, env: NodeJS.ProcessEnv): { child: ManagedProcess; lines: string[] } {
  const child = new ManagedProcess(name, process.execPath, ['--import', 'tsx', path.join(root, file)], {
    env,
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    lines.push(chunk.toString());
    if (lines.length > 300) lines.shift();
  };
  child.child.stdout?.on('data', collect);
  child.child.stderr?.on('data', collect);
  return { child, lines };
}

function running(child: ManagedProcess, lines: string[]): RunningChild {
  return {
    process: child,
    output: () => lines.join('').slice(-6000),
    async kill() {
      if (child.running && child.child.pid) process.kill(-child.child.pid, 'SIGKILL');
      await child.exited;
    },
    stop: () => child.stop(5_000),
  };
}

async function waitFor<T>(what: string, child: ManagedProcess, lines: string[], ready: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not ready after ${timeoutMs} ms:\n${lines.join('').slice(-4000)}`)), timeoutMs);
    void child.exited.then((code) => reject(new Error(`${what} exited (code ${code}) before it was ready:\n${lines.join('').slice(-4000)}`)));
  });
  try {
    return await Promise.race([ready, failed]);
  } finally {
    clearTimeout(timer);
  }
}

/** `src/gate/worker.ts` as its own process, the way `npm start` runs it; resolves once it polls. */
export async function startWorkerChild(env: ProcessEnv, timeoutMs = 60_000): Promise<RunningChild> {
  const { child, lines } = spawnChild('worker', 'src/gate/worker.ts', childEnv(env));
  const ready = new Promise<void>((resolve) => {
    const check = (chunk: Buffer) => {
      if (chunk.toString().includes('worker running')) {
        child.child.stdout?.off('data', check);
        resolve();
      }
    };
    child.child.stdout?.on('data', check);
  });
  try {
    await waitFor('worker', child, lines, ready, timeoutMs);
  } catch (err) {
    await child.stop(1_000);
    throw err;
  }
  return running(child, lines);
}

/** `src/api/server.ts` as its own process; resolves with its base URL. */
export async function startApiChild(env: ProcessEnv, port = 0, timeoutMs = 60_000): Promise<RunningChild & { baseUrl: string }> {
  const { child, lines } = spawnChild('api', 'src/api/server.ts', childEnv({ ...env, extra: { API_PORT: String(port), API_RATE_LIMIT_PER_MINUTE: '1000000', ...env.extra } }));
  const ready = new Promise<number>((resolve) => {
    child.child.on('message', (message: { type?: string; port?: number }) => {
      if (message?.type === 'listening' && message.port) resolve(message.port);
    });
  });
  let bound: number;
  try {
    bound = await waitFor('api', child, lines, ready, timeoutMs);
  } catch (err) {
    await child.stop(1_000);
    throw err;
  }
  return { ...running(child, lines), baseUrl: `http://127.0.0.1:${bound}` };
}
