import type { Pool } from 'pg';
import { ConfigError, loadConfig, type Config } from '../../platform/config';
import { migrate } from '../../platform/postgres/migrate';
import { createPool } from '../../platform/postgres/pool';
import { parseInstant } from '../../shared/duration';
import { UsageError, type Command, type CommandIo, type CommandOutput } from './dispatch';

/** What a command's flags are read with; its output goes to `stdout` and `stderr`. */
export interface CommandContext {
  stdout: CommandOutput;
  stderr: CommandOutput;
  now: Date;
}

export type DatabaseTask = (pool: Pool, config: Config) => Promise<number>;

/** A flag that takes `30d`, `12h` (that long before now) or an ISO-8601 date or time. */
export function instantFlag(text: string, now: Date, flag: string): Date {
  const instant = parseInstant(text, now);
  if (!instant) throw new UsageError(`${flag} must be a duration such as 30d (at most 36500d) or an ISO-8601 date or time, not ${text}`);
  return instant;
}

/**
 * A command that reads its flags first, so a typo is reported as such before any configuration
 * or connection problem, then runs against the database (`withDatabase`).
 */
export function databaseCommand(name: string, parse: (argv: string[], context: CommandContext) => DatabaseTask, options: { as?: 'owner' | 'runtime' } = {}): Command {
  return {
    run: (argv, io) => {
      const task = parse(argv, { stdout: io.stdout ?? process.stdout, stderr: io.stderr ?? process.stderr, now: io.now ?? new Date() });
      return withDatabase(name, io, task, options);
    },
  };
}

/**
 * Loads configuration and a migrated pool for a CLI command, reporting configuration problems
 * as exit code 2; the pool is always closed afterwards. Operators act as the owner
 * (DATABASE_MIGRATION_URL) when it is configured, unless `as: 'runtime'`.
 */
export async function withDatabase(
  name: string,
  io: CommandIo,
  run: DatabaseTask,
  options: { as?: 'owner' | 'runtime' } = {},
): Promise<number> {
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
  // `audit prune` removes evidence, which the runtime role may not.
  const url = options.as === 'runtime' ? config.database.url : (config.database.migrationUrl ?? config.database.url);
  const pool = createPool(url, 2);
  try {
    await migrate(pool);
    return await run(pool, config);
  } finally {
    await pool.end();
  }
}
