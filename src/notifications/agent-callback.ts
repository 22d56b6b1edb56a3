import type { ActionOutcome } from '../db/action-outcome-repository';
import type { ChannelDelivery, NotificationChannel, ReviewNotification } from './review-notification';
import { postSignedJson, type SignedPostOptions } from './signed-post';

export interface AgentCallbackOptions extends SignedPostOptions {
  secrets: string[];
  publicUrl: string;
  /** The decision as recorded (the workflow stores it before it notifies the final outcome). */
  outcome: (actionId: string) => Promise<ActionOutcome | undefined>;
}

/** The body an agent's callbackUrl receives: `{ type, timestamp, data }` as Standard Webhooks suggests. */
export interface AgentCallbackEvent {
  type: 'action.decided';
  timestamp: string;
  data: {
    actionId: string;
    status: string;
    verdict: string | null;
    decidedBy: string[];
    decidedAt: string | null;
    rationale: string | null;
    reasonCode: string | null;
    approvedPayload: Record<string, unknown> | null;
    approvedPayloadHash: string | null;
    links: { self: string; wait: string };
  };
}

/**
 * Tells the agent its action was decided by POSTing a signed webhook to the request's callbackUrl.
 * The webhook-id is the notification id, the same on every retry, so the agent can deduplicate.
 */
export class AgentCallbackChannel implements NotificationChannel {
  readonly name = 'agent-callback';
  constructor(private readonly options: AgentCallbackOptions) {}

  appliesTo(notification: ReviewNotification): boolean {
    return notification.kind === 'final_outcome' && Boolean(notification.request.callbackUrl);
  }

  async deliver(notification: ReviewNotification): Promise<ChannelDelivery> {
    const url = notification.request.callbackUrl;
    if (!this.appliesTo(notification) || !url) return { channel: this.name, ok: true, detail: 'skipped: no callback URL' };
    const outcome = await this.options.outcome(notification.actionId);
    const self = `${this.options.publicUrl.replace(/\/$/, '')}/v1/actions/${encodeURIComponent(notification.actionId)}`;
    const event: AgentCallbackEvent = {
      type: 'action.decided',
      timestamp: new Date().toISOString(),
      data: {
        actionId: notification.actionId,
        status: outcome?.status ?? notification.outcome ?? 'unknown',
        verdict: notification.outcome ?? null,
        decidedBy: outcome?.decidedBy ?? [],
        decidedAt: outcome?.decidedAt ?? null,
        rationale: outcome?.rationale ?? null,
        reasonCode: outcome?.reasonCode ?? null,
        approvedPayload: outcome?.approvedPayload ?? null,
        approvedPayloadHash: outcome?.approvedPayloadHash ?? null,
        links: { self, wait: `${self}/wait` },
      },
    };
    const result = await postSignedJson(url, this.options.secrets, notification.id, JSON.stringify(event), this.options);
    return { channel: this.name, ok: result.ok, detail: `${new URL(url).origin}: ${result.detail}` };
  }
}
