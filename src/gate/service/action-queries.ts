import type { Pool } from 'pg';
import type { Principal } from '../../access/principal';
import { listEvents, verifyChain, type RecordedEvent } from '../../evidence/evidence-repository';
import { HttpProblem } from '../../platform/http/problem';
import { readableBy, requireReadable } from '../../access/action-access';
import type { ActionStatus } from '../../shared/action-state';
import { OUTCOMES, RISK_TIERS, type RiskTier } from '../../shared/policy';
import { ACTION_STATUSES, type ActionPage, type ActionSummary, type EvidenceBundle } from '../../shared/wire-types';

export interface ActionFilters {
  status?: ActionStatus;
  risk?: RiskTier;
  actionType?: string;
  agentId?: string;
  limit: number;
  cursor?: string;
}

interface Cursor {
  /** Sort key of the last row returned, then its id as the tie-breaker. */
  k: string | null;
  id: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string | undefined): Cursor | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (typeof parsed.id === 'string' && (parsed.k === null || typeof parsed.k === 'string')) return parsed;
  } catch {
    // fall through to the problem below
  }
  throw new HttpProblem(400, 'validation', 'Invalid request', 'query.cursor: not a cursor this API issued', {
    issues: [{ path: 'query.cursor', message: 'not a cursor this API issued' }],
  });
}

const SUMMARY_COLUMNS = `a.id, a.status, a.outcome, a.risk, a.action_type, a.agent_id, a.on_behalf_of, a.resource_type, a.resource_id,
  a.reason, a.matched_rules, a.assignees, a.review_groups, a.review_due_at, a.decided_by, a.decided_at, a.created_at, a.updated_at`;

/**
 * A text column that holds one of a wire type's values. Every writer stores one of them; a row that holds
 * anything else is corrupt, and answering for it fails here rather than passing the value on.
 */
function oneOf<T extends string>(values: readonly T[], row: Record<string, unknown>, column: string): T {
  const value = row[column];
  if ((values as readonly unknown[]).includes(value)) return value as T;
  throw new Error(`actions.${column} of ${String(row.id)} holds ${JSON.stringify(value)}, not one of ${values.join(', ')}`);
}

function toSummary(row: Record<string, unknown>, base: string): ActionSummary {
  return {
    id: row.id as string,
    status: oneOf(ACTION_STATUSES, row, 'status'),
    outcome: row.outcome === null ? null : oneOf(OUTCOMES, row, 'outcome'),
    risk: row.risk === null ? null : oneOf(RISK_TIERS, row, 'risk'),
    actionType: row.action_type as string,
    agent: { id: row.agent_id as string, onBehalfOf: (row.on_behalf_of as string | null) ?? undefined },
    resource: { type: row.resource_type as string, id: row.resource_id as string },
    reason: row.reason as string | null,
    matchedRules: row.matched_rules as string[],
    assignees: row.assignees as string[],
    reviewGroups: row.review_groups as string[],
    dueAt: row.review_due_at as string | null,
    decidedBy: row.decided_by as string[],
    decidedAt: row.decided_at as string | null,
    createdAt: row.created_at as string,
    links: { self: `${base}/v1/actions/${encodeURIComponent(row.id as string)}` },
  };
}

/** What admission stores as the data of these steps (src/gate/activities/admission-activities.ts). */
interface AdmissionStepData {
  requested: EvidenceBundle['request'];
  classified: EvidenceBundle['policyDecision'];
}

function admissionStep<K extends keyof AdmissionStepData>(events: RecordedEvent[], eventKey: K): AdmissionStepData[K] {
  return (events.find((e) => e.eventKey === eventKey)?.data ?? null) as AdmissionStepData[K];
}

/** Read models over the evidence store: lists, the reviewer inbox, and evidence bundles. */
export class ActionQueries {
  constructor(
    private readonly pool: Pool,
    private readonly links: { base: string; temporalUi?: string; namespace: string },
  ) {}

  /** Everything the caller may read, newest first. */
  async list(principal: Principal, filters: ActionFilters): Promise<ActionPage> {
    const params: unknown[] = [];
    const where = [readableBy(principal, params), ...this.filterClauses(filters, params)];
    const cursor = decodeCursor(filters.cursor);
    if (cursor) {
      params.push(cursor.k, cursor.id);
      where.push(`(a.created_at, a.id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(filters.limit + 1);
    const { rows } = await this.pool.query(
      `SELECT ${SUMMARY_COLUMNS} FROM actions a WHERE ${where.join(' AND ')} ORDER BY a.created_at DESC, a.id DESC LIMIT $${params.length}`,
      params,
    );
    return this.page(rows, filters.limit, (row) => ({ k: row.created_at as string, id: row.id as string }));
  }

  /** Pending actions the caller may decide now, soonest deadline first. */
  async inbox(principal: Principal, filters: Omit<ActionFilters, 'status'>): Promise<ActionPage> {
    const params: unknown[] = [];
    const where = ["a.status = 'pending_review'", ...this.filterClauses(filters, params)];
    if (principal.role !== 'admin') {
      params.push(principal.id);
      where.push(`$${params.length} = ANY(a.assignees)`);
    }
    const cursor = decodeCursor(filters.cursor);
    if (cursor) {
      params.push(cursor.k ?? 'infinity', cursor.id);
      where.push(`(COALESCE(a.review_due_at, 'infinity'::timestamptz), a.id) > ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(filters.limit + 1);
    const { rows } = await this.pool.query(
      `SELECT ${SUMMARY_COLUMNS} FROM actions a WHERE ${where.join(' AND ')}
        ORDER BY COALESCE(a.review_due_at, 'infinity'::timestamptz), a.id LIMIT $${params.length}`,
      params,
    );
    return this.page(rows, filters.limit, (row) => ({ k: (row.review_due_at as string | null) ?? null, id: row.id as string }));
  }

  /** The request, its policy decision and every recorded step, with the hash chain checked. */
  async evidence(principal: Principal, actionId: string): Promise<EvidenceBundle> {
    await requireReadable(this.pool, principal, actionId);
    const [{ rows }, events] = await Promise.all([this.pool.query('SELECT * FROM actions WHERE id = $1', [actionId]), listEvents(this.pool, actionId)]);
    const row = rows[0];
    const byType = (prefix: string) => events.filter((e) => e.type.startsWith(prefix));
    return {
      action: toSummary(row, this.links.base),
      request: admissionStep(events, 'requested'),
      policyDecision: admissionStep(events, 'classified'),
      notifications: byType('notification.'),
      reviewerActions: byType('review.').filter((e) => e.type !== 'review.requested' && e.type !== 'review.escalated'),
      escalations: byType('review.escalated'),
      execution: byType('execution.'),
      hashes: {
        payload: row.payload_hash as string,
        approvedPayload: row.approved_payload_hash as string | null,
        executedPayload: row.executed_payload_hash as string | null,
      },
      events,
      chain: verifyChain(events),
      temporal: {
        namespace: this.links.namespace,
        workflowId: actionId,
        runId: row.run_id as string | null,
        ...(this.links.temporalUi
          ? { url: `${this.links.temporalUi}/namespaces/${encodeURIComponent(this.links.namespace)}/workflows/${encodeURIComponent(actionId)}` }
          : {}),
      },
    };
  }

  private filterClauses(filters: Partial<ActionFilters>, params: unknown[]): string[] {
    const clauses: string[] = [];
    const add = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      params.push(value);
      clauses.push(`a.${column} = $${params.length}`);
    };
    add('status', filters.status);
    add('risk', filters.risk);
    add('action_type', filters.actionType);
    add('agent_id', filters.agentId);
    return clauses;
  }

  private page(rows: Record<string, unknown>[], limit: number, cursorOf: (row: Record<string, unknown>) => Cursor): ActionPage {
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map((row) => toSummary(row, this.links.base)),
      nextCursor: rows.length > limit && last ? encodeCursor(cursorOf(last)) : null,
    };
  }
}
