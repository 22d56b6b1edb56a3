/**
 * Every way a reviewer decides (API key, console session, Slack button, email link) against the real
 * stack: an approval carries the hash of the payload its approver was shown, and only a principal
 * That is currently active and currently in a routed group can decide.
 */
import { WebClient } from '@slack/web-api';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Server } from 'node:http';
import { createApp } from '../../src/api/app';
import { signSlackRequest } from '../../src/channels/slack/slack-signature';
import { ActionService } from '../../src/gate/service/action-service';
import { keysCommand } from '../../src/ops/cli/keys-command';
import { loadConfig } from '../../src/platform/config';
import { createPrincipalKey, upsertPrincipal } from '../../src/access/principal-repository';
import { verifyDecisionToken } from '../../src/channels/email/decision-token';
import { canonicalHash } from '../../src/evidence/payload-hash';
import { reviewerChannelsFromConfig } from '../../src/channels/reviewer-channels';
import { staticPolicyEngine } from '../../src/policy/policy-engine';
import { loadPolicyFromSources } from '../../src/policy/policy-loader';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { eventually } from '../support/eventually';
import { startFakeSlackApi, type FakeSlackApi, type SlackCall } from '../support/fake-slack-api';
import { readJson } from '../support/http';
import { startSmtpInbox, type ReceivedMail, type SmtpInbox } from '../support/smtp-inbox';
import { silentLogger, uniqueKey } from '../support/workflow-harness';

const POLICY_DIR = path.join(__dirname, '../fixtures/policies-decision-paths');
const BOT_TOKEN = 'xoxb-test-token';
const SIGNING_SECRET = 'slack-signing-secret-for-tests';
const TOKEN_SECRET = 'email-token-secret-for-tests-0123456789';
const SLACK_USERS = { alice: 'UALICE001', bob: 'UBOB00001', carol: 'UCAROL001', dave: 'UDAVE0001' } as const;
type Reviewer = keyof typeof SLACK_USERS;

let slack: FakeSlackApi;
let inbox: SmtpInbox;
let stack: ApiStack;
const keys = {} as Record<Reviewer, string>;

beforeAll(async () => {
  [slack, inbox] = await Promise.all([startFakeSlackApi(), startSmtpInbox()]);
  const config = loadConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    SMTP_HOST: inbox.host,
    SMTP_PORT: String(inbox.port),
    SMTP_SECURE: 'false',
    EMAIL_TOKEN_SECRET: TOKEN_SECRET,
    API_PUBLIC_URL: 'http://api.test',
  });
  stack = await startApiStack({
    policyDir: POLICY_DIR,
    channels: (db) => reviewerChannelsFromConfig(config, db.pool),
    reviewerChannels: {
      slack: { signingSecret: SIGNING_SECRET, client: new WebClient(BOT_TOKEN, { slackApiUrl: slack.url, retryConfig: { retries: 0 } }) },
      emailTokenSecret: TOKEN_SECRET,
    },
  });
  keys.alice = stack.keys.reviewer;
  keys.bob = stack.keys.secondReviewer;
  for (const id of Object.keys(SLACK_USERS) as Reviewer[]) {
    const contact = { id, role: 'reviewer' as const, groups: ['finance'], slackUserId: SLACK_USERS[id], email: `${id}@example.com` };
    if (id === 'carol' || id === 'dave') keys[id] = (await createPrincipalKey(stack.db.pool, contact)).apiKey;
    else await upsertPrincipal(stack.db.pool, contact);
  }
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([slack?.close(), inbox?.close()]);
});

// ---- helpers ----------------------------------------------------------------------------------

async function submit(type: 'test.payout' | 'test.refund', amount: number): Promise<string> {
  const body = { agent: { id: 'support-bot' }, action: { type }, resource: { type: 'billing', id: 'cus_7' }, payload: { amount, currency: 'EUR' } };
  const response = await stack.request('POST', '/v1/actions', { as: 'agent', body, headers: { 'Idempotency-Key': uniqueKey('paths') } });
  expect(response.status).toBe(201);
  return (await readJson(response)).id;
}

const stateOf = async (actionId: string) => readJson(await stack.request('GET', `/v1/actions/${actionId}`, { as: 'admin' }));

/** Review messages posted to one reviewer's DM for this action, oldest first. */
const postsTo = (actionId: string, reviewer: Reviewer) =>
  slack.callsTo('chat.postMessage').filter((call) => call.args.channel === SLACK_USERS[reviewer] && JSON.stringify(call.args.blocks).includes(actionId));

const firstPostTo = (actionId: string, reviewer: Reviewer) => eventually(() => postsTo(actionId, reviewer)[0], 10_000, `a Slack message to ${reviewer}`);

function buttonValue(post: SlackCall, actionName: 'holdpoint_approve' | 'holdpoint_deny'): string {
  const decide = (post.args.blocks as { block_id?: string; elements?: { action_id: string; value?: string }[] }[]).find((b) => b.block_id === 'decide');
  const button = decide?.elements?.find((e) => e.action_id === actionName);
  if (!button?.value) throw new Error(`no ${actionName} button in ${JSON.stringify(post.args.blocks)}`);
  return button.value;
}

/** Signs and sends a button click as Slack would, to the stack's API or another app. */
function click(reviewer: Reviewer, actionName: 'holdpoint_approve' | 'holdpoint_deny', value: string, base = stack.baseUrl) {
  const payload = {
    type: 'block_actions',
    user: { id: SLACK_USERS[reviewer] },
    trigger_id: `trigger-${Math.random().toString(36).slice(2)}`,
    container: { type: 'message', channel_id: 'C0SHARED', message_ts: '1.0' },
    channel: { id: 'C0SHARED' },
    actions: [{ type: 'button', block_id: 'decide', action_id: actionName, value }],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const timestamp = Math.floor(Date.now() / 1000);
  return fetch(`${base}/slack/interactivity`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signSlackRequest(SIGNING_SECRET, timestamp, body) },
    body,
  });
}

/** The ephemeral answers Slack showed `reviewer` after `from` calls. */
const ephemeralsTo = (reviewer: Reviewer, from: number) =>
  slack
    .callsTo('chat.postEphemeral')
    .slice(from)
    .filter((call) => call.args.user === SLACK_USERS[reviewer])
    .map((call) => String(call.args.text));

const mailTo = (reviewer: Reviewer, actionId: string, subject: RegExp) =>
  eventually(
    () => inbox.mails.find((mail) => mail.to.includes(`${reviewer}@example.com`) && mail.headers['x-holdpoint-action'] === actionId && subject.test(mail.headers.subject ?? '')),
    10_000,
    `a mail to ${reviewer} matching ${subject}`,
  );

function link(mail: ReceivedMail, label: 'Approve' | 'Deny'): string {
  const url = new RegExp(`^${label}:\\s+(\\S+)$`, 'm').exec(mail.text)?.[1];
  if (!url) throw new Error(`no ${label} link in:\n${mail.text}`);
  return url.replace('http://api.test', stack.baseUrl);
}
const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;
const openLink = (url: string) => fetch(url, { headers: { accept: 'text/html' } });
const confirm = (token: string, fields: Record<string, string> = {}) =>
  fetch(`${stack.baseUrl}/email/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ token, ...fields }).toString(),
  });

async function consoleSession(apiKey: string, base = stack.baseUrl): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${base}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey }) });
  expect(response.status).toBe(201);
  return { cookie: response.headers.get('set-cookie')!.split(';')[0]!, csrf: (await readJson(response)).csrfToken };
}

const decideWithSession = (session: { cookie: string; csrf: string }, actionId: string, body: unknown, base = stack.baseUrl) =>
  fetch(`${base}/v1/actions/${actionId}/decision`, {
    method: 'POST',
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const decideWithKey = (apiKey: string, actionId: string, body: unknown, base = stack.baseUrl) =>
  fetch(`${base}/v1/actions/${actionId}/decision`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await keysCommand(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: { DATABASE_URL: stack.db.url } });
  return { code, stdout, stderr };
}

/** A second API over the same Temporal and Postgres, with another current policy (a reload). */
async function appWithPolicy(groups: string): Promise<{ base: string; close(): Promise<void> }> {
  const content = fs.readFileSync(path.join(POLICY_DIR, 'decision-paths.yaml'), 'utf8').replace(/^groups:\n(?: {2}.*\n)+/m, `groups:\n${groups}\n`);
  const policy = loadPolicyFromSources([{ name: 'decision-paths.yaml', content }]);
  const app = createApp({
    client: stack.env.client,
    pool: stack.db.pool,
    logger: silentLogger,
    taskQueue: 'unused',
    namespace: 'default',
    publicUrl: 'http://api.test',
    policy: { engine: staticPolicyEngine(policy), current: () => policy },
    reviewerChannels: {
      slack: { signingSecret: SIGNING_SECRET, client: new WebClient(BOT_TOKEN, { slackApiUrl: slack.url, retryConfig: { retries: 0 } }) },
      emailTokenSecret: TOKEN_SECRET,
    },
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// ---- the payload hash on every path --------------------------------------------------------

describe('an approval carries the hash of the payload its approver was shown', () => {
  it('Slack: the Approve button holds the action id and the hash of the payload on the card, and the click passes that hash on', async () => {
    const actionId = await submit('test.refund', 700);
    const { payloadHash } = await stateOf(actionId);
    const card = await firstPostTo(actionId, 'bob');
    expect(JSON.parse(buttonValue(card, 'holdpoint_approve'))).toEqual({ actionId, payloadHash });

    // A click carrying a hash that is not the candidate (a card that went stale) reaches the decision with that hash.
    const stale = canonicalHash({ amount: 1, currency: 'EUR' });
    const decide = jest.spyOn(ActionService.prototype, 'decide');
    try {
      expect((await click('bob', 'holdpoint_approve', JSON.stringify({ actionId, payloadHash: stale }))).status).toBe(200);
      await eventually(() => decide.mock.calls.length > 0, 10_000, 'the decision');
      expect(decide).toHaveBeenCalledWith(expect.objectContaining({ id: 'bob' }), actionId, expect.objectContaining({ verdict: 'approve', payloadHash: stale }));
    } finally {
      decide.mockRestore();
    }
  });

  it('email: confirming an approve link decides with the hash the link was signed for', async () => {
    const actionId = await submit('test.refund', 701);
    const { payloadHash } = await stateOf(actionId);
    const approve = link(await mailTo('bob', actionId, /Approval needed/), 'Approve');
    expect(verifyDecisionToken(TOKEN_SECRET, tokenOf(approve))).toMatchObject({ ok: true, claims: { ph: payloadHash } });
    const decide = jest.spyOn(ActionService.prototype, 'decide');
    try {
      expect((await confirm(tokenOf(approve))).status).toBe(200);
      expect(decide).toHaveBeenCalledWith(expect.objectContaining({ id: 'bob' }), actionId, expect.objectContaining({ verdict: 'approve', payloadHash }));
    } finally {
      decide.mockRestore();
    }
    expect((await stateOf(actionId)).decision).toMatchObject({ verdict: 'approved', by: ['bob'] });
  });

  it('email: after an edit, the old approve link answers 409 "the payload changed since you looked"; its deny link still denies', async () => {
    const actionId = await submit('test.payout', 100);
    const { payloadHash } = await stateOf(actionId);
    const mail = await mailTo('bob', actionId, /Approval needed/);
    const edit = await decideWithKey(keys.alice, actionId, { verdict: 'approve', editedPayload: { amount: 5000, currency: 'EUR' }, payloadHash });
    expect(edit.status).toBe(200);

    const shown = await openLink(link(mail, 'Approve'));
    expect(shown.status).toBe(409);
    expect(await shown.text()).toContain('The payload changed since you looked');
    const confirmed = await confirm(tokenOf(link(mail, 'Approve')));
    expect(confirmed.status).toBe(409);
    expect(await confirmed.text()).toContain('The payload changed since you looked');
    expect((await stateOf(actionId)).status).toBe('pending_review');

    // Deny is always safe: it needs no hash. (The approve link above did not spend the pair.)
    const denyLink = link(mail, 'Deny');
    expect((await openLink(denyLink)).status).toBe(200);
    const denied = await confirm(tokenOf(denyLink), { rationale: 'Not at 5000' });
    expect(denied.status).toBe(200);
    expect((await stateOf(actionId)).decision).toMatchObject({ verdict: 'denied', by: ['bob'] });
  });
});

describe('after an edit, approvals bind to the new payload (needs the workflow to enforce the candidate hash)', () => {
  it('A approves 100 → 5000; B’s click on the card still showing 100 is refused; B gets a new card and mail for 5000', async () => {
    const actionId = await submit('test.payout', 100);
    const { payloadHash } = await stateOf(actionId);
    const staleCard = await firstPostTo(actionId, 'bob');
    await mailTo('bob', actionId, /Approval needed/);

    const edit = await decideWithKey(keys.alice, actionId, { verdict: 'approve', editedPayload: { amount: 5000, currency: 'EUR' }, payloadHash });
    expect(edit.status).toBe(200);
    const edited = await stateOf(actionId);
    expect(edited.status).toBe('pending_review');
    expect(edited.review.candidatePayload).toEqual({ amount: 5000, currency: 'EUR' });
    const newHash = edited.review.candidatePayloadHash;
    expect(newHash).toBe(canonicalHash({ amount: 5000, currency: 'EUR' }));

    // The API refuses an approval without a hash now that the candidate is no longer the submitted payload.
    const blind = await decideWithKey(keys.bob, actionId, { verdict: 'approve' });
    expect(blind.status).toBe(409);

    const ephemerals = slack.callsTo('chat.postEphemeral').length;
    expect((await click('bob', 'holdpoint_approve', buttonValue(staleCard, 'holdpoint_approve'))).status).toBe(200);
    expect(ephemeralsTo('bob', ephemerals).join('\n')).toMatch(/payload changed since you looked/i);
    expect((await stateOf(actionId)).status).toBe('pending_review');

    // The other assignees hear of the edit: a new card and a new mail, bound to the new hash.
    const newCard = await eventually(() => postsTo(actionId, 'bob').find((post) => JSON.stringify(post.args.blocks).includes('Payload edited')), 10_000, 'the payload_edited card');
    expect(JSON.parse(buttonValue(newCard, 'holdpoint_approve'))).toEqual({ actionId, payloadHash: newHash });
    const newMail = await mailTo('bob', actionId, /Payload edited/);
    expect(newMail.text).toContain('  amount: 100 → 5000');
    expect(verifyDecisionToken(TOKEN_SECRET, tokenOf(link(newMail, 'Approve')))).toMatchObject({ ok: true, claims: { ph: newHash } });

    expect((await click('bob', 'holdpoint_approve', buttonValue(newCard, 'holdpoint_approve'))).status).toBe(200);
    const decided = await stateOf(actionId);
    expect(decided.decision).toMatchObject({ verdict: 'approved', by: ['alice', 'bob'] });
    expect(decided.approvedPayload).toEqual({ amount: 5000, currency: 'EUR' });
  });
});

// ---- eligibility at decision time ----------------------------------------------------------

describe('eligibility is checked at decision time against current identity', () => {
  it('after `keys revoke --id carol`, her API key, console session, email link and Slack button decide nothing', async () => {
    const actionId = await submit('test.refund', 710);
    const card = await firstPostTo(actionId, 'carol');
    const mail = await mailTo('carol', actionId, /Approval needed/);
    const session = await consoleSession(keys.carol);

    expect(await cli(['revoke', '--id', 'carol'])).toMatchObject({ code: 0 });

    expect((await decideWithKey(keys.carol, actionId, { verdict: 'approve' })).status).toBe(401);
    expect((await decideWithSession(session, actionId, { verdict: 'approve' })).status).toBe(401);
    expect((await openLink(link(mail, 'Approve'))).status).toBe(403);
    expect((await confirm(tokenOf(link(mail, 'Approve')))).status).toBe(403);
    const ephemerals = slack.callsTo('chat.postEphemeral').length;
    expect((await click('carol', 'holdpoint_approve', buttonValue(card, 'holdpoint_approve'))).status).toBe(200);
    expect(ephemeralsTo('carol', ephemerals).join('\n')).toMatch(/revoked|disabled/);
    expect((await stateOf(actionId)).status).toBe('pending_review');
  });

  it('`keys disable --id dave` stops every channel and ends his console sessions; `keys enable` lets him decide again', async () => {
    const actionId = await submit('test.refund', 720);
    const card = await firstPostTo(actionId, 'dave');
    const mail = await mailTo('dave', actionId, /Approval needed/);
    const session = await consoleSession(keys.dave);

    expect(await cli(['disable', '--id', 'dave'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Disabled dave') });
    expect((await cli(['list'])).stdout).toMatch(/^dave\s+reviewer\s+disabled\s/m);

    expect((await decideWithKey(keys.dave, actionId, { verdict: 'approve' })).status).toBe(401);
    expect((await decideWithSession(session, actionId, { verdict: 'approve' })).status).toBe(401);
    expect((await openLink(link(mail, 'Approve'))).status).toBe(403);
    expect((await confirm(tokenOf(link(mail, 'Approve')))).status).toBe(403);
    const ephemerals = slack.callsTo('chat.postEphemeral').length;
    expect((await click('dave', 'holdpoint_approve', buttonValue(card, 'holdpoint_approve'))).status).toBe(200);
    expect(ephemeralsTo('dave', ephemerals).join('\n')).toMatch(/disabled/);
    expect((await stateOf(actionId)).status).toBe('pending_review');

    expect(await cli(['enable', '--id', 'dave'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Enabled dave') });
    // A session opened before the disable stays ended; a new sign-in works.
    expect((await decideWithSession(session, actionId, { verdict: 'approve' })).status).toBe(401);
    expect((await click('dave', 'holdpoint_approve', buttonValue(card, 'holdpoint_approve'))).status).toBe(200);
    expect((await stateOf(actionId)).decision).toMatchObject({ verdict: 'approved', by: ['dave'] });
  });

  it('`keys disable` / `keys enable` of an unknown principal exit 1; without --id they are usage errors', async () => {
    expect(await cli(['disable', '--id', 'nobody-here'])).toMatchObject({ code: 1, stdout: expect.stringContaining('No principal nobody-here') });
    expect(await cli(['enable', '--id', 'nobody-here'])).toMatchObject({ code: 1 });
    expect((await cli(['disable'])).code).toBe(2);
  });

  it('a reviewer removed from the routed group (policy reload) gets 403 not-eligible on a pending action; others still deny', async () => {
    const actionId = await submit('test.refund', 730);
    await firstPostTo(actionId, 'alice');
    const reloaded = await appWithPolicy('  ops: [olivia]\n  finance: [bob, carol, dave]');
    try {
      const refused = await decideWithKey(keys.alice, actionId, { verdict: 'approve' }, reloaded.base);
      expect(refused.status).toBe(403);
      expect(await readJson(refused)).toMatchObject({ type: 'https://holdpoint.dev/problems/not-eligible' });
      const session = await consoleSession(keys.alice, reloaded.base);
      expect((await decideWithSession(session, actionId, { verdict: 'deny', rationale: 'no longer mine' }, reloaded.base)).status).toBe(403);
      const ephemerals = slack.callsTo('chat.postEphemeral').length;
      expect((await click('alice', 'holdpoint_approve', JSON.stringify({ actionId, payloadHash: (await stateOf(actionId)).payloadHash }), reloaded.base)).status).toBe(200);
      expect(ephemeralsTo('alice', ephemerals).join('\n')).toMatch(/alice is not a member of finance/);
      expect((await stateOf(actionId)).status).toBe('pending_review');

      const denied = await decideWithKey(keys.bob, actionId, { verdict: 'deny', rationale: 'Duplicate' }, reloaded.base);
      expect(denied.status).toBe(200);
      expect((await stateOf(actionId)).decision).toMatchObject({ verdict: 'denied', by: ['bob'] });
    } finally {
      await reloaded.close();
    }
  });
});
