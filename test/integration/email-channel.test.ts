import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/platform/config';
import { upsertPrincipal } from '../../src/access/principal-repository';
import { signDecisionToken, verifyDecisionToken } from '../../src/channels/email/decision-token';
import { canonicalHash } from '../../src/evidence/payload-hash';
import { EmailChannel, type EmailChannelOptions } from '../../src/channels/email/email-channel';
import type { ReviewNotification } from '../../src/channels/review-notification';
import { reviewerChannelsFromConfig } from '../../src/channels/reviewer-channels';
import { evaluate } from '../../src/policy/policy-evaluator';
import { loadPolicy } from '../../src/policy/policy-loader';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { eventually } from '../support/eventually';
import { readJson } from '../support/http';
import { startSmtpInbox, type ReceivedMail, type SmtpInbox } from '../support/smtp-inbox';
import { FIXTURE_POLICY_DIR, uniqueKey } from '../support/workflow-harness';

const TOKEN_SECRET = 'email-token-secret-for-tests-0123456789';

let inbox: SmtpInbox;
let stack: ApiStack;

beforeAll(async () => {
  inbox = await startSmtpInbox();
  const config = loadConfig({
    SMTP_HOST: inbox.host,
    SMTP_PORT: String(inbox.port),
    SMTP_SECURE: 'false',
    SMTP_FROM: 'Holdpoint <holdpoint@example.com>',
    EMAIL_TOKEN_SECRET: TOKEN_SECRET,
    API_PUBLIC_URL: 'http://api.test',
  });
  stack = await startApiStack({ channels: (db) => reviewerChannelsFromConfig(config, db.pool), reviewerChannels: { emailTokenSecret: TOKEN_SECRET } });
  await upsertPrincipal(stack.db.pool, { id: 'alice', role: 'reviewer', groups: ['finance'], email: 'alice@example.com', displayName: 'Alice Archer' });
  await upsertPrincipal(stack.db.pool, { id: 'bob', role: 'reviewer', groups: ['finance'], email: 'bob@example.com' });
});
afterAll(async () => {
  await stack?.close();
  await inbox?.close();
});

async function submitRefund(amount: number): Promise<string> {
  const body = { agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_9' }, payload: { amount, currency: 'EUR', note: 'damaged <b>parcel</b>' } };
  const response = await stack.request('POST', '/v1/actions', { as: 'agent', body, headers: { 'Idempotency-Key': uniqueKey('mail') } });
  expect(response.status).toBe(201);
  return (await readJson(response)).id;
}

const mailTo = (address: string, actionId: string, subject: RegExp) =>
  eventually(() => inbox.mails.find((mail) => mail.to.includes(address) && mail.headers['x-holdpoint-action'] === actionId && subject.test(mail.headers.subject ?? '')), 10_000, `a mail to ${address}`);

/** The link in the mail's text, pointed at the test server instead of the public URL. */
function link(mail: ReceivedMail, label: 'Approve' | 'Deny'): string {
  const url = new RegExp(`^${label}:\\s+(\\S+)$`, 'm').exec(mail.text)?.[1];
  if (!url) throw new Error(`no ${label} link in:\n${mail.text}`);
  expect(url.startsWith('http://api.test/email/decision?token=')).toBe(true);
  return url.replace('http://api.test', stack.baseUrl);
}

const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;
const page = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers: { accept: 'text/html', ...headers } });
const confirm = (token: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  fetch(`${stack.baseUrl}/email/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
    body: new URLSearchParams({ token, ...fields }).toString(),
  });
const stateOf = async (actionId: string) => readJson(await stack.request('GET', `/v1/actions/${actionId}`, { as: 'admin' }));

it('mails each reviewer the exact arguments with approve / deny links, and the links open a confirmation page that decides nothing', async () => {
  const actionId = await submitRefund(800);
  const mail = await mailTo('alice@example.com', actionId, /Approval needed/);
  expect(mail.headers.subject).toBe('[Holdpoint] Approval needed: test.refund on billing:cus_9');
  expect(mail.headers.from).toBe('Holdpoint <holdpoint@example.com>');
  expect(mail.headers.to).toBe('Alice Archer <alice@example.com>');
  expect(mail.text).toContain('Risk:         High');
  expect(mail.text).toContain('Reason:       "Refund of 800 needs finance"');
  expect(mail.text).toMatch(/Decide by: {4}\w{3}, \d{2} \w{3} \d{4} [\d:]{8} UTC/);
  expect(mail.text).toContain('  amount: 800');
  expect(mail.text).toContain(`Open in the console: http://api.test/console/#/actions/${encodeURIComponent(actionId)}`);
  expect(mail.html).toContain('damaged &lt;b&gt;parcel&lt;/b&gt;');
  expect(mail.html).toContain('>Approve…</a>');
  await mailTo('bob@example.com', actionId, /Approval needed/);

  const approve = link(mail, 'Approve');
  const claims = verifyDecisionToken(TOKEN_SECRET, tokenOf(approve));
  expect(claims).toMatchObject({ ok: true, claims: { sub: 'alice', act: actionId, vd: 'approve', ph: expect.stringMatching(/^sha256:/) } });

  const shown = await page(approve);
  expect(shown.status).toBe(200);
  expect(shown.headers.get('cache-control')).toBe('no-store');
  expect(shown.headers.get('content-security-policy')).toContain("default-src 'none'");
  const html = await shown.text();
  expect(html).toContain('Approve test.refund on billing:cus_9?');
  expect(html).toContain('<form method="post" action="/email/decision">');
  expect(html).toContain('damaged &lt;b&gt;parcel&lt;/b&gt;');
  expect((await stateOf(actionId)).status).toBe('pending_review');
});

it('a link decides once, as the reviewer it was sent to; the mail pair shares one use', async () => {
  const actionId = await submitRefund(810);
  const mail = await mailTo('alice@example.com', actionId, /Approval needed/);
  const approve = link(mail, 'Approve');
  const waiting = stack.request('GET', `/v1/actions/${actionId}/wait?timeout=20`, { as: 'agent' });

  const decided = await confirm(tokenOf(approve), { rationale: 'Matches the RMA', reasonCode: 'verified' });
  expect(decided.status).toBe(200);
  expect(await decided.text()).toContain('Approved by alice.');
  expect((await readJson(await waiting)).decision).toMatchObject({ verdict: 'approved', by: ['alice'], rationale: 'Matches the RMA' });

  const again = await confirm(tokenOf(approve));
  expect(again.status).toBe(410);
  expect(await again.text()).toContain('This link was already used');
  expect((await page(approve)).status).toBe(410);
  const deny = await confirm(tokenOf(link(mail, 'Deny')), { rationale: 'changed my mind' });
  expect(deny.status).toBe(410);

  const evidence = await readJson(await stack.request('GET', `/v1/actions/${actionId}/evidence`, { as: 'admin' }));
  expect(evidence.reviewerActions.map((e: { actor: string; data: { reasonCode: string } }) => [e.actor, e.data.reasonCode])).toEqual([['alice', 'verified']]);
  const outcome = await mailTo('bob@example.com', actionId, /Approved/);
  expect(outcome.headers.subject).toBe('[Holdpoint] Approved: test.refund on billing:cus_9');
  expect(outcome.text).toContain('Decided by:   alice');
  expect(outcome.text).not.toContain('Approve:');
});

it('works only for the addressed reviewer: an altered token, or a browser signed in as someone else, is refused', async () => {
  const actionId = await submitRefund(820);
  const mail = await mailTo('bob@example.com', actionId, /Approval needed/);
  const token = tokenOf(link(mail, 'Approve'));

  // Re-addressed to alice with the signature kept: the signature no longer matches.
  const [claims, signature] = token.split('.') as [string, string];
  const readdressed = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), sub: 'alice' })).toString('base64url');
  const forged = await confirm(`${readdressed}.${signature}`);
  expect(forged.status).toBe(400);
  expect(await forged.text()).toContain('This link is not valid');

  // Alice, signed in to the console, opens bob's link.
  const signIn = await fetch(`${stack.baseUrl}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey: stack.keys.reviewer }) });
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
  const asAlice = await confirm(token, {}, { cookie });
  expect(asAlice.status).toBe(403);
  expect(await asAlice.text()).toContain('This link was sent to bob; you are signed in as alice.');

  // As problem+json for API clients.
  const api = await fetch(`${stack.baseUrl}/email/decision?token=${encodeURIComponent(`${readdressed}.${signature}`)}`, { headers: { accept: 'application/problem+json' } });
  expect(api.status).toBe(400);
  expect(await readJson(api)).toMatchObject({ type: 'https://holdpoint.dev/problems/link-invalid' });

  expect((await stateOf(actionId)).status).toBe('pending_review');
  expect((await confirm(token)).status).toBe(200);
  expect((await stateOf(actionId)).decision).toMatchObject({ by: ['bob'] });
});

it('refuses an expired token', async () => {
  const actionId = await submitRefund(830);
  const state = await stateOf(actionId);
  const expired = signDecisionToken(TOKEN_SECRET, { jti: 'expired-1', sub: 'alice', act: actionId, ph: state.payloadHash, vd: 'approve', exp: Math.floor(Date.now() / 1000) - 1 });
  const shown = await page(`${stack.baseUrl}/email/decision?token=${expired}`);
  expect(shown.status).toBe(410);
  expect(await shown.text()).toContain('This link has expired');
  expect((await confirm(expired)).status).toBe(410);
  expect((await stateOf(actionId)).status).toBe('pending_review');
});

it('a deny link needs a rationale on the confirmation page, then denies', async () => {
  const actionId = await submitRefund(840);
  const mail = await mailTo('alice@example.com', actionId, /Approval needed/);
  const token = tokenOf(link(mail, 'Deny'));
  const html = await (await page(link(mail, 'Deny'))).text();
  expect(html).toContain('Deny test.refund on billing:cus_9?');
  expect(html).toMatch(/<textarea id="rationale" name="rationale" maxlength="2000" required/);

  const missing = await confirm(token, { rationale: '  ' });
  expect(missing.status).toBe(422);
  expect(await missing.text()).toContain('A deny needs a rationale.');
  const denied = await confirm(token, { rationale: 'Duplicate of an earlier refund', reasonCode: 'policy_violation' });
  expect(denied.status).toBe(200);
  expect(await denied.text()).toContain('Denied by alice.');
  expect((await stateOf(actionId)).decision).toMatchObject({ verdict: 'denied', rationale: 'Duplicate of an earlier refund' });
});

describe('EmailChannel on an escalation', () => {
  it('gives the new tier links and tells the earlier tier, without links', async () => {
    const options: EmailChannelOptions = {
      transport: nodemailer.createTransport({ host: inbox.host, port: inbox.port, secure: false }),
      from: 'Holdpoint <holdpoint@example.com>',
      tokenSecret: TOKEN_SECRET,
      publicUrl: 'https://holdpoint.example.com',
      contacts: async (ids) => ids.map((id) => ({ id, email: `${id}@corp.example` })),
      outcome: async () => undefined,
    };
    const channel = new EmailChannel(options);
    const notification: ReviewNotification = {
      id: 'action-11-support-bot-esc-1:escalated:1',
      kind: 'escalated',
      actionId: 'action-11-support-bot-esc-1',
      request: { agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_e' }, payload: { amount: 990 } },
      policy: { risk: 'high', reason: 'Refund of 990 needs finance', matchedRules: ['refund-review'] },
      tier: 1,
      recipients: ['mallory'],
      informed: ['alice'],
      dueAt: new Date(Date.now() + 3_600_000).toISOString(),
      candidate: { payload: { amount: 990 }, payloadHash: canonicalHash({ amount: 990 }) },
    };
    expect(await channel.deliver(notification)).toEqual({ channel: 'email', ok: true, detail: 'sent 2 of 2' });
    const manager = await eventually(() => inbox.mails.find((mail) => mail.to.includes('mallory@corp.example')));
    const earlier = await eventually(() => inbox.mails.find((mail) => mail.to.includes('alice@corp.example')));
    expect(manager.headers.subject).toBe('[Holdpoint] Escalated: approval needed: test.refund on billing:cus_e');
    expect(manager.text).toMatch(/^Approve: https:\/\/holdpoint\.example\.com\/email\/decision\?token=/m);
    expect(earlier.headers.subject).toBe('[Holdpoint] Escalated to the next tier: test.refund on billing:cus_e');
    expect(earlier.text).toContain('You can still decide while it is pending.');
    expect(earlier.text).not.toContain('Approve:');

    // An unreachable SMTP server is reported, never thrown.
    const down = new EmailChannel({ ...options, transport: nodemailer.createTransport({ host: '127.0.0.1', port: 9, secure: false, connectionTimeout: 500 }) });
    const failed = await down.deliver(notification);
    expect(failed).toMatchObject({ channel: 'email', ok: false, detail: expect.stringMatching(/^sent 0 of 2; failed: mallory \(/) });
  });
});

it('keeps decision tokens and session cookies out of the request log', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const policy = loadPolicy(FIXTURE_POLICY_DIR);
  const app = createApp({
    client: stack.env.client,
    pool: stack.db.pool,
    logger,
    taskQueue: 'unused',
    namespace: 'default',
    publicUrl: 'http://api.test',
    policy: { engine: { evaluate: (request) => evaluate(policy, request) }, current: () => policy },
    reviewerChannels: { emailTokenSecret: TOKEN_SECRET },
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await fetch(`${base}/email/decision?token=SECRET-TOKEN-VALUE.x`, { headers: { accept: 'text/html' } });
    const signIn = await fetch(`${base}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey: stack.keys.reviewer }) });
    const sessionId = /holdpoint_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')![1]!;
    const log = lines.join('');
    expect(log).toContain('/email/decision?token=[redacted]');
    expect(log).not.toContain('SECRET-TOKEN-VALUE');
    expect(log).not.toContain(sessionId);
    expect(log).not.toContain(stack.keys.reviewer);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
