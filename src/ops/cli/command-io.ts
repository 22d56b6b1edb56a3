import type { Pool } from 'pg';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../../platform/config';
import { migrate } from '../../platform/postgres/migrate';
import { createPool } from '../../platform/postgres/pool';
import { parseDuration } from '../../shared/duration';

export interface CommandOutput {
  write(text: string): unknown;
}

export interface CommandIo {
  stdout?: CommandOutput;
  stderr?: CommandOutput;
  /** The environment to read configuration from (tests point DATABASE_URL at their schema). */
  env?: NodeJS.ProcessEnv;
  /** Tests fix the clock for --since and retention. */
  now?: Date;
}

export class UsageError extends Error {}

/** parseArgs throws TypeErrors (unknown flag, missing value); they are usage errors here. */
export function parseFlags<T extends ParseArgsConfig['options']>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** `30d`, `12h` (that long before now) or an ISO-8601 instant. */
export function parseInstant(text: string, now: Date, flag: string): Date {
  const duration = parseDuration(text);
  if (duration !== undefined) return new Date(now.getTime() - duration);
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) throw new UsageError(`${flag} must be a duration such as 30d or an ISO-8601 time, not ${text}`);
  return new Date(parsed);
}

/**
 * Loads configuration and a migrated pool for a CLI command, reporting configuration problems
 * as exit code 2; the pool is always closed afterwards.
 */
export async function withDatabase(name: string, io: CommandIo, run: (pool: Pool, config: Config) => Promise<number>): Promise<number> {
  const stderr = io.stderr ?? process.stderr;
  let config: Config;
  try {
    config = loadConfig(io.env ?? process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    stderr.write(`${err.message}\n`);
    return 2;
  }
  if (!config.database.url) {
    stderr.write(`holdpoint ${name}: set DATABASE_URL, or run while \`npm start\` is up and use the URL it printed\n`);
    return 2;
  }
  // Operators act as the owner when it is configured: `audit prune` removes evidence, which the runtime role may not.
  const pool = createPool(config.database.migrationUrl ?? config.database.url, 2);
  try {
    await migrate(pool);
    return await run(pool, config);
  } finally {
    await pool.end();
  }
}
