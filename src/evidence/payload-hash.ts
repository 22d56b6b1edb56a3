import { createHash } from 'node:crypto';
import { canonicalJson } from '../shared/canonical-json';

/** `sha256:<hex>` of the RFC 8785 canonical form. */
export function canonicalHash(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}
