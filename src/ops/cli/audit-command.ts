import fs from 'node:fs';
import { once } from 'node:events';
import { createCheckpoint, countExpired, pruneExpired } from '../../evidence/audit/checkpoints';
import { exportEvidence } from '../../evidence/audit/export-evidence';
import { AuditKeyError, loadAuditKey } from '../../evidence/audit/signing-key';
import { formatVerification, verifyEvidence } from '../../evidence/audit/verify-evidence';
import { checkpointRecords, parseWitness, readWitness, shipToWitness, type WitnessRecord } from '../../evidence/audit/witness';
import type { Pool } from 'pg';
import type { Config } from '../../platform/config';
import { parseFlags, parseInstant, UsageError, withDatabase, type CommandIo, type CommandOutput } from './command-io';

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

type AuditTask = (context: Required<Pick<CommandIo, 'stdout' | 'stderr'>> & { now: Date }) => Parameters<typeof withDatabase>[2];

const SUBCOMMANDS: Record<string, (argv: string[]) => AuditTask> = {
  verify: parseVerify,
  checkpoint: parseCheckpoint,
  export: parseExport,
  prune: parsePrune,
};

/** `holdpoint audit`: 0 done (verify: all intact), 1 problems found or refused, 2 bad usage or configuration. */
export async function auditCommand(argv: string[], io: CommandIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h' || rest.includes('--help')) {
    (name === undefined ? stderr : stdout).write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const parse = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (!parse) {
    stderr.write(`holdpoint audit: unknown command ${name}\n\n${USAGE}`);
    return 2;
  }
  let task: AuditTask;
  try {
    task = parse(rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    stderr.write(`holdpoint audit ${name}: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  try {
    return await withDatabase(`audit ${name}`, io, task({ stdout, stderr, now: io.now ?? new Date() }));
  } catch (err) {
    if (!(err instanceof AuditKeyError || err instanceof UsageError)) throw err;
    stderr.write(`holdpoint audit ${name}: ${err.message}\n`);
    return 2;
  }
}

function parseVerify(argv: string[]): AuditTask {
  // `--witness` alone reads AUDIT_WITNESS; `--witness <path|url>` reads that one.
  const at = argv.indexOf('--witness');
  const named = at >= 0 && argv[at + 1] !== undefined && !argv[at + 1]!.startsWith('--') ? argv[at + 1] : undefined;
  const rest = at < 0 ? argv : [...argv.slice(0, at), ...argv.slice(at + (named === undefined ? 1 : 2))];
  const flags = parseFlags(rest, { json: { type: 'boolean' } });
  return ({ stdout }) =>
    async (pool, config) => {
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

function parseCheckpoint(argv: string[]): AuditTask {
  const flags = parseFlags(argv, { full: { type: 'boolean' } });
  return ({ stdout, stderr }) =>
    async (pool, config) => {
      const summary = (await createCheckpoint(pool, signingKey(config), { kind: 'manual', full: flags.full === true }))!;
      stdout.write(
        `Checkpoint #${summary.id} signed ${summary.headCount} chain head${summary.headCount === 1 ? '' : 's'} at ${summary.createdAt}\n` +
          `  digest ${summary.digest}\n  key    ${summary.keyId}\n`,
      );
      return witnessed(config, pool, [summary.id], stdout, stderr);
    };
}

function parseExport(argv: string[]): AuditTask {
  const flags = parseFlags(argv, { since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string' } });
  if (!flags.since) throw new UsageError('--since is required (e.g. --since 30d)');
  const since = flags.since;
  return ({ stdout, stderr, now }) =>
    async (pool) => {
      const window = { since: parseInstant(since, now, '--since'), until: flags.until ? parseInstant(flags.until, now, '--until') : undefined };
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

function parsePrune(argv: string[]): AuditTask {
  const flags = parseFlags(argv, { 'dry-run': { type: 'boolean' }, 'retention-days': { type: 'string' } });
  const override = flags['retention-days'];
  if (override !== undefined && !/^[1-9][0-9]*$/.test(override)) throw new UsageError('--retention-days must be a positive whole number');
  return ({ stdout, stderr, now }) =>
    async (pool, config) => {
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
