/**
 * `npm run demo` (with `npm start` running): support-bot, a scripted support agent, works through
 * six requests against the shipped policy (policies/holdpoint.yaml) with the TypeScript client's
 * `guard`, prints each decision as it arrives and tells you where to decide the held ones.
 *
 *   npm run demo                    # waits up to 10 minutes for reviewers
 *   npm run demo -- --timeout 120   # seconds
 *
 * Reads the dev keys `npm start` wrote to $DATA_DIR/dev-keys.json (default .data) and the API at
 * $HOLDPOINT_URL (default http://127.0.0.1:$API_PORT, port 8080). Ctrl-C withdraws what is still pending.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  createHoldpointClient,
  guard,
  HoldpointConnectionError,
  isHoldpointExecution,
  isRefusal,
  type ActionView,
  type GuardEvent,
  type JsonObject,
  type ResourceRef,
} from '../src/agents/client';
import { devKeyVariables, type DevKey } from '../src/ops/dev/dev-principals';

const settingsSchema = z.object({
  API_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  HOLDPOINT_URL: z.url().optional(),
  DATA_DIR: z.string().min(1).default('.data'),
});

const keysFileSchema = z.object({
  keys: z.array(z.object({ id: z.string(), role: z.enum(['agent', 'reviewer', 'admin']), groups: z.array(z.string()), apiKey: z.string() })),
});

interface DemoStep {
  label: string;
  actionType: string;
  resource: ResourceRef;
  payload: JsonObject;
  summary: string;
  /** What support-bot does once allowed (agent execution mode). */
  execute: (payload: JsonObject) => string;
}

const AGENT_ID = 'support-bot';

/** The support queue: one of each kind the shipped policy treats differently. */
const STEPS: DemoStep[] = [
  {
    label: 'small refund',
    actionType: 'payments.refund',
    resource: { type: 'billing', id: 'cus_1001' },
    payload: { amount: 40, currency: 'EUR', order: 'ord_5511', reason: 'damaged item' },
    summary: 'refund 40 EUR to cus_1001',
    execute: (p) => `refunded ${p.amount} ${p.currency}`,
  },
  {
    label: 'large refund',
    actionType: 'payments.refund',
    resource: { type: 'billing', id: 'cus_1002' },
    payload: { amount: 750, currency: 'EUR', order: 'ord_5512', reason: 'double charge' },
    summary: 'refund 750 EUR to cus_1002',
    execute: (p) => `refunded ${p.amount} ${p.currency}`,
  },
  {
    label: 'customer email',
    actionType: 'messages.email.send',
    resource: { type: 'customer', id: 'cus_1003' },
    payload: { to: 'jordan@example.com', subject: 'About your order ord_5513', body: 'Hi Jordan, your replacement ships today. Sorry for the wait!' },
    summary: 'email jordan@example.com (cus_1003)',
    execute: (p) => `sent "${p.subject}" to ${p.to}`,
  },
  {
    label: 'permission change',
    actionType: 'iam.role.assign',
    resource: { type: 'user', id: 'u_ops_7' },
    payload: { role: 'billing-editor', reason: 'covering for a colleague this week' },
    summary: 'give u_ops_7 the billing-editor role',
    execute: (p) => `assigned ${p.role}`,
  },
  {
    label: 'bulk export',
    actionType: 'data.export',
    resource: { type: 'table', id: 'customers' },
    payload: { rows: 250_000, format: 'csv', destination: 's3://support-exports/all-customers.csv' },
    summary: 'export 250,000 customer rows',
    execute: (p) => `exported ${p.rows} rows`,
  },
];

const started = Date.now();
const clock = () => {
  const seconds = Math.floor((Date.now() - started) / 1000);
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
};
const say = (line = '') => process.stdout.write(`${line}\n`);
const width = Math.max(...STEPS.map((step) => step.label.length), 'duplicate submit'.length);
const tag = (index: number, label: string) => `[${clock()}] ${index + 1}. ${label.padEnd(width)}`;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { timeout: { type: 'string' } } });
  const timeoutSeconds = values.timeout === undefined ? 600 : Number(values.timeout);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
    say('--timeout must be a whole number of seconds');
    return 2;
  }
  const settings = settingsSchema.parse(process.env);
  const url = (settings.HOLDPOINT_URL ?? `http://127.0.0.1:${settings.API_PORT}`).replace(/\/+$/, '');
  const keysFile = path.join(settings.DATA_DIR, 'dev-keys.json');

  let keys: DevKey[];
  try {
    keys = keysFileSchema.parse(JSON.parse(await readFile(keysFile, 'utf8'))).keys;
  } catch {
    say(`No development keys at ${keysFile}. Start the stack first: npm start (it writes them), then npm run demo.`);
    return 1;
  }
  const agentKey = keys.find((key) => key.id === AGENT_ID);
  if (!agentKey) {
    say(`${keysFile} has no key for ${AGENT_ID}; restart npm start to re-seed the development principals.`);
    return 1;
  }
  const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
  if (!ready) {
    say(`Holdpoint is not answering at ${url}. Start it with npm start (or set HOLDPOINT_URL), then run npm run demo again.`);
    return 1;
  }

  const client = createHoldpointClient({ url, apiKey: agentKey.apiKey });
  const run = Date.now().toString(36);
  const stop = new AbortController();
  process.once('SIGINT', () => {
    say(`\n[${clock()}] Ctrl-C: withdrawing what is still pending…`);
    stop.abort(new Error('stopped'));
  });

  say(`Holdpoint demo: ${AGENT_ID} works through its support queue against ${url}`);
  say(`Policy: policies/holdpoint.yaml. Every action goes through guard(); nothing runs without the gate's answer.`);
  say('');

  const held = new Map<number, ActionView>();
  const outcomes: Promise<string>[] = [];
  const submitted: Promise<ActionView>[] = [];
  for (const [index, step] of STEPS.entries()) {
    let announce!: (action: ActionView) => void;
    submitted.push(new Promise((resolve) => (announce = resolve)));
    const onUpdate = (event: GuardEvent) => {
      if (event.type === 'decided' && held.has(index)) {
        const line = decisionLine(event.action);
        if (line) say(`${tag(index, step.label)}  ${line}`);
      }
      if (event.type !== 'submitted') return;
      announce(event.action);
      say(`${tag(index, step.label)}  ${step.summary}`);
      say(`${' '.repeat(width + 14)}${classification(event.action)}`);
      if (event.action.status === 'pending_review') held.set(index, event.action);
    };
    const guarded = guard(step.actionType, (payload: JsonObject) => step.execute(payload), {
      client,
      agentId: AGENT_ID,
      resource: step.resource,
      idempotencyKey: () => `demo-${run}-${index + 1}`,
      timeoutMs: timeoutSeconds * 1000,
      pollSeconds: 20,
    });
    outcomes.push(
      guarded(step.payload, { onUpdate, signal: stop.signal }).then(
        (outcome) => {
          const line = finalLine(outcome);
          say(`${tag(index, step.label)}  ${line}`);
          return line;
        },
        (err: unknown) => {
          const line = stop.signal.aborted ? 'withdrawn (Ctrl-C)' : `failed: ${(err as Error).message}`;
          say(`${tag(index, step.label)}  ${line}`);
          return line;
        },
      ),
    );
    await submitted[index]; // one at a time, so the log reads in order
  }

  // The agent retries the large refund (a timeout, a restart): same Idempotency-Key, same body.
  const large = 1;
  const again = await client.submit(
    { agent: { id: AGENT_ID }, action: { type: STEPS[large]!.actionType }, resource: STEPS[large]!.resource, payload: STEPS[large]!.payload },
    { idempotencyKey: `demo-${run}-${large + 1}` },
  );
  say(`${tag(STEPS.length, 'duplicate submit')}  retry of #${large + 1} with the same Idempotency-Key`);
  say(`${' '.repeat(width + 14)}same action ${again.action.id} (created: ${again.created}, status ${again.action.status}): no second refund`);

  const consoleUp = await fetch(`${url}/console/`).then((r) => r.ok, () => false);
  if (held.size > 0) printWhereToDecide({ url, keys, keysFile, consoleUp }, [...held.values()], timeoutSeconds);
  const results = await Promise.all(outcomes);
  say('');
  say(`Done in ${clock()}: ${results.length} actions, ${results.filter((line) => line.startsWith('done')).length} executed, ${results.filter((line) => !line.startsWith('done')).length} not. Evidence per action: GET /v1/actions/<id>/evidence (admin key).`);
  return 0;
}

function classification(action: ActionView): string {
  const rule = action.matchedRules.join(', ') || 'default';
  switch (action.status) {
    case 'allowed':
    case 'executing':
    case 'executed':
    case 'awaiting_report':
      return `allowed by policy (${rule}, ${action.risk} risk)`;
    case 'auto_denied':
      return `DENIED by policy (${rule}, ${action.risk} risk): ${action.reason}`;
    case 'pending_review': {
      const due = action.review?.dueAt ? `, due ${new Date(action.review.dueAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` : '';
      const edits = action.review?.editableFields.length ? `; may edit ${action.review.editableFields.join(', ')}` : '';
      return `HELD for ${action.review?.assignees.join(', ')} (${rule}, ${action.risk} risk${due}${edits}): ${action.reason}`;
    }
    default:
      return action.status;
  }
}

/** Who decided a held action, what they changed, and why. */
function decisionLine(action: ActionView): string | undefined {
  const decision = action.decision;
  if (!decision || decision.verdict !== 'approved') return undefined;
  const approved = action.approvedPayload ?? {};
  const changed = Object.keys({ ...action.payload, ...approved }).filter((field) => JSON.stringify(action.payload[field]) !== JSON.stringify(approved[field]));
  const edits = changed.map((field) => `${field} ${JSON.stringify(action.payload[field])} → ${JSON.stringify(approved[field])}`).join('; ');
  return `approved by ${decision.by.join(', ')}${edits ? ` with an edit (${edits})` : ''}${decision.rationale ? `: "${decision.rationale}"` : ''}`;
}

function finalLine(outcome: unknown): string {
  if (isRefusal(outcome)) {
    const by = outcome.decidedBy.filter((who) => who !== 'policy').join(', ');
    const why = outcome.rationale ?? outcome.reason ?? '';
    return `not done: ${outcome.outcome.replace(/_/g, ' ')}${by && outcome.outcome === 'denied_by_reviewer' ? ` (${by})` : ''}${why ? `: ${why}` : ''} [can ask again: ${outcome.canAskAgain}]`;
  }
  if (isHoldpointExecution(outcome)) {
    return outcome.succeeded ? "done: Holdpoint's executor ran it with the approved payload (server mode)" : `not done: Holdpoint's executor failed: ${outcome.error}`;
  }
  return `done: ${AGENT_ID} ${String(outcome)} and reported it`;
}

function printWhereToDecide({ url, keys, keysFile, consoleUp }: { url: string; keys: DevKey[]; keysFile: string; consoleUp: boolean }, held: ActionView[], timeoutSeconds: number) {
  const variables = devKeyVariables(keys);
  const reviewers = [...new Set(held.flatMap((action) => action.review?.assignees ?? []))];
  const first = held[0]!;
  const firstReviewer = keys.find((key) => key.id === first.review?.assignees[0]);
  const variable = firstReviewer ? variables.get(firstReviewer) : 'HOLDPOINT_<REVIEWER>_KEY';
  say('');
  say(`${held.length} held for a person. Decide them (support-bot waits up to ${Math.round(timeoutSeconds / 60)} min, then withdraws):`);
  if (consoleUp) say(`  console  ${url}/console  (sign in with a reviewer key)`);
  say(`  keys     (development only; also in ${keysFile})`);
  for (const id of reviewers) {
    const key = keys.find((candidate) => candidate.id === id);
    if (key) say(`           export ${variables.get(key)}=${key.apiKey}   # ${id}: ${key.groups.join(', ')}`);
  }
  say(`  inbox    curl -s ${url}/v1/reviews -H "Authorization: Bearer $${variable}"`);
  say(`  approve  curl -s -X POST ${url}/v1/actions/${first.id}/decision -H "Authorization: Bearer $${variable}" \\`);
  say(`             -H 'Content-Type: application/json' -d '{"verdict":"approve","rationale":"checked the order"}'`);
  if (first.review?.editableFields.includes('amount')) {
    say(`  edit     … -d '{"verdict":"approve","editedPayload":${JSON.stringify({ ...first.payload, amount: 500 })}}'`);
  }
  say(`  deny     … -d '{"verdict":"deny","rationale":"why, for the agent to read"}'`);
  say('');
  say(`[${clock()}] waiting for decisions… (Ctrl-C withdraws the pending ones)`);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    say(err instanceof HoldpointConnectionError ? `Holdpoint became unreachable: ${err.message}` : String(err instanceof Error ? (err.stack ?? err.message) : err));
    process.exit(1);
  },
);
