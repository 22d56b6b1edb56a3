/**
 * The reviewer console end to end in headless Chromium (Debian `chromium`, installed by the set-up
 * when missing): sign in, find the pending large refund, open it, approve with a rationale, and the
 * agent's long-poll returns approved; a reviewer outside the group cannot see it; an admin approves an
 * action routed to finance only by an explicit break-glass override. Screenshots of the
 * inbox and the detail page are saved under test-artifacts/.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { ensureChromium, launchChromium } from '../support/chromium';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');

let stack: ApiStack;
let browser: Browser;
const ids: Record<string, string> = {};

async function submit(name: string, body: Record<string, unknown>): Promise<void> {
  const response = await stack.request('POST', '/v1/actions', { as: 'agent', body, headers: { 'Idempotency-Key': uniqueKey(name) } });
  expect(response.status).toBe(201);
  ids[name] = (await readJson(response)).id;
}

beforeAll(async () => {
  ensureChromium(); // may install it: outside the browser's own launch timeout
  [stack, browser] = await Promise.all([startApiStack({ temporalUiUrl: 'http://localhost:8233' }), launchChromium()]);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const agent = { id: 'support-bot', onBehalfOf: 'customer-42' };
  await submit('largeRefund', {
    agent,
    action: { type: 'test.refund', tool: 'stripe.refunds.create' },
    resource: { type: 'billing', id: 'cus_8841' },
    payload: { amount: 1850, currency: 'EUR', charge: 'ch_3PqL9x', note: 'Parcel lost in transit' },
    context: { ticket: 'ZD-48213', customerTier: 'gold', conversation: 'Customer reports the parcel never arrived; carrier confirms loss.' },
  });
  await submit('smallRefund', { agent, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_2210' }, payload: { amount: 240, currency: 'EUR' } });
  await submit('grant', { agent: { id: 'support-bot' }, action: { type: 'test.grant' }, resource: { type: 'account', id: 'acct_77' }, payload: { role: 'billing-admin', user: 'u_193' } });
  await submit('overrideRefund', { agent, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_5530' }, payload: { amount: 610, currency: 'EUR' } });
  await submit('opsOnly', { agent: { id: 'support-bot' }, action: { type: 'test.notify' }, resource: { type: 'channel', id: 'status-page' }, payload: { message: 'Degraded performance' } });
}, 15 * 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** A fresh browser context (own cookies), signed in with the given key using the keyboard. */
async function signedIn(key: string): Promise<{ page: Page; scriptBytes: () => number }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
  const page = await context.newPage();
  let bytes = 0;
  page.on('response', async (response) => {
    if (response.request().resourceType() === 'script') bytes += (await response.body().catch(() => Buffer.alloc(0))).length;
  });
  await page.goto(`${stack.baseUrl}/console/`);
  const keyField = page.getByLabel('API key');
  await keyField.focus();
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: /Inbox/ }).waitFor();
  return { page, scriptBytes: () => bytes };
}

it('a reviewer signs in, opens the pending large refund, approves it with a rationale, and the agent is answered', async () => {
  const { page, scriptBytes } = await signedIn(stack.keys.reviewer);
  expect(scriptBytes()).toBeGreaterThan(0);
  expect(scriptBytes()).toBeLessThan(200 * 1024);

  const row = page.getByRole('row').filter({ hasText: 'billing:cus_8841' });
  await row.waitFor();
  await expect(row.textContent()).resolves.toMatch(/High risk/);
  await expect(row.textContent()).resolves.toContain('Refund of 1850 needs finance');
  await expect(row.textContent()).resolves.toMatch(/\d+m \d{2}s left/);
  // Ordered by deadline; the ops-only notification is not in alice's inbox.
  const inboxText = await page.locator('tbody').textContent();
  expect(inboxText).not.toContain('status-page');
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-inbox.png') });

  await row.getByRole('link', { name: 'test.refund' }).click();
  await page.getByRole('heading', { level: 1, name: /test\.refund on billing:cus_8841/ }).waitFor();
  await page.getByText('Customer reports the parcel never arrived; carrier confirms loss.').waitFor();
  await page.getByText('Workflow in Temporal UI').waitFor();
  expect(await page.getByRole('link', { name: 'Workflow in Temporal UI' }).getAttribute('href')).toBe(
    `http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(ids.largeRefund!)}`,
  );
  await page.getByLabel(/Rationale/).fill('Verified the lost-parcel claim in ZD-48213; carrier confirmed.');
  await page.getByLabel('Reason code').selectOption('verified');
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-detail.png'), fullPage: true });

  const decisions: unknown[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/decision')) decisions.push(request.postDataJSON());
  });
  const longPoll = stack.request('GET', `/v1/actions/${ids.largeRefund}/wait?timeout=30`, { as: 'agent' });
  await page.getByRole('button', { name: 'Approve', exact: true }).click();
  const answer = await longPoll;
  expect(answer.status).toBe(200);
  const view = await readJson(answer);
  expect(view.decision).toMatchObject({ verdict: 'approved', by: ['alice'], rationale: 'Verified the lost-parcel claim in ZD-48213; carrier confirmed.' });
  // The approval names the payload the page showed.
  expect(decisions).toEqual([expect.objectContaining({ verdict: 'approve', payloadHash: view.payloadHash })]);
  await page.getByRole('heading', { name: 'Outcome' }).waitFor();
  await page.getByText('alice approved').first().waitFor();
  await page.context().close();
});

it('a reviewer outside the group sees neither the refund in the inbox nor its page', async () => {
  const { page } = await signedIn(stack.keys.outsider);
  await page.getByRole('row').filter({ hasText: 'status-page' }).waitFor();
  expect(await page.locator('main').textContent()).not.toContain('cus_8841');
  await page.goto(`${stack.baseUrl}/console/#/actions/${encodeURIComponent(ids.largeRefund!)}`);
  await page.getByRole('alert').filter({ hasText: `no action ${ids.largeRefund}` }).waitFor();
  await page.context().close();
});

it('keeps the decide form honest: a deny needs a rationale, and an admin sees every action', async () => {
  const { page } = await signedIn(stack.keys.admin);
  await page.getByRole('link', { name: 'All actions' }).click();
  await page.getByRole('heading', { name: /All actions/ }).waitFor();
  await page.getByRole('row').filter({ hasText: 'billing:cus_8841' }).waitFor();
  await page.getByLabel('Status').selectOption('pending_review');
  await page.waitForFunction("!document.querySelector('tbody')?.textContent?.includes('cus_8841')");

  await page.goto(`${stack.baseUrl}/console/#/actions/${encodeURIComponent(ids.smallRefund!)}`);
  await page.getByRole('radio', { name: 'Deny' }).check();
  await page.getByRole('button', { name: 'Deny', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'A deny needs a rationale.' }).waitFor();
  expect((await readJson(await stack.request('GET', `/v1/actions/${ids.smallRefund}`, { as: 'admin' }))).status).toBe('pending_review');
  await page.context().close();
});

it('an admin approves an action routed to finance only by an explicit break-glass override, with a rationale', async () => {
  const { page } = await signedIn(stack.keys.admin);
  await page.goto(`${stack.baseUrl}/console/#/actions/${encodeURIComponent(ids.overrideRefund!)}`);
  await page.getByRole('heading', { level: 1, name: /test\.refund on billing:cus_5530/ }).waitFor();

  // root is not a routed reviewer: Approve stays disabled until the override is ticked; Deny needs none.
  const approve = page.getByRole('button', { name: 'Approve', exact: true });
  await approve.waitFor();
  expect(await approve.isDisabled()).toBe(true);
  await page.getByText('You are not a routed reviewer of this action.').waitFor();
  await page.getByRole('radio', { name: 'Deny' }).check();
  expect(await page.getByRole('button', { name: 'Deny', exact: true }).isEnabled()).toBe(true);
  await page.getByRole('radio', { name: 'Approve' }).check();
  expect(await approve.isDisabled()).toBe(true);

  const override = page.getByRole('checkbox', { name: /Break-glass override/ });
  await override.check();
  expect(await approve.isEnabled()).toBe(true);
  await page.getByText('(required)').waitFor();
  // Ticked, the rationale is required.
  await approve.click();
  await page.getByRole('alert').filter({ hasText: 'A break-glass approval needs a rationale.' }).waitFor();

  await page.getByLabel(/Rationale/).fill('Finance is offline; the CFO approved by phone.');

  // A 403 shows the problem's detail (the fixture policy has no rule forbidding break-glass: one answer is stubbed).
  await page.route(
    '**/decision',
    (route) =>
      route.fulfill({
        status: 403,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          type: 'https://holdpoint.dev/problems/break-glass-forbidden',
          title: 'Break Glass Forbidden',
          status: 403,
          detail: 'the policy forbids break-glass approval here (refund-review)',
        }),
      }),
    { times: 1 },
  );
  await approve.click();
  await page.getByRole('alert').filter({ hasText: 'the policy forbids break-glass approval here (refund-review)' }).waitFor();
  await page.unrouteAll();

  const decisions: unknown[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/decision')) decisions.push(request.postDataJSON());
  });
  await approve.click();

  const outcome = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Outcome' }) });
  await outcome.waitFor();
  await outcome.getByText('Break-glass override').waitFor();
  expect(await outcome.textContent()).toContain('root');
  await page.getByText('root approved by BREAK-GLASS override').waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-break-glass.png'), fullPage: true });

  const view = await readJson(await stack.request('GET', `/v1/actions/${ids.overrideRefund}`, { as: 'admin' }));
  expect(view.decision).toMatchObject({ verdict: 'approved', by: ['root'], breakGlass: true, rationale: 'Finance is offline; the CFO approved by phone.' });
  expect(decisions).toEqual([expect.objectContaining({ verdict: 'approve', breakGlass: true, rationale: 'Finance is offline; the CFO approved by phone.', payloadHash: view.payloadHash })]);
  await page.context().close();
});
