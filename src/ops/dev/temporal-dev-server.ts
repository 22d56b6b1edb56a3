import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { HOLDPOINT_SEARCH_ATTRIBUTES } from '../../shared/search-attributes';
import { freePort } from './free-port';
import { ManagedProcess } from './managed-process';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain-Node toolchain shared with bootstrap
const { findTemporalCli } = require('../../../scripts/toolchain.js') as { findTemporalCli: () => string };

export interface DevServerOptions {
  /** SQLite file for persistence; absent: in-memory (tests). */
  dbFile?: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  namespace?: string;
  log?: (line: string) => void;
  /** Dynamic-config values over the shipped ones (experiments: bench/handoff-probe.ts). */
  dynamicConfig?: Record<string, string | number>;
}

export interface RunningDevServer {
  address: string;
  uiUrl?: string;
  namespace: string;
  stop(): Promise<void>;
  /** SIGKILL, no shutdown: chaos tests crash the server and restart it on the same file and port. */
  kill(): Promise<void>;
}

const SEARCH_ATTRIBUTE_FLAGS = HOLDPOINT_SEARCH_ATTRIBUTES.flatMap((key) => [
  '--search-attribute',
  `${key.name}=${key.type === 'KEYWORD_LIST' ? 'KeywordList' : 'Keyword'}`,
]);

// These settings remove waits that every hand-off (a workflow or activity task becoming pollable)
// paid on an otherwise idle server:
// - one server process needs no task-queue partitions; with the default four, a task that lands on a
//   partition without a waiting poller is forwarded to the root first;
// - the dev server runs one history shard, whose transfer-queue reader defaults to 20 reads a second,
//   so each new task waited for the next read (~40 ms). Under load the reader still batches.
// deploy/temporal-dynamicconfig.yaml gives docker-compose's Temporal the same values.
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, number>> = {
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
  'history.transferProcessorMaxPollRPS': 1000,
};

/** Starts `temporal server start-dev` with our search attributes and waits until it answers. */
export async function startTemporalDevServer(options: DevServerOptions = {}): Promise<RunningDevServer> {
  const cli = findTemporalCli();
  const port = await freePort(options.port ?? 0);
  const namespace = options.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  let uiUrl: string | undefined;
  if (options.headless) args.push('--headless');
  else {
    const uiPort = await freePort(options.uiPort ?? 8233);
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://127.0.0.1:${uiPort}`;
  }
  if (options.dbFile) {
    fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (namespace !== 'default') args.push('--namespace', namespace);
  const dynamicConfig = { ...DEV_SERVER_DYNAMIC_CONFIG, ...options.dynamicConfig };
  args.push(...SEARCH_ATTRIBUTE_FLAGS, ...Object.entries(dynamicConfig).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]));

  const server = new ManagedProcess('temporal', cli, args);
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(text);
    if (output.length > 200) output.shift();
    options.log?.(text);
  };
  server.child.stdout?.on('data', collect);
  server.child.stderr?.on('data', collect);

  const address = `127.0.0.1:${port}`;
  try {
    await waitForFrontend(address, server);
  } catch (err) {
    await server.stop();
    throw new Error(`${(err as Error).message}\n${output.join('').slice(-4000)}`);
  }
  return { address, uiUrl, namespace, stop: () => server.stop(), kill: () => killGroup(server) };
}

async function killGroup(server: ManagedProcess): Promise<void> {
  if (server.running && server.child.pid) process.kill(-server.child.pid, 'SIGKILL');
  await server.exited;
}

async function waitForFrontend(address: string, server: ManagedProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!server.running) throw new Error(`temporal dev server exited with code ${server.child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`temporal dev server did not answer on ${address}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
