import { canonicalHash } from '../../../src/evidence/payload-hash';
import { startApiStack, type ApiStack } from '../../support/api-stack';
import { readJson } from '../../support/http';
import { uniqueKey } from '../../support/workflow-harness';
import { ATTACK_POLICY_DIR, attackKit } from './attack-helpers';

/**
 * Guards: agent-mode execution reports, what the read model shows against what executes, payload keys
 * that look alike, idempotency-key reuse and reading other agents' actions.
 */
jest.setTimeout(120_000);

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack({ policyDir: ATTACK_POLICY_DIR });
});
afterAll(() => stack?.close());
const kit = attackKit(() => stack);

const report = (id: string, body: Record<string, unknown>, as: 'agent' | 'otherAgent' = 'agent') =>
  stack.request('POST', `/v1/actions/${id}/execution`, { as, body });

// Keys a reviewer cannot tell apart: composed and decomposed é, and a Cyrillic "а" in "amount".
const NFC = 'caf\u00e9';
const NFD = 'cafe\u0301';
const CYRILLIC_AMOUNT = '\u0430mount';

describe('agent-mode execution reports', () => {
  it('refuses a report before approval, from another agent, and a second report', async () => {
    const { id } = await kit.pending(kit.request('test.report', { amount: 60, currency: 'EUR' }));
    const early = await report(id, { payload: { amount: 60, currency: 'EUR' }, succeeded: true });
    expect(early.status).toBe(409);
    expect((await kit.decide(id, 'reviewer', { verdict: 'approve' })).status).toBe(200);
    expect([403, 404]).toContain((await report(id, { payload: { amount: 60, currency: 'EUR' }, succeeded: true }, 'otherAgent')).status);
    // Key order is not a mismatch (canonical comparison) ...
    const first = await report(id, { payload: { currency: 'EUR', amount: 60 }, succeeded: true });
    expect(first.status).toBe(200);
    expect((await readJson(first)).status).toBe('executed');
    // ... and the story cannot be rewritten afterwards.
    const second = await report(id, { payload: { amount: 6000, currency: 'EUR' }, succeeded: true });
    expect(second.status).toBe(409);
    expect((await kit.read(id)).status).toBe('executed');
  });

  it('flags as mismatch a report of the submitted payload after a reviewer edit, and a look-alike key', async () => {
    const a = await kit.pending(kit.request('test.report', { amount: 90 }));
    expect((await kit.decide(a.id, 'reviewer', { verdict: 'approve', payloadHash: a.action.payloadHash, editedPayload: { amount: 70 } })).status).toBe(200);
    const stale = await report(a.id, { payload: { amount: 90 }, succeeded: true });
    expect((await readJson(stale)).status).toBe('mismatch');

    const b = await kit.pending(kit.request('test.report', { amount: 60, [NFC]: 1 }));
    expect((await kit.decide(b.id, 'reviewer', { verdict: 'approve' })).status).toBe(200);
    const lookalike = await report(b.id, { payload: { amount: 60, [NFD]: 1 }, succeeded: true });
    expect((await readJson(lookalike)).status).toBe('mismatch');
  });
});

describe('the read model shows exactly what executes', () => {
  it('keeps look-alike keys and number spellings byte-exact from submission to the executor', async () => {
    const payload = { amount: 60, [CYRILLIC_AMOUNT]: 9_000_000, [NFC]: 'nfc', [NFD]: 'nfd', small: 1e-7, tenth: 0.1, neg: -5.5 };
    const { id, action } = await kit.pending(kit.request('test.credit', payload));
    expect(action.payloadHash).toBe(canonicalHash(payload));
    const view = await kit.read(id);
    expect(Object.keys(view.payload).sort()).toEqual(Object.keys(payload).sort());
    expect(view.review.candidatePayload).toEqual(payload);
    expect(view.review.candidatePayloadHash).toBe(canonicalHash(payload));
    expect((await kit.decide(id, 'reviewer', { verdict: 'approve', payloadHash: view.review.candidatePayloadHash })).status).toBe(200);
    const done = await kit.waitDone(id);
    expect(done.status).toBe('executed');
    expect(done.approvedPayload).toEqual(payload);
    const executed = kit.executed(id);
    expect(executed.length).toBeGreaterThan(0);
    for (const sent of executed) expect(canonicalHash(sent)).toBe(canonicalHash(payload));
  });

  it('refuses an edit that smuggles a look-alike key past allow_edit', async () => {
    const { id, action } = await kit.pending(kit.request('test.credit', { amount: 60 }));
    const smuggle = await kit.decide(id, 'reviewer', {
      verdict: 'approve',
      payloadHash: action.payloadHash,
      editedPayload: { amount: 60, [CYRILLIC_AMOUNT]: 9_000_000 },
    });
    expect(smuggle.status).toBe(422);
    expect((await kit.read(id)).review.candidatePayload).toEqual({ amount: 60 });
  });

  it('refuses JSON nested deeper than the limit anywhere in the request, and a __proto__ key never changes the policy input', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 80; i++) deep = { d: deep };
    const { response } = await kit.submit(kit.request('test.credit', { amount: 60, deep }));
    expect(response.status).toBe(400);
    // A raw body with a "__proto__" key: whatever is kept must be kept the same everywhere.
    const raw = `{"agent":{"id":"support-bot"},"action":{"type":"test.credit"},"resource":{"type":"billing","id":"cus_attack"},"payload":{"amount":60,"__proto__":{"amount":9000000}}}`;
    const res = await stack.request('POST', '/v1/actions', { as: 'agent', body: raw, headers: { 'Idempotency-Key': uniqueKey('proto') } });
    if (res.status === 201) {
      const view = await readJson(res);
      expect(view.review.candidatePayloadHash).toBe(canonicalHash(view.payload));
      expect(view.payload.amount).toBe(60);
    } else {
      expect(res.status).toBe(400);
    }
  });
});

describe('idempotency keys and other agents', () => {
  it('answers 409 at once for the same key with another body while the first is held, and leaks nothing', async () => {
    const body = kit.request('test.credit', { amount: 60 });
    const { id, key } = await kit.pending(body);
    const started = Date.now();
    const reuse = await stack.request('POST', '/v1/actions?wait=20', { as: 'agent', body: kit.request('test.credit', { amount: 6 }), headers: { 'Idempotency-Key': key } });
    expect(reuse.status).toBe(409);
    expect(Date.now() - started).toBeLessThan(5_000);
    // Another agent with the same key names a different action and cannot wait on or read the first.
    const other = await stack.request('GET', `/v1/actions/${id}/wait?timeout=1`, { as: 'otherAgent' });
    expect(other.status).toBe(404);
    expect((await stack.request('GET', `/v1/actions/${id}`, { as: 'otherAgent' })).status).toBe(404);
    const theirs = await stack.request('POST', '/v1/actions', {
      as: 'otherAgent',
      body: { ...body, agent: { id: 'other-bot' } },
      headers: { 'Idempotency-Key': key },
    });
    expect(theirs.status).toBe(201);
    expect((await readJson(theirs)).id).not.toBe(id);
    // Submitting "as" the first agent is refused.
    const spoof = await stack.request('POST', '/v1/actions', { as: 'otherAgent', body, headers: { 'Idempotency-Key': key } });
    expect(spoof.status).toBe(403);
  });
});
