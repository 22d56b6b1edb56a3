import type { StoredEvent } from '../evidence-repository';
import { canonicalHash } from '../payload-hash';

type Data = Record<string, unknown>;

const isObject = (value: unknown): value is Data => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The hashes an event states over content it also carries: the submitted request and its payload,
 * a reviewer's edited payload, an agent's reported payload. A chain re-hashed after its content was
 * Changed still links, so `audit verify` recomputes these too.
 */
function statedHashes(event: StoredEvent): { what: string; content: unknown; stated: unknown }[] {
  const data = event.data as Data;
  const pairs: { what: string; content: unknown; stated: unknown }[] = [];
  if (event.type === 'action.requested' && isObject(data.request)) {
    if (data.requestHash !== undefined) pairs.push({ what: 'request', content: data.request, stated: data.requestHash });
    if (data.payloadHash !== undefined) pairs.push({ what: 'payload', content: data.request.payload, stated: data.payloadHash });
  }
  if (data.editedPayload !== undefined && data.payloadHash !== undefined) pairs.push({ what: 'edited payload', content: data.editedPayload, stated: data.payloadHash });
  if (data.executedPayload !== undefined && data.executedPayloadHash !== undefined) {
    pairs.push({ what: 'executed payload', content: data.executedPayload, stated: data.executedPayloadHash });
  }
  return pairs;
}

/** One message per stated hash that does not match its content, and per payload hash that departs from the submission's. */
export function payloadHashIssues(chain: readonly StoredEvent[]): { seq: number; problem: string }[] {
  const issues: { seq: number; problem: string }[] = [];
  let submitted: unknown;
  for (const event of chain) {
    for (const { what, content, stated } of statedHashes(event)) {
      const actual = canonicalHash(content);
      if (actual !== stated) issues.push({ seq: event.seq, problem: `the ${what} does not match its recorded hash (${String(stated)}; the content hashes to ${actual})` });
      if (what === 'payload') submitted = stated;
    }
    // The classification states the hash of the payload it classified: the submitted one.
    const data = event.data as Data;
    if (event.type === 'policy.classified' && submitted !== undefined && data.payloadHash !== undefined && data.payloadHash !== submitted) {
      issues.push({ seq: event.seq, problem: `classified payload hash ${String(data.payloadHash)} is not the submitted ${String(submitted)}` });
    }
  }
  return issues;
}
