import { parseArgs } from 'node:util';
import type { Pool } from 'pg';
import { isRole, ROLES } from '../../access/principal';
import { ConfigError, loadConfig } from '../../platform/config';
import { migrate } from '../../platform/postgres/migrate';
import { createPool } from '../../platform/postgres/pool';
import { createPrincipalKey, listPrincipals, PrincipalError, revokeKeys, setPrincipalDisabled, type ApiKeySummary } from '../../access/principal-repository';

export interface CommandOutput {
  write(text: string): unknown;
}

export interface KeysCommandIo {
  stdout?: CommandOutput;
  stderr?: CommandOutput;
  /** The environment to read configuration from (tests point DATABASE_URL at their schema). */
  env?: NodeJS.ProcessEnv;
}

const USAGE = `usage: holdpoint keys <command>

  create --id <id> --role <${ROLES.join('|')}> [--groups a,b] [--name <display name>]
         [--email <address>] [--slack <Slack user id>] [--allow-role-change]
                           create or update a principal and issue it a new API key
  list                     principals with their key ids and key states
  revoke --id <id>         revoke every active key of a principal: it also loses its console
                           sessions, Slack buttons and email links (a new key with create restores it)
  revoke --key-id <keyid>  revoke one key (and the console sessions opened with it)
  disable --id <id>        refuse the principal everywhere (API keys, console, Slack, email links)
                           and end its console sessions, keeping its keys for enable
  enable --id <id>         allow a disabled principal again

Needs DATABASE_URL.
`;

class UsageError extends Error {}

/** A parsed subcommand, ready to run against the database. */
type KeysTask = (pool: Pool, out: CommandOutput) => Promise<number>;

const SUBCOMMANDS: Record<string, (argv: string[]) => KeysTask> = {
  create: parseCreate,
  list: parseList,
  revoke: parseRevoke,
  disable: (argv) => parseSetDisabled(argv, true),
  enable: (argv) => parseSetDisabled(argv, false),
};

/** `holdpoint keys`: returns the exit code (0 done, 1 refused or failed, 2 bad usage or configuration). */
export async function keysCommand(argv: string[], io: KeysCommandIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h' || rest.includes('--help') || rest.includes('-h')) {
    (name === undefined ? stderr : stdout).write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const parse = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (!parse) {
    stderr.write(`holdpoint keys: unknown command ${name}\n\n${USAGE}`);
    return 2;
  }

  // Flags first: a typo is reported as such, before any configuration or connection problem.
  let task: KeysTask;
  try {
    task = parse(rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    stderr.write(`holdpoint keys ${name}: ${err.message}\n\n${USAGE}`);
    return 2;
  }

  let databaseUrl: string | undefined;
  try {
    databaseUrl = loadConfig(io.env ?? process.env).database.url;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    stderr.write(`${err.message}\n`);
    return 2;
  }
  if (!databaseUrl) {
    stderr.write('holdpoint keys: set DATABASE_URL, or run while `npm start` is up and use the URL it printed\n');
    return 2;
  }

  const pool = createPool(databaseUrl, 2);
  try {
    await migrate(pool);
    return await task(pool, stdout);
  } catch (err) {
    if (!(err instanceof PrincipalError)) throw err;
    stderr.write(`holdpoint keys ${name}: ${err.message}\n`);
    return err.code === 'invalid' ? 2 : 1;
  } finally {
    await pool.end();
  }
}

/** parseArgs throws TypeErrors (unknown flag, missing value, stray argument); they are usage errors here. */
function parseFlags<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

function parseCreate(argv: string[]): KeysTask {
  const { values: flags } = parseFlags(() =>
    parseArgs({
      args: argv,
      strict: true,
      options: {
        id: { type: 'string' },
        role: { type: 'string' },
        groups: { type: 'string' },
        name: { type: 'string' },
        email: { type: 'string' },
        slack: { type: 'string' },
        'allow-role-change': { type: 'boolean' },
      },
    }),
  );
  const { id, role } = flags;
  if (!id) throw new UsageError('--id is required');
  if (!isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  const groups = (flags.groups ?? '')
    .split(',')
    .map((group) => group.trim())
    .filter(Boolean);

  return async (pool, out) => {
    const { principal, apiKey } = await createPrincipalKey(
      pool,
      { id, role, groups, displayName: flags.name, email: flags.email, slackUserId: flags.slack },
      { allowRoleChange: flags['allow-role-change'] === true },
    );
    out.write(
      `Issued key ${principal.keyId} to ${principal.role} ${principal.id}` +
        `${principal.groups.length > 0 ? ` (groups: ${principal.groups.join(', ')})` : ''}\n\n` +
        `  ${apiKey}\n\n` +
        'Copy it now: it is not shown again (Holdpoint keeps only its SHA-256 hash).\n',
    );
    return 0;
  };
}

function parseList(argv: string[]): KeysTask {
  parseFlags(() => parseArgs({ args: argv, strict: true, options: {} }));
  return async (pool, out) => {
    const principals = await listPrincipals(pool);
    if (principals.length === 0) {
      out.write('No principals yet. Create one with: holdpoint keys create --id <id> --role <role>\n');
      return 0;
    }
    const rows = principals.map((principal) => [
      principal.id,
      principal.role,
      principal.disabledAt ? 'disabled' : 'enabled',
      principal.groups.join(',') || '-',
      principal.keys.map(describeKey).join(', ') || '-',
    ]);
    out.write(formatTable(['ID', 'ROLE', 'STATE', 'GROUPS', 'KEYS'], rows));
    return 0;
  };
}

function describeKey(key: ApiKeySummary): string {
  if (key.revokedAt) return `${key.keyId} (revoked)`;
  return `${key.keyId} (active, ${key.lastUsedAt ? `last used ${key.lastUsedAt}` : 'never used'})`;
}

function parseRevoke(argv: string[]): KeysTask {
  const { values: flags } = parseFlags(() =>
    parseArgs({ args: argv, strict: true, options: { id: { type: 'string' }, 'key-id': { type: 'string' } } }),
  );
  const principalId = flags.id;
  const keyId = flags['key-id'];
  if ((principalId === undefined) === (keyId === undefined)) throw new UsageError('give exactly one of --id or --key-id');
  const [target, what] = principalId !== undefined ? [{ principalId }, `principal ${principalId}`] : [{ keyId: keyId as string }, `key ${keyId}`];

  return async (pool, out) => {
    const count = await revokeKeys(pool, target);
    // Nothing to revoke is worth a non-zero exit: usually a mistyped id, and scripts should notice.
    if (count === 0) {
      out.write(`No active key matched ${what}; nothing revoked.\n`);
      return 1;
    }
    out.write(`Revoked ${count} key${count === 1 ? '' : 's'} of ${what}.\n`);
    return 0;
  };
}

function parseSetDisabled(argv: string[], disabled: boolean): KeysTask {
  const { values: flags } = parseFlags(() => parseArgs({ args: argv, strict: true, options: { id: { type: 'string' } } }));
  const principalId = flags.id;
  if (!principalId) throw new UsageError('--id is required');
  return async (pool, out) => {
    if (!(await setPrincipalDisabled(pool, principalId, disabled))) {
      out.write(`No principal ${principalId}; nothing ${disabled ? 'disabled' : 'enabled'}.\n`);
      return 1;
    }
    out.write(
      disabled
        ? `Disabled ${principalId}: its API keys, console sessions, Slack buttons and email links are refused until \`keys enable --id ${principalId}\`.\n`
        : `Enabled ${principalId}.\n`,
    );
    return 0;
  };
}

function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .concat('\n');
  return [header, ...rows].map(line).join('');
}
