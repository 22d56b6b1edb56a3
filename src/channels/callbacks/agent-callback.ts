import type { Logger } from 'pino';
import type { ActionOutcome } from '../../evidence/action-outcome-repository';
import { CallbackTargets, type Resolve } from './callback-target';
import type { ChannelDelivery, NotificationChannel, ReviewNotification } from '../review-notification';
import { postSignedJson, type SignedPostOptions } from '../webhooks/signed-post';

export interface AgentCallbackOptions extends SignedPostOptions {
  /** CALLBACK_SECRETS: never the reviewer-webhook secrets, whose receivers would trust what agents receive. */
  secrets: string[];
  /** CALLBACK_ALLOWED_ORIGINS, checked again at delivery against the address connected to. */
  allowedOrigins: readonly string[];
  /** Host name resolution (tests answer without DNS); default: the system resolver. */
  resolve?: Resolve;
  publicUrl: string;
  /** The decision as recorded (the workflow stores it before it notifies the final outcome). */
  outcome: (actionId: string) => Promise<ActionOutcome | undefined>;
  /** Where the reason a callback was not delivered goes: operators' logs, never the agent's evidence. */
  logger?: Pick<Logger, 'warn'>;
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
 * The evidence (which the agent reads) records only delivered or not delivered: a status code or an
 * error text there would make the callback a port and status scanner.
 */
export class AgentCallbackChannel implements NotificationChannel {
  readonly name = 'agent-callback';
  private readonly targets: CallbackTargets;
  constructor(private readonly options: AgentCallbackOptions) {
    this.targets = new CallbackTargets(options.allowedOrigins, { resolve: options.resolve });
  }

  appliesTo(notification: ReviewNotification): boolean {
    return notification.kind === 'final_outcome' && Boolean(notification.request.callbackUrl);
  }

  async deliver(notification: ReviewNotification): Promise<ChannelDelivery> {
    const url = notification.request.callbackUrl;
    if (!this.appliesTo(notification) || !url) return { channel: this.name, ok: true, detail: 'skipped: no callback URL' };
    let result: { ok: boolean; detail: string };
    try {
      result = await postSignedJson(url, this.options.secrets, notification.id, JSON.stringify(await this.event(notification)), this.targets, this.options);
    } catch (err) {
      result = { ok: false, detail: (err as Error).message };
    }
    if (!result.ok) this.options.logger?.warn({ actionId: notification.actionId, channel: this.name, detail: result.detail }, 'agent callback not delivered');
    return { channel: this.name, ok: result.ok, detail: result.ok ? 'delivered' : 'not delivered' };
  }

  private async event(notification: ReviewNotification): Promise<AgentCallbackEvent> {
    const outcome = await this.options.outcome(notification.actionId);
    const self = `${this.options.publicUrl.replace(/\/$/, '')}/v1/actions/${encodeURIComponent(notification.actionId)}`;
    return {
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
  }
}
