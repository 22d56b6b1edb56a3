import type { Pool } from 'pg';
import { appendEvent, insertAction, updateProjection, type ActionProjection } from '../../../src/evidence/evidence-repository';
import { inTransaction } from '../../../src/platform/postgres/transaction';
import { canonicalHash } from '../../../src/evidence/payload-hash';
import type { ActionRequest, JsonObject } from '../../../src/shared/action';

export interface SeedEvent {
  key: string;
  type: string;
  actor?: string;
  data?: JsonObject;
  at: Date;
}

export interface SeedAction {
  id: string;
  actionType?: string;
  agentId?: string;
  payload?: JsonObject;
  createdAt: Date;
  events?: SeedEvent[];
  projection?: ActionProjection;
}

/** Stores an action the way the activities do: insertAction, chained appendEvent, projection. */
export async function seedAction(pool: Pool, spec: SeedAction): Promise<string> {
  const request: ActionRequest = {
    agent: { id: spec.agentId ?? 'support-bot' },
    action: { type: spec.actionType ?? 'test.refund' },
    resource: { type: 'billing', id: 'cus_1' },
    payload: spec.payload ?? { amount: 1 },
  };
  await inTransaction(pool, async (client) => {
    await insertAction(client, {
      actionId: spec.id,
      idempotencyKey: spec.id,
      request,
      requestHash: canonicalHash(request),
      payloadHash: canonicalHash(request.payload),
      submittedAt: spec.createdAt.toISOString(),
    });
    // The projection first, as the activities have it by the time later steps are stored (the
    // metric roll-up reads the action's type and risk when its decision is stored).
    if (spec.projection) await updateProjection(client, spec.id, spec.projection);
    const events = spec.events ?? [{ key: 'requested', type: 'action.requested', data: { request: request as unknown as JsonObject }, at: spec.createdAt }];
    for (const event of events) {
      await appendEvent(client, {
        actionId: spec.id,
        eventKey: event.key,
        type: event.type,
        actor: event.actor ?? 'holdpoint',
        data: event.key === 'requested' ? { request: request as unknown as JsonObject, ...event.data } : (event.data ?? {}),
        occurredAt: event.at.toISOString(),
      });
    }
  });
  return spec.id;
}

/** Runs `sql` with the append-only triggers off, as the table owner could: how an attacker with DB access tampers. */
export async function tamper(pool: Pool, sql: string, params: unknown[] = []): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('ALTER TABLE action_events DISABLE TRIGGER action_events_append_only');
    await client.query(sql, params);
    await client.query('ALTER TABLE action_events ENABLE TRIGGER action_events_append_only');
  });
}
