import { isRole, ROLES } from '../../access/principal';
import { createPrincipalKey, listPrincipals, PrincipalError, revokeKeys, setPrincipalDisabled, type ApiKeySummary } from '../../access/principal-repository';
import { databaseCommand, type CommandContext, type DatabaseTask } from './command-io';
import { dispatch, parseFlags, UsageError, type CommandGroup, type CommandIo } from './dispatch';

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

// Principals are runtime data: keys connects as DATABASE_URL, never as the owner.
const RUNTIME = { as: 'runtime' } as const;

export const keysCommands: CommandGroup = {
  name: 'holdpoint keys',
  usage: USAGE,
  commands: {
    create: databaseCommand('keys', parseCreate, RUNTIME),
    list: databaseCommand('keys', parseList, RUNTIME),
    revoke: databaseCommand('keys', parseRevoke, RUNTIME),
    disable: databaseCommand('keys', (argv, context) => parseSetDisabled(argv, context, true), RUNTIME),
    enable: databaseCommand('keys', (argv, context) => parseSetDisabled(argv, context, false), RUNTIME),
  },
  exitCodeOf: (err) => (err instanceof PrincipalError ? (err.code === 'invalid' ? 2 : 1) : undefined),
};

/** `holdpoint keys`: returns the exit code (0 done, 1 refused or failed, 2 bad usage or configuration). */
export function keysCommand(argv: string[], io: CommandIo = {}): Promise<number> {
  return dispatch(keysCommands, argv, io);
}

function parseCreate(argv: string[], { stdout: out }: CommandContext): DatabaseTask {
  const flags = parseFlags(argv, {
    id: { type: 'string' },
    role: { type: 'string' },
    groups: { type: 'string' },
    name: { type: 'string' },
    email: { type: 'string' },
    slack: { type: 'string' },
    'allow-role-change': { type: 'boolean' },
  });
  const { id, role } = flags;
  if (!id) throw new UsageError('--id is required');
  if (!isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}${role === undefined ? '' : `, not ${role}`}`);
  const groups = (flags.groups ?? '')
    .split(',')
    .map((group) => group.trim())
    .filter(Boolean);

  return async (pool) => {
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

function parseList(argv: string[], { stdout: out }: CommandContext): DatabaseTask {
  parseFlags(argv, {});
  return async (pool) => {
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

function parseRevoke(argv: string[], { stdout: out }: CommandContext): DatabaseTask {
  const flags = parseFlags(argv, { id: { type: 'string' }, 'key-id': { type: 'string' } });
  const principalId = flags.id;
  const keyId = flags['key-id'];
  if ((principalId === undefined) === (keyId === undefined)) throw new UsageError('give exactly one of --id or --key-id');
  const [target, what] = principalId !== undefined ? [{ principalId }, `principal ${principalId}`] : [{ keyId: keyId as string }, `key ${keyId}`];

  return async (pool) => {
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

function parseSetDisabled(argv: string[], { stdout: out }: CommandContext, disabled: boolean): DatabaseTask {
  const flags = parseFlags(argv, { id: { type: 'string' } });
  const principalId = flags.id;
  if (!principalId) throw new UsageError('--id is required');
  return async (pool) => {
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
