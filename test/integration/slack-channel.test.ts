import { WebClient } from '@slack/web-api';
import { signSlackRequest } from '../../src/channels/slack/slack-signature';
import { loadConfig } from '../../src/platform/config';
import { upsertPrincipal } from '../../src/access/principal-repository';
import { reviewerChannelsFromConfig } from '../../src/channels/reviewer-channels';
import type { ReviewNotification } from '../../src/channels/review-notification';
import { SlackChannel } from '../../src/channels/slack/slack-channel';
import type { PostedSlackMessage } from '../../src/channels/slack/slack-message-repository';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { eventually } from '../support/eventually';
import { startFakeSlackApi, type FakeSlackApi, type SlackCall } from '../support/fake-slack-api';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

const BOT_TOKEN = 'xoxb-test-token';
const SIGNING_SECRET = 'slack-signing-secret-for-tests';
const SLACK_USERS = { alice: 'UALICE001', bob: 'UBOB00001', olivia: 'UOLIVIA01' } as const;

let slack: FakeSlackApi;
let stack: ApiStack;

beforeAll(async () => {
  slack = await startFakeSlackApi();
  const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.url, API_PUBLIC_URL: 'http://api.test' });
  stack = await startApiStack({
    channels: (db) => reviewerChannelsFromConfig(config, db.pool),
    reviewerChannels: {
      slack: { signingSecret: SIGNING_SECRET, client: new WebClient(BOT_TOKEN, { slackApiUrl: slack.url, retryConfig: { retries: 0 } }) },
    },
  });
  await upsertPrincipal(stack.db.pool, { id: 'alice', role: 'reviewer', groups: ['finance'], slackUserId: SLACK_USERS.alice });
  await upsertPrincipal(stack.db.pool, { id: 'bob', role: 'reviewer', groups: ['finance'], slackUserId: SLACK_USERS.bob });
  await upsertPrincipal(stack.db.pool, { id: 'olivia', role: 'reviewer', groups: ['ops'], slackUserId: SLACK_USERS.olivia });
});
afterAll(async () => {
  await stack?.close();
  await slack?.close();
});

const refund = (amount: number) => ({ agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_1' }, payload: { amount, currency: 'EUR' } });

async function submitRefund(amount = 700): Promise<string> {
  const response = await stack.request('POST', '/v1/actions', { as: 'agent', body: refund(amount), headers: { 'Idempotency-Key': uniqueKey('slack') } });
  expect(response.status).toBe(201);
  return (await readJson(response)).id;
}

/** The review message posted to one Slack user for this action. */
function postedTo(actionId: string, user: string): SlackCall | undefined {
  return slack.callsTo('chat.postMessage').find((call) => call.args.channel === user && JSON.stringify(call.args.blocks).includes(actionId));
}

const reviewMessages = (actionId: string) =>
  eventually(() => {
    const alice = postedTo(actionId, SLACK_USERS.alice);
    const bob = postedTo(actionId, SLACK_USERS.bob);
    return alice && bob ? { alice, bob } : undefined;
  }, 10_000, 'review messages to alice and bob');

/** Signs and sends an interaction as Slack would: a form with one `payload` field. */
function interact(payload: unknown, options: { secret?: string; timestamp?: number; raw?: { body: string; headers: Record<string, string> } } = {}) {
  if (options.raw) return fetch(`${stack.baseUrl}/slack/interactivity`, { method: 'POST', headers: options.raw.headers, body: options.raw.body });
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': signSlackRequest(options.secret ?? SIGNING_SECRET, timestamp, body),
  };
  return fetch(`${stack.baseUrl}/slack/interactivity`, { method: 'POST', headers, body });
}

function buttonClick(actionId: string, user: string, actionName: 'holdpoint_approve' | 'holdpoint_deny', message?: { channel: string; ts: string }) {
  return {
    type: 'block_actions',
    user: { id: user },
    trigger_id: `trigger-${Math.random().toString(36).slice(2)}`,
    container: message ? { type: 'message', channel_id: message.channel, message_ts: message.ts } : undefined,
    channel: message ? { id: message.channel } : undefined,
    actions: [{ type: 'button', block_id: 'decide', action_id: actionName, value: actionId }],
  };
}

/** Where Slack put a message we posted: the DM conversation id and ts the fake answered with. */
async function messageOf(actionId: string, user: string): Promise<{ channel: string; ts: string }> {
  return eventually(async () => {
    const { rows } = await stack.db.pool.query('SELECT channel, ts FROM slack_messages WHERE action_id = $1 AND destination = $2', [actionId, user]);
    return rows[0] as { channel: string; ts: string } | undefined;
  }, 10_000, `the message to ${user} to be recorded`);
}

const textOf = (blocks: unknown) => JSON.stringify(blocks);

describe('review messages', () => {
  it('posts a Block Kit message to each reviewer: summary, payload fields, risk, reason, SLA and Approve / Deny / Open', async () => {
    const actionId = await submitRefund(700);
    const { alice } = await reviewMessages(actionId);
    expect(alice.token).toBe(BOT_TOKEN);
    expect(alice.args.text).toBe('Approval needed: test.refund on billing:cus_1 (high risk) — Refund of 700 needs finance');
    const blocks = alice.args.blocks as { type: string; block_id?: string; text?: { text: string }; fields?: { text: string }[]; elements?: Record<string, unknown>[] }[];
    expect(blocks[0]).toMatchObject({ type: 'header', text: { text: expect.stringContaining('Approval needed: test.refund on billing:cus_1') } });
    expect(blocks.find((b) => b.block_id === 'summary')!.text!.text).toBe('*support-bot* wants to run `test.refund` on `billing:cus_1`');
    expect(blocks.find((b) => b.block_id === 'reason')!.text!.text).toContain('Refund of 700 needs finance');
    const facts = blocks.find((b) => b.block_id === 'facts')!.fields!.map((f) => f.text);
    expect(facts).toEqual([
      expect.stringContaining('High'),
      expect.stringContaining('refund-review'),
      expect.stringMatching(/^\*Decide by\*\n<!date\^\d+\^\{date_short_pretty\} \{time\}\|/),
      expect.stringContaining(`<@${SLACK_USERS.alice}> <@${SLACK_USERS.bob}> carol`),
    ]);
    expect(blocks.find((b) => b.block_id === 'payload')!.fields!.map((f) => f.text)).toEqual(['*amount*\n700', '*currency*\nEUR']);
    const view = await readJson(await stack.request('GET', `/v1/actions/${actionId}`, { as: 'admin' }));
    const buttons = blocks.find((b) => b.block_id === 'decide')!.elements!;
    expect(buttons).toEqual([
      expect.objectContaining({ action_id: 'holdpoint_approve', style: 'primary', value: JSON.stringify({ actionId, payloadHash: view.payloadHash }), confirm: expect.any(Object) }),
      expect.objectContaining({ action_id: 'holdpoint_deny', style: 'danger', value: JSON.stringify({ actionId, payloadHash: view.payloadHash }) }),
      expect.objectContaining({ action_id: 'holdpoint_open', url: `http://api.test/console/#/actions/${encodeURIComponent(actionId)}` }),
    ]);
    const evidence = await readJson(await stack.request('GET', `/v1/actions/${actionId}/evidence`, { as: 'admin' }));
    const requested = evidence.notifications.find((n: { data: { kind: string } }) => n.data.kind === 'review_requested');
    expect(requested.data.deliveries).toEqual([expect.objectContaining({ channel: 'slack', ok: true, detail: 'posted to 2 conversation(s)' })]);
  });

  it('records a Slack outage as a failed delivery and keeps the review going', async () => {
    slack.failNext('chat.postMessage', 'channel_not_found');
    const actionId = await submitRefund(710);
    const notification = await eventually(async () => {
      const evidence = await readJson(await stack.request('GET', `/v1/actions/${actionId}/evidence`, { as: 'admin' }));
      return evidence.notifications.find((n: { data: { kind: string } }) => n.data.kind === 'review_requested');
    });
    expect(notification.type).toBe('notification.partially_failed');
    expect(notification.data.deliveries[0]).toMatchObject({ channel: 'slack', ok: false, detail: expect.stringContaining('channel_not_found') });
    const view = await readJson(await stack.request('GET', `/v1/actions/${actionId}`, { as: 'reviewer' }));
    expect(view.status).toBe('pending_review');
  });

  it('posts one message to a configured channel, mentioning the reviewers, and never twice for one notification', async () => {
    const messages: PostedSlackMessage[] = [];
    const channel = new SlackChannel({
      client: new WebClient(BOT_TOKEN, { slackApiUrl: slack.url, retryConfig: { retries: 0 } }),
      channel: 'C0REVIEWS',
      publicUrl: 'https://holdpoint.example.com',
      contacts: async (ids) => ids.map((id) => ({ id, slackUserId: id === 'alice' ? SLACK_USERS.alice : undefined })),
      outcome: async () => ({ actionId: 'a', status: 'denied', decidedBy: ['alice'], rationale: 'not a customer of ours' }),
      messages: {
        find: async (id, destination) => messages.find((m) => m.notificationId === id && m.destination === destination),
        record: async (message) => void messages.push(message),
        forAction: async (actionId) => messages.filter((m) => m.actionId === actionId),
      },
    });
    const notification: ReviewNotification = {
      id: 'action-11-support-bot-chan-1:review-requested',
      kind: 'review_requested',
      actionId: 'action-11-support-bot-chan-1',
      request: { agent: { id: 'support-bot' }, action: { type: 'data.export' }, resource: { type: 'db', id: 'crm' }, payload: { rows: 5000, columns: ['email', 'name'] } },
      policy: { risk: 'critical', reason: 'Exports need security', matchedRules: ['export'] },
      tier: 0,
      recipients: ['alice', 'sam'],
      informed: [],
      dueAt: new Date(Date.now() + 3_600_000).toISOString(),
      candidate: { payload: { rows: 5000, columns: ['email', 'name'] }, payloadHash: 'sha256:0000000000000000000000000000000000000000000000000000000000000000' },
    };
    const before = slack.callsTo('chat.postMessage').length;
    expect(await channel.deliver(notification)).toEqual({ channel: 'slack', ok: true, detail: 'posted to 1 conversation(s)' });
    expect(await channel.deliver(notification)).toMatchObject({ ok: true });
    const posts = slack.callsTo('chat.postMessage').slice(before);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args.channel).toBe('C0REVIEWS');
    expect(textOf(posts[0]!.args.blocks)).toContain(`<@${SLACK_USERS.alice}> sam`);
    expect(textOf(posts[0]!.args.blocks)).toContain('*columns*\\n[\\"email\\",\\"name\\"]');

    const updatesBefore = slack.callsTo('chat.update').length;
    const outcome = await channel.deliver({ ...notification, id: 'action-11-support-bot-chan-1:final-outcome', kind: 'final_outcome', outcome: 'denied' });
    expect(outcome).toEqual({ channel: 'slack', ok: true, detail: 'updated 1 message(s) with the outcome' });
    const update = slack.callsTo('chat.update').slice(updatesBefore)[0]!;
    expect(update.args).toMatchObject({ channel: 'C0REVIEWS', ts: messages[0]!.ts });
    expect(textOf(update.args.blocks)).toContain('*Denied* by alice');
    expect(textOf(update.args.blocks)).toContain('not a customer of ours');
    expect(textOf(update.args.blocks)).not.toContain('holdpoint_approve');
  });
});

describe('interactivity endpoint', () => {
  it('approves from a button click: verified, mapped to the reviewer, decided by the workflow, message updated', async () => {
    const actionId = await submitRefund(720);
    await reviewMessages(actionId);
    const message = await messageOf(actionId, SLACK_USERS.alice);
    const waiting = stack.request('GET', `/v1/actions/${actionId}/wait?timeout=20`, { as: 'agent' });

    const response = await interact(buttonClick(actionId, SLACK_USERS.alice, 'holdpoint_approve', message));
    expect(response.status).toBe(200);
    const answered = await readJson(await waiting);
    expect(answered.decision).toMatchObject({ verdict: 'approved', by: ['alice'] });

    const update = slack.callsTo('chat.update').find((call) => call.args.ts === message.ts)!;
    expect(update.args.channel).toBe(message.channel);
    expect(textOf(update.args.blocks)).toContain(':white_check_mark: *Approved* by alice');
    expect(textOf(update.args.blocks)).not.toContain('holdpoint_approve');
    // The final-outcome notification rewrites every message of the action (bob's too).
    const bobMessage = await messageOf(actionId, SLACK_USERS.bob);
    await eventually(() => slack.callsTo('chat.update').find((call) => call.args.ts === bobMessage.ts), 10_000, "bob's message to show the outcome");
  });

  it('refuses a bad signature, a stale timestamp, missing headers and a replay', async () => {
    const actionId = await submitRefund(730);
    const click = buttonClick(actionId, SLACK_USERS.alice, 'holdpoint_approve');

    const wrongSecret = await interact(click, { secret: 'not-the-signing-secret' });
    expect(wrongSecret.status).toBe(401);
    expect((await readJson(wrongSecret)).detail).toBe('request refused: bad-signature');

    const stale = await interact(click, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    expect((await readJson(stale)).detail).toBe('request refused: stale-timestamp');

    const unsigned = await interact(undefined, { raw: { body: 'payload=%7B%7D', headers: { 'content-type': 'application/x-www-form-urlencoded' } } });
    expect(unsigned.status).toBe(401);

    // A signed request altered in transit no longer matches its signature.
    const body = `payload=${encodeURIComponent(JSON.stringify(click))}`;
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signSlackRequest(SIGNING_SECRET, timestamp, body) };
    const tampered = await interact(undefined, { raw: { body: body.replace('UALICE001', 'UBOB00001'), headers } });
    expect(tampered.status).toBe(401);

    const first = await interact(undefined, { raw: { body, headers } });
    expect(first.status).toBe(200);
    const replay = await interact(undefined, { raw: { body, headers } });
    expect(replay.status).toBe(409);
    expect((await readJson(replay)).detail).toBe('this signed request was already handled');

    const evidence = await readJson(await stack.request('GET', `/v1/actions/${actionId}/evidence`, { as: 'admin' }));
    expect(evidence.reviewerActions.map((e: { actor: string }) => e.actor)).toEqual(['alice']);
  });

  it('deny opens a modal asking for a rationale, and its submission denies', async () => {
    const actionId = await submitRefund(740);
    await reviewMessages(actionId);
    const message = await messageOf(actionId, SLACK_USERS.bob);
    const click = buttonClick(actionId, SLACK_USERS.bob, 'holdpoint_deny', message);
    expect((await interact(click)).status).toBe(200);

    const opened = slack.callsTo('views.open').find((call) => call.args.trigger_id === click.trigger_id)!;
    expect(opened).toBeDefined();
    const view = opened.args.view;
    expect(view).toMatchObject({ type: 'modal', callback_id: 'holdpoint_deny_modal', title: { text: 'Deny action' }, submit: { text: 'Deny' } });
    const { payloadHash } = await readJson(await stack.request('GET', `/v1/actions/${actionId}`, { as: 'admin' }));
    expect(JSON.parse(view.private_metadata)).toEqual({ actionId, payloadHash, channel: message.channel, ts: message.ts });
    expect(view.blocks.find((b: { block_id?: string }) => b.block_id === 'rationale')).toMatchObject({ type: 'input', element: { type: 'plain_text_input', multiline: true } });

    const submission = (rationale: string | null, reason?: string) => ({
      type: 'view_submission',
      user: { id: SLACK_USERS.bob },
      view: {
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: { values: { rationale: { rationale: { type: 'plain_text_input', value: rationale } }, reason_code: { reason_code: { selected_option: reason ? { value: reason } : null } } } },
      },
    });
    const empty = await interact(submission('   '));
    expect(empty.status).toBe(200);
    expect(await readJson(empty)).toEqual({ response_action: 'errors', errors: { rationale: 'A deny needs a rationale.' } });

    const denied = await interact(submission('Customer already refunded last week', 'policy_violation'));
    expect(denied.status).toBe(200);
    expect(await denied.text()).toBe('');
    const state = await readJson(await stack.request('GET', `/v1/actions/${actionId}`, { as: 'agent' }));
    expect(state.decision).toMatchObject({ verdict: 'denied', by: ['bob'], rationale: 'Customer already refunded last week' });
    const { rows } = await stack.db.pool.query('SELECT reason_code FROM actions WHERE id = $1', [actionId]);
    expect(rows[0].reason_code).toBe('policy_violation');
    const update = slack.callsTo('chat.update').find((call) => call.args.ts === message.ts)!;
    expect(textOf(update.args.blocks)).toContain(':no_entry: *Denied* by bob');
    expect(textOf(update.args.blocks)).toContain('Customer already refunded last week');
  });

  it('tells an unlinked or ineligible Slack user why nothing happened, leaving the action pending', async () => {
    const actionId = await submitRefund(750);
    const where = { channel: 'C0SHARED', ts: '1.0' };
    const ephemeralsBefore = slack.callsTo('chat.postEphemeral').length;

    expect((await interact(buttonClick(actionId, 'UNOBODY99', 'holdpoint_approve', where))).status).toBe(200);
    expect((await interact(buttonClick(actionId, SLACK_USERS.olivia, 'holdpoint_approve', where))).status).toBe(200);

    const [unlinked, ineligible] = slack.callsTo('chat.postEphemeral').slice(ephemeralsBefore);
    expect(unlinked!.args).toMatchObject({ channel: 'C0SHARED', user: 'UNOBODY99', text: expect.stringContaining('not linked to a Holdpoint reviewer') });
    expect(ineligible!.args).toMatchObject({ user: SLACK_USERS.olivia, text: expect.stringContaining('Holdpoint did not record your decision') });
    expect((await readJson(await stack.request('GET', `/v1/actions/${actionId}`, { as: 'agent' }))).status).toBe('pending_review');
  });
});
