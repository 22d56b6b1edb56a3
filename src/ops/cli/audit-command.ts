import fs from 'node:fs';
import { once } from 'node:events';
import { createCheckpoint, countExpired, pruneExpired } from '../../evidence/audit/checkpoints';
import { exportEvidence } from '../../evidence/audit/export-evidence';
import { AuditKeyError, loadAuditKey } from '../../evidence/audit/signing-key';
import { formatVerification, verifyEvidence } from '../../evidence/audit/verify-evidence';
import { checkpointRecords, parseWitness, readWitness, shipToWitness, type WitnessRecord } from '../../evidence/audit/witness';
import type { Pool } from 'pg';
import type { Config } from '../../platform/config';
import { databaseCommand, instantFlag, type CommandContext, type DatabaseTask } from './command-io';
import { dispatch, parseFlags, UsageError, type CommandGroup, type CommandIo, type CommandOutput } from './dispatch';

const USAGE = `usage: holdpoint audit <command>

  verify [--json]            walk every hash chain and check it against the signed checkpoints;
                             exit 1 when anything is broken, deleted or truncated
  checkpoint [--full]        sign the heads of every chain that changed (--full: compare all chains)
  export --since <30d|ISO> [--until <ISO>] [--out <file>]
                             actions created in the window as JSON Lines (stdout by default)
  prune [--dry-run] [--retention-days <n>]
                             remove completed actions older than RETENTION_DAYS (default 400), after
                             a prune checkpoint signs their final heads

verify --witness [<path|url>] also compares the checkpoints with the statements the witness kept
(AUDIT_WITNESS by default); checkpoint and prune send new ones to AUDIT_WITNESS when it is set.

Needs DATABASE_URL (DATABASE_MIGRATION_URL, the owner, when set: prune removes evidence); checkpoint and prune need AUDIT_SIGNING_KEY_PATH or AUDIT_SIGNING_KEY (in
development a key is generated under DATA_DIR), verify needs the key or AUDIT_PUBLIC_KEY_PATH.
`;

export const auditCommands: CommandGroup = {
  name: 'holdpoint audit',
  usage: USAGE,
  commands: {
    verify: databaseCommand('audit verify', parseVerify),
    checkpoint: databaseCommand('audit checkpoint', parseCheckpoint),
    export: databaseCommand('audit export', parseExport),
    prune: databaseCommand('audit prune', parsePrune),
  },
  exitCodeOf: (err) => (err instanceof AuditKeyError ? 2 : undefined),
};

/** `holdpoint audit`: 0 done (verify: all intact), 1 problems found or refused, 2 bad usage or configuration. */
export function auditCommand(argv: string[], io: CommandIo = {}): Promise<number> {
  return dispatch(auditCommands, argv, io);
}

function parseVerify(argv: string[], { stdout }: CommandContext): DatabaseTask {
  // `--witness` alone reads AUDIT_WITNESS; `--witness <path|url>` reads that one.
  const at = argv.indexOf('--witness');
  const named = at >= 0 && argv[at + 1] !== undefined && !argv[at + 1]!.startsWith('--') ? argv[at + 1] : undefined;
  const rest = at < 0 ? argv : [...argv.slice(0, at), ...argv.slice(at + (named === undefined ? 1 : 2))];
  const flags = parseFlags(rest, { json: { type: 'boolean' } });
  return async (pool, config) => {
    let witness: WitnessRecord[] | undefined;
    if (at >= 0) {
      const source = named === undefined ? config.audit.witness : parseWitness(named, config.audit.witness?.kind === 'http' ? config.audit.witness.token : undefined);
      if (source === undefined) throw new UsageError('--witness needs AUDIT_WITNESS or a file path or URL after it');
      if (typeof source === 'string') throw new UsageError(`--witness ${named}: ${source}`);
      const read = await readWitness(source);
      if (read.unreadable.length) throw new UsageError(`the witness is not readable: ${read.unreadable.slice(0, 3).join('; ')}`);
      witness = read.records;
    }
    const result = await verifyEvidence(pool, loadAuditKey(config), { witness });
    stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : formatVerification(result));
    return result.ok ? 0 : 1;
  };
}

function signingKey(config: Parameters<typeof loadAuditKey>[0]) {
  const key = loadAuditKey(config, { createInDevelopment: true });
  if (!key?.privateKey) throw new AuditKeyError('signing needs AUDIT_SIGNING_KEY_PATH or AUDIT_SIGNING_KEY (an Ed25519 private key in PEM)');
  return key;
}

/** Sends new checkpoints to AUDIT_WITNESS: 1 (and says so) when the witness did not take them. */
async function witnessed(config: Config, pool: Pool, ids: number[], stdout: CommandOutput, stderr: CommandOutput): Promise<number> {
  const witness = config.audit.witness;
  if (!witness) {
    if (ids.length) stdout.write('Record the digest somewhere outside this database to anchor it (or set AUDIT_WITNESS).\n');
    return 0;
  }
  try {
    await shipToWitness(witness, await checkpointRecords(pool, ids));
    stdout.write(`Sent to the witness (${witness.kind === 'file' ? witness.path : witness.url}).\n`);
    return 0;
  } catch (err) {
    stderr.write(`holdpoint audit: signed, but the witness did not take it: ${(err as Error).message}\n`);
    return 1;
  }
}

function parseCheckpoint(argv: string[], { stdout, stderr }: CommandContext): DatabaseTask {
  const flags = parseFlags(argv, { full: { type: 'boolean' } });
  return async (pool, config) => {
    const summary = (await createCheckpoint(pool, signingKey(config), { kind: 'manual', full: flags.full === true }))!;
    stdout.write(
      `Checkpoint #${summary.id} signed ${summary.headCount} chain head${summary.headCount === 1 ? '' : 's'} at ${summary.createdAt}\n` +
        `  digest ${summary.digest}\n  key    ${summary.keyId}\n`,
    );
    return witnessed(config, pool, [summary.id], stdout, stderr);
  };
}

function parseExport(argv: string[], { stdout, stderr, now }: CommandContext): DatabaseTask {
  const flags = parseFlags(argv, { since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string' } });
  if (!flags.since) throw new UsageError('--since is required (e.g. --since 30d)');
  const since = flags.since;
  // Read with the clock, before any connection: a bad window is a usage error.
  const window = { since: instantFlag(since, now, '--since'), until: flags.until ? instantFlag(flags.until, now, '--until') : undefined };
  return async (pool) => {
    const file = flags.out ? fs.createWriteStream(flags.out, { flags: 'w' }) : undefined;
    const sink = file
      ? async (line: string) => {
          if (!file.write(`${line}\n`)) await once(file, 'drain');
        }
      : (line: string) => {
          stdout.write(`${line}\n`);
        };
    const summary = await exportEvidence(pool, window, sink);
    if (file) await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    stderr.write(`Exported ${summary.actions} actions, ${summary.events} events and ${summary.checkpoints} checkpoints created since ${window.since.toISOString()}${flags.out ? ` to ${flags.out}` : ''}.\n`);
    return 0;
  };
}

function parsePrune(argv: string[], { stdout, stderr, now }: CommandContext): DatabaseTask {
  const flags = parseFlags(argv, { 'dry-run': { type: 'boolean' }, 'retention-days': { type: 'string' } });
  const override = flags['retention-days'];
  if (override !== undefined && !(/^[1-9][0-9]*$/.test(override) && Number(override) <= 36_500)) {
    throw new UsageError(`--retention-days must be a whole number of days from 1 to 36500, not ${override}`);
  }
  return async (pool, config) => {
    const retentionDays = override ? Number(override) : config.audit.retentionDays;
    if (flags['dry-run']) {
      const expired = await countExpired(pool, retentionDays, now);
      stdout.write(`${expired.actions} completed actions older than ${retentionDays} days (before ${expired.cutoff}) would be removed.\n`);
      return 0;
    }
    const summary = await pruneExpired(pool, signingKey(config), { retentionDays, now });
    const ids = summary.checkpoints.map((c) => `#${c.id}`).join(', ');
    stdout.write(
      `Removed ${summary.removedActions} completed actions older than ${retentionDays} days (before ${summary.cutoff}); ` +
        `their final heads are signed in prune checkpoint${summary.checkpoints.length === 1 ? '' : 's'} ${ids}.\n`,
    );
    return summary.checkpoints.length ? witnessed(config, pool, summary.checkpoints.map((c) => c.id), stdout, stderr) : 0;
  };
}
