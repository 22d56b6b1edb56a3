import { createHash, type Hash } from 'node:crypto';
import { canonicalHash } from '../payload-hash';
import { canonicalJson } from '../../shared/canonical-json';

export type CheckpointKind = 'scheduled' | 'manual' | 'prune';

/** What a checkpoint signs. Canonical JSON of this object is the signed message. */
export interface CheckpointStatement {
  type: 'holdpoint.audit.checkpoint';
  v: 1;
  id: number;
  kind: CheckpointKind;
  createdAt: string;
  /** Digest of the previous checkpoint; null for the first. Deleting or editing one breaks the link. */
  prevDigest: string | null;
  /** SHA-256 over the checkpoint's head rows in action-id byte order (see HeadsDigest). */
  headsDigest: string;
  headCount: number;
  prunedCount: number;
  keyId: string;
}

export interface CheckpointHead {
  actionId: string;
  seq: number;
  hash: string;
  pruned: boolean;
}

export function statementText(statement: CheckpointStatement): string {
  return canonicalJson(statement);
}

export function statementDigest(statement: CheckpointStatement): string {
  return canonicalHash(statement);
}

/**
 * Streams head rows into one digest, so a checkpoint over a million chains never needs them all
 * in memory. Rows must arrive in action-id byte order (the column is COLLATE "C").
 */
export class HeadsDigest {
  private readonly hash: Hash = createHash('sha256');
  count = 0;
  pruned = 0;

  add(head: CheckpointHead): void {
    this.hash.update(`${canonicalJson([head.actionId, head.seq, head.hash, head.pruned])}\n`);
    this.count += 1;
    if (head.pruned) this.pruned += 1;
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
