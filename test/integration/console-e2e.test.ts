/**
 * The reviewer console end to end in headless Chromium (Debian `chromium`, installed by the set-up
 * when missing): sign in, find the pending large refund, open it, approve with a rationale, and the
 * agent's long-poll returns approved; a reviewer outside the group cannot see it. Screenshots of the
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

  const longPoll = stack.request('GET', `/v1/actions/${ids.largeRefund}/wait?timeout=30`, { as: 'agent' });
  await page.getByRole('button', { name: 'Approve', exact: true }).click();
  const answer = await longPoll;
  expect(answer.status).toBe(200);
  const view = await readJson(answer);
  expect(view.decision).toMatchObject({ verdict: 'approved', by: ['alice'], rationale: 'Verified the lost-parcel claim in ZD-48213; carrier confirmed.' });
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
