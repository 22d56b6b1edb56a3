import fs from 'node:fs';
import path from 'node:path';
import { submitAction } from '../actions';
import type { BenchStack } from '../stack';
import { elapsedMs, round, summarize, type Summary } from '../stats';
import type { ProcessMemory } from '../worker-protocol';

export interface PendingFigures {
  target: number;
  budgetS: number;
  submitted: number;
  submitErrors: number;
  submitSeconds: number;
  pendingInPostgres: number;
  /** The worker process (Holdpoint worker + floor worker): the one the < 1 GiB target is about. */
  worker: ProcessFigures & { maxCachedWorkflows: number };
  /** The bench process: API, Temporal client and the load generator. */
  api: ProcessFigures;
  /** Both processes' RSS as the pending count grew. */
  rssSeries: { submitted: number; workerRssMiB: number; apiRssMiB: number }[];
  postgres?: { processes: number; rssMiB: number; rssAnonMiB: number };
  inboxMs: Summary;
  inboxPageSize: number;
  bytesPerAction: number;
  actionsRows: number;
  tableBytes: { actions: number; actionEvents: number };
}

export interface ProcessFigures {
  rssMiB: number;
  heapUsedMiB: number;
}

const MiB = 1024 * 1024;

const inMiB = ({ rss, heapUsed }: ProcessMemory): ProcessFigures => ({ rssMiB: round(rss / MiB, 1), heapUsedMiB: round(heapUsed / MiB, 1) });

function statusField(pid: number, field: string): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** The postmaster (first line of postmaster.pid) and its children, from /proc. */
export function postgresPids(dataDir: string): number[] {
  const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        // Field 4 of /proc/<pid>/stat is the parent pid; the command name in field 2 may hold spaces.
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

function postgresMemory(dataDir: string | undefined): PendingFigures['postgres'] {
  if (!dataDir) return undefined;
  const pids = postgresPids(dataDir);
  let rss = 0;
  let anon = 0;
  for (const pid of pids) {
    try {
      rss += statusField(pid, 'VmRSS');
      anon += statusField(pid, 'RssAnon');
    } catch {
      // exited between listing and reading
    }
  }
  return { processes: pids.length, rssMiB: round(rss / MiB, 1), rssAnonMiB: round(anon / MiB, 1) };
}

/** Figure 5: `count` review actions left pending at once, then memory, inbox latency and storage. */
export async function measurePending(stack: BenchStack, count: number, inboxSamples: number, budgetS: number, log: (line: string) => void): Promise<PendingFigures> {
  const concurrency = 32;
  let submitted = 0;
  let errors = 0;
  let issued = 0;
  const rssSeries: PendingFigures['rssSeries'] = [];
  const started = Date.now();
  // A time box keeps --quick under two minutes on a busy machine; the figure reports what was reached.
  const deadline = started + budgetS * 1000;
  const agent = async () => {
    while (issued < count && Date.now() < deadline) {
      issued += 1;
      try {
        await submitAction(stack, 'bench.review');
        submitted += 1;
      } catch {
        errors += 1;
        continue;
      }
      if (submitted % 500 === 0) {
        const at = submitted;
        const worker = inMiB(await stack.worker.memory());
        const api = inMiB(process.memoryUsage());
        rssSeries.push({ submitted: at, workerRssMiB: worker.rssMiB, apiRssMiB: api.rssMiB });
        log(`pending: ${at}/${count} submitted (${round(at / ((Date.now() - started) / 1000), 1)}/s), worker RSS ${worker.rssMiB} MiB, API RSS ${api.rssMiB} MiB`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, agent));
  const submitSeconds = round((Date.now() - started) / 1000, 1);
  // Let notification activities and the GC settle before reading memory.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  global.gc?.();

  const { rows: pendingRows } = await stack.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM actions WHERE status = 'pending_review'");
  const worker = inMiB(await stack.worker.memory());
  const api = inMiB(process.memoryUsage());
  const postgres = postgresMemory(stack.postgresDataDir);

  const inbox: number[] = [];
  let pageSize = 0;
  for (let i = 0; i < inboxSamples; i++) {
    const t = process.hrtime.bigint();
    const response = await stack.request('GET', '/v1/reviews', { key: stack.keys.reviewer });
    const body = (await response.json()) as { items?: unknown[]; data?: unknown[] };
    inbox.push(elapsedMs(t));
    if (response.status !== 200) throw new Error(`inbox: HTTP ${response.status}`);
    pageSize = (body.items ?? body.data ?? []).length;
  }

  const { rows } = await stack.pool.query<{ actions: number; events: number; n: number }>(
    `SELECT pg_total_relation_size('actions')::bigint AS actions, pg_total_relation_size('action_events')::bigint AS events, (SELECT count(*) FROM actions)::bigint AS n`,
  );
  const sizes = rows[0]!;
  return {
    target: count,
    budgetS,
    submitted,
    submitErrors: errors,
    submitSeconds,
    pendingInPostgres: pendingRows[0]!.n,
    worker: { ...worker, maxCachedWorkflows: stack.worker.maxCachedWorkflows },
    api,
    rssSeries,
    postgres,
    inboxMs: summarize(inbox),
    inboxPageSize: pageSize,
    bytesPerAction: Math.round((sizes.actions + sizes.events) / Math.max(1, sizes.n)),
    actionsRows: sizes.n,
    tableBytes: { actions: sizes.actions, actionEvents: sizes.events },
  };
}
