import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { ActionService } from '../../src/gate/service/action-service';
import type { ChannelDelivery, NotificationChannel, ReviewNotification } from '../../src/channels/review-notification';
import { evaluate, loadPolicyFromSources } from '../../src/policy';
import type { ActionState } from '../../src/shared/action-state';
import { decideUpdate, stateQuery } from '../../src/shared/messages';
import { createTimeSkippingEnv } from '../support/temporal';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { actionRequest, registerTestSearchAttributes, startTestWorker, uniqueKey } from '../support/workflow-harness';

// The policy's `channels:` map decides which reviewer channels reach each group.
const POLICY = `version: 1
defaults:
  route: { group: ops }
  sla: 1h
  on_timeout: deny
  execution: { mode: agent, report_window: 5m }
groups:
  security: [sam]
  ops: [olivia]
channels:
  security: [email]
rules:
  - id: rotate-secret
    when: action.type == "chan.rotate"
    outcome: require_approval
    risk: high
    route: { group: security }
  - id: rotate-escalating
    when: action.type == "chan.rotate_escalating"
    outcome: require_approval
    risk: high
    route: { group: security }
    escalation: [ { to: ops, after: 1h } ]
`;

/** A channel that records what it was asked to deliver. */
class RecordingChannel implements NotificationChannel {
  readonly delivered: ReviewNotification[] = [];
  constructor(readonly name: string) {}

  async deliver(notification: ReviewNotification): Promise<ChannelDelivery> {
    this.delivered.push(notification);
    return { channel: this.name, ok: true };
  }

  kindsFor(actionId: string): string[] {
    return this.delivered.filter((n) => n.actionId === actionId).map((n) => n.kind);
  }
}

const TASK_QUEUE = 'channel-routing-tests';
const slack = new RecordingChannel('slack');
const email = new RecordingChannel('email');
/** Stands in for the agent callback: not a reviewer channel, so policy routing never filters it. */
const callback = Object.assign(new RecordingChannel('agent-callback'), {
  appliesTo: (notification: ReviewNotification) => notification.kind === 'final_outcome',
});
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: Worker;
let running: Promise<void>;
let actions: ActionService;

beforeAll(async () => {
  [env, db] = await Promise.all([createTimeSkippingEnv(), createTestDatabase()]);
  await registerTestSearchAttributes(env);
  const policy = loadPolicyFromSources([{ name: 'channels.yaml', content: POLICY }]);
  ({ worker, running } = await startTestWorker({
    env,
    pool: db.pool,
    taskQueue: TASK_QUEUE,
    channels: [slack, email, callback],
    policy: { evaluate: (request) => evaluate(policy, request) },
  }));
  actions = new ActionService({ client: env.client, pool: db.pool, taskQueue: TASK_QUEUE });
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), db?.drop()]);
});

async function submit(type: string) {
  const { state } = await actions.submit(actionRequest(type, { n: 1 }), uniqueKey());
  return env.client.workflow.getHandle<() => Promise<ActionState>>(state.actionId);
}

async function waitForPendingReview(handle: WorkflowHandle): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await handle.query(stateQuery)).status === 'pending_review') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('action never reached pending_review');
}

async function denyAs(handle: WorkflowHandle, reviewer: string): Promise<ActionState> {
  await waitForPendingReview(handle);
  await handle.executeUpdate(decideUpdate, { args: [{ reviewer, verdict: 'deny', rationale: 'not now' }] });
  return (await handle.result()) as ActionState;
}

describe('policy channel routing', () => {
  it('a group configured for [email] is only notified by email', async () => {
    const handle = await submit('chan.rotate');
    const final = await denyAs(handle, 'sam');
    expect(final.status).toBe('denied');
    expect(email.kindsFor(final.actionId)).toEqual(['review_requested', 'final_outcome']);
    expect(slack.kindsFor(final.actionId)).toEqual([]);
    expect(callback.kindsFor(final.actionId)).toEqual(['final_outcome']);
    expect(email.delivered.find((n) => n.actionId === final.actionId)?.channels).toEqual(['email']);
  });

  it('a group with no channels entry (and no defaults.channels) gets every configured channel', async () => {
    const handle = await submit('chan.unmatched');
    const final = await denyAs(handle, 'olivia');
    expect(final.status).toBe('denied');
    expect(email.kindsFor(final.actionId)).toEqual(['review_requested', 'final_outcome']);
    expect(slack.kindsFor(final.actionId)).toEqual(['review_requested', 'final_outcome']);
    expect(slack.delivered.find((n) => n.actionId === final.actionId)).not.toHaveProperty('channels');
  });

  it('escalating to an unrestricted group widens later notifications to every channel', async () => {
    const handle = await submit('chan.rotate_escalating');
    const final = (await handle.result()) as ActionState; // time skipping lets both tiers time out
    expect(final.status).toBe('expired');
    expect(email.kindsFor(final.actionId)).toEqual(['review_requested', 'escalated', 'final_outcome']);
    expect(slack.kindsFor(final.actionId)).toEqual(['escalated', 'final_outcome']);
  });
});
