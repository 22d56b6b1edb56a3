import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ActionRequest } from '../../../src/shared/action';
import { loadPolicyFromSources, PolicyLoadError, type LoadedPolicy } from '../../../src/policy';

export const BASE_GROUPS = {
  'finance-approvers': ['alice', 'bob'],
  'finance-managers': ['carol'],
  'ops-reviewers': ['oscar', 'alice'],
};

/** A one-file policy from a plain object; groups and a default route are filled in unless given. */
export function policyFrom(document: Record<string, unknown>): LoadedPolicy {
  const full = { version: 1, defaults: { route: { group: 'ops-reviewers' } }, groups: BASE_GROUPS, ...document };
  return loadPolicyFromSources([{ name: 'policy.yaml', content: stringify(full) }]);
}

export function loadError(load: () => unknown): PolicyLoadError {
  try {
    load();
  } catch (error) {
    if (error instanceof PolicyLoadError) return error;
    throw error;
  }
  throw new Error('expected the policy to be refused');
}

export function refundRequest(payload: ActionRequest['payload'], overrides: Partial<ActionRequest> = {}): ActionRequest {
  return {
    agent: { id: 'support-bot' },
    action: { type: 'payments.refund' },
    resource: { type: 'billing', id: 'cus_1' },
    payload,
    ...overrides,
  };
}

export function temporaryPolicyDir(files: Record<string, string>): { dir: string; write(name: string, content: string): void; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'holdpoint-policy-'));
  const write = (name: string, content: string): void => writeFileSync(join(dir, name), content);
  for (const [name, content] of Object.entries(files)) write(name, content);
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
