import type { ActionRequest, JsonObject, JsonValue } from '../shared/action';
import type { PolicyDecision } from '../shared/policy';

export type ReviewEventKind = 'review_requested' | 'reminder' | 'escalated' | 'payload_edited' | 'final_outcome';

/** One top-level payload field a reviewer's edit changed. */
export interface PayloadChange {
  field: string;
  /** Absent: the field was added. */
  before?: JsonValue;
  /** Absent: the field was removed. */
  after?: JsonValue;
}

/** Everything a reviewer needs to decide, with the exact arguments the agent wants to run. */
export interface ReviewNotification {
  /** Stable across retries: receivers deduplicate on it. */
  id: string;
  kind: ReviewEventKind;
  actionId: string;
  request: ActionRequest;
  policy: Pick<PolicyDecision, 'risk' | 'reason' | 'matchedRules'>;
  tier: number;
  /** Who must act now. */
  recipients: string[];
  /** Earlier tiers, told that the request moved on. */
  informed: string[];
  dueAt?: string;
  outcome?: string;
  /**
   * The payload approvals currently apply to and its hash: the submitted payload, or a reviewer's
   * edit. Decision buttons and links carry this hash, so an approval binds to what was shown.
   */
  candidate: { payload: JsonObject; payloadHash: string };
  /** kind payload_edited: who edited and what changed against the previous candidate. */
  edit?: { by: string; changes: PayloadChange[] };
  /**
   * Reviewer channels (NOTIFICATION_CHANNELS names) this notification goes through, from the policy's
   * `channels:`; absent: every configured channel. Channels that do not reach reviewers (the agent
   * callback) are not named by policy and are not restricted by it.
   */
  channels?: string[];
}

export interface ChannelDelivery {
  channel: string;
  ok: boolean;
  detail?: string;
}

/** One way of reaching reviewers. Implementations never throw: failures are reported. */
export interface NotificationChannel {
  readonly name: string;
  /** Absent: every notification. A channel for one kind (the agent callback) skips the rest unrecorded. */
  appliesTo?(notification: ReviewNotification): boolean;
  deliver(notification: ReviewNotification): Promise<ChannelDelivery>;
}
