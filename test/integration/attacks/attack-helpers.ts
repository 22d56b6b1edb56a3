import path from 'node:path';
import { listEvents, verifyChain } from '../../../src/evidence/evidence-repository';
import { createPrincipalKey } from '../../../src/access/principal-repository';
import type { ApiStack, Caller } from '../../support/api-stack';
import { readJson } from '../../support/http';
import { uniqueKey } from '../../support/workflow-harness';

/** Shared by the attack suites: one policy of the plans an attacker moves between. */
export const ATTACK_POLICY_DIR = path.join(__dirname, '../../fixtures/policies-attacks');

export type Body = Record<string, unknown>;

export function attackKit(stack: () => ApiStack) {
  const extraKeys = new Map<string, string>();
  /** A key for a principal the stack does not seed (carol, mallory), made once. */
  const keyFor = async (id: string, role: 'reviewer' | 'admin' | 'agent' = 'reviewer', groups: string[] = ['finance']) => {
    if (!extraKeys.has(id)) extraKeys.set(id, (await createPrincipalKey(stack().db.pool, { id, role, groups })).apiKey);
    return extraKeys.get(id)!;
  };
  const request = (type: string, payload: Body, extra: Body = {}) => ({
    agent: { id: 'support-bot' },
    action: { type },
    resource: { type: 'billing', id: 'cus_attack' },
    payload,
    ...extra,
  });
  const submit = async (body: Body, key = uniqueKey('atk')) => {
    const response = await stack().request('POST', '/v1/actions', { as: 'agent', body, headers: { 'Idempotency-Key': key } });
    return { response, action: await readJson(response), key };
  };
  const pending = async (body: Body) => {
    const { response, action, key } = await submit(body);
    expect(response.status).toBe(201);
    expect(action.status).toBe('pending_review');
    return { id: action.id as string, action, key };
  };
  /** A decision as a seeded caller, or as an extra principal by id. */
  const decide = async (id: string, as: Caller | { id: string }, body: Body) => {
    if (typeof as === 'string') return stack().request('POST', `/v1/actions/${id}/decision`, { as, body });
    return stack().request('POST', `/v1/actions/${id}/decision`, {
      headers: { authorization: `Bearer ${await keyFor(as.id)}`, 'content-type': 'application/json' },
      body,
    });
  };
  const read = async (id: string) => readJson(await stack().request('GET', `/v1/actions/${id}`, { as: 'admin' }));
  const waitDone = async (id: string, timeout = 30) =>
    readJson(await stack().request('GET', `/v1/actions/${id}/wait?until=completed&timeout=${timeout}`, { as: 'agent' }));
  const events = async (id: string) => {
    const list = await listEvents(stack().db.pool, id);
    expect(verifyChain(list).ok).toBe(true);
    return list;
  };
  /** Payloads the demo target was asked to execute for this action. */
  const executed = (id: string) =>
    stack()
      .target.calls.filter((call) => call.idempotencyKey === id)
      .map((call) => (call.body as { payload?: unknown }).payload);
  return { keyFor, request, submit, pending, decide, read, waitDone, events, executed };
}
