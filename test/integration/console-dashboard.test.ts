/**
 * The console dashboard in headless Chromium: actions are seeded and decided through the API, an
 * admin opens #/dashboard, and the KPIs, the volume and response-time charts (with their table
 * fallbacks), SLA breaches and denial reasons show the seeded numbers. The page is saved as
 * test-artifacts/console-dashboard.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { ensureChromium, launchChromium } from '../support/chromium';
import { eventually } from '../support/eventually';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');

let stack: ApiStack;
let browser: Browser;

async function submit(type: string, payload: Record<string, unknown>): Promise<string> {
  const response = await stack.request('POST', '/v1/actions', {
    as: 'agent',
    body: { agent: { id: 'support-bot' }, action: { type }, resource: { type: 'billing', id: `cus_${Math.random().toString(36).slice(2, 8)}` }, payload },
    headers: { 'Idempotency-Key': uniqueKey(type) },
  });
  expect(response.status).toBe(201);
  return (await readJson(response)).id;
}

async function decide(id: string, decision: Record<string, unknown>): Promise<void> {
  await eventually(async () => (await readJson(await stack.request('GET', `/v1/actions/${id}`, { as: 'reviewer' }))).status === 'pending_review', 30_000, `${id} pending`);
  const response = await stack.request('POST', `/v1/actions/${id}/decision`, { as: 'reviewer', body: decision });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  ensureChromium();
  [stack, browser] = await Promise.all([startApiStack(), launchChromium()]);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // 2 allowed by policy, 1 denied by policy, 2 approved and 1 denied by alice, 1 left pending.
  await Promise.all([submit('test.ping', { n: 1 }), submit('test.ping', { n: 2 }), submit('test.nuke', { n: 3 })]);
  const refunds = await Promise.all([120, 240, 380, 990].map((amount) => submit('test.refund', { amount, currency: 'EUR' })));
  await decide(refunds[0]!, { verdict: 'approve', reasonCode: 'verified', rationale: 'Matches the order' });
  await decide(refunds[1]!, { verdict: 'approve', reasonCode: 'customer_goodwill' });
  await decide(refunds[2]!, { verdict: 'deny', reasonCode: 'suspected_fraud', rationale: 'Third refund this week on a new account' });
  // The seeded outcomes have settled (the allowed ones classified) before the browser looks.
  await eventually(async () => {
    const metrics = await readJson(await stack.request('GET', '/v1/metrics?bucket=day', { as: 'admin' }));
    return metrics.volume.total === 7 && metrics.responseTimes.decisions === 3 && metrics.volumeOverTime.reduce((n: number, p: { counts: Record<string, number> }) => n + (p.counts.allowed ?? 0), 0) === 2;
  }, 60_000, 'the seeded metrics');
}, 15 * 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

it('an admin opens the dashboard and sees volume, response times, SLA breaches and denial reasons', async () => {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
  const page = await context.newPage();
  let scriptBytes = 0;
  page.on('response', async (response) => {
    if (response.request().resourceType() === 'script') scriptBytes += (await response.body().catch(() => Buffer.alloc(0))).length;
  });
  await page.goto(`${stack.baseUrl}/console/`);
  await page.getByLabel('API key').fill(stack.keys.admin);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: /Inbox/ }).waitFor();
  expect(scriptBytes).toBeLessThan(200 * 1024);

  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await page.getByTestId('kpi-total').filter({ hasText: '7' }).waitFor();

  // Both charts are drawn by uPlot, each with an accessible name.
  await page.getByRole('img', { name: /Stacked bar chart of 7 actions per day by outcome/ }).waitFor();
  await page.getByRole('img', { name: /Histogram of 3 review response times/ }).waitFor();
  expect(await page.locator('.chart canvas').count()).toBe(2);

  // Table fallbacks: today's row counts every outcome.
  await page.getByText('Volume by day (table)').click();
  const volume = page.getByTestId('volume-table');
  const headers = (await volume.locator('thead th').allTextContents()).map((text) => text.trim());
  const cells = (await volume.locator('tbody tr').last().locator('td').allTextContents()).map(Number);
  expect(Object.fromEntries(headers.slice(1).map((header, i) => [header, cells[i]]))).toEqual({ 'Allowed by policy': 2, Approved: 2, Denied: 1, 'Denied by policy': 1, Pending: 1 });
  await page.getByText('Volume by day (table)').click();

  // Every vote came within seconds: all three in the first bin.
  const histogram = page.getByTestId('histogram-table');
  expect((await histogram.locator('tbody tr').first().textContent())?.replace(/\s+/g, ' ')).toBe('≤ 5 s3');
  await expect(page.getByTestId('median').textContent()).resolves.toMatch(/^\d+(\.\d)? s$/);
  await expect(page.getByTestId('p90').textContent()).resolves.toMatch(/^\d+(\.\d)? s$/);

  const sla = page.getByRole('table', { name: 'SLA breaches by tier' });
  expect((await sla.locator('tbody tr').first().textContent())?.replace(/\s+/g, ' ')).toBe('Tier 1First reviewers300 %');

  const denials = page.getByRole('table', { name: 'Top denial reasons by action type' });
  const denial = await denials.locator('tbody tr').first().textContent();
  expect(denial).toContain('test.refund');
  expect(denial).toContain('suspected_fraud');
  expect(denial).toContain('Third refund this week on a new account');
  await page.getByText(/No rule has 20 or more human decisions/).waitFor();

  // The range selector is a keyboard radio group.
  await page.getByRole('radio', { name: '30 days' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('radio', { name: '90 days' }).getAttribute('aria-checked')).resolves.toBe('true');
  await page.getByText('Actions created in the last 90 days').waitFor();
  await page.getByTestId('kpi-total').filter({ hasText: '7' }).waitFor();
  await page.getByRole('radio', { name: '30 days' }).click();
  await page.getByText('Actions created in the last 30 days').waitFor();
  await page.getByTestId('kpi-total').filter({ hasText: '7' }).waitFor();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-dashboard.png'), fullPage: true });
  await context.close();
});
