import type { WebClient } from '@slack/web-api';
import type { ActionOutcome } from '../../evidence/action-outcome-repository';
import type { ReviewerContact } from '../reviewer-contact-repository';
import type { PostedSlackMessage } from './slack-message-repository';
import type { ChannelDelivery, NotificationChannel, ReviewNotification } from '../review-notification';
import { candidateOf } from '../notification-candidate';
import { consoleActionUrl } from '../review-summary';
import { fallbackText, outcomeBlocks, reviewBlocks, type SlackReviewCard } from './slack-blocks';

export interface SlackMessageStore {
  find(notificationId: string, destination: string): Promise<PostedSlackMessage | undefined>;
  record(message: PostedSlackMessage): Promise<void>;
  forAction(actionId: string): Promise<PostedSlackMessage[]>;
}

export interface SlackChannelOptions {
  client: Pick<WebClient, 'chat'>;
  /** Post review messages here (mentioning reviewers); unset: a direct message to each reviewer. */
  channel?: string;
  publicUrl: string;
  contacts: (ids: readonly string[]) => Promise<ReviewerContact[]>;
  outcome: (actionId: string) => Promise<ActionOutcome | undefined>;
  messages: SlackMessageStore;
}

const mention = (contact: ReviewerContact) => (contact.slackUserId ? `<@${contact.slackUserId}>` : (contact.displayName ?? contact.id));

/**
 * Slack via the Web API: a Block Kit message per review event (summary, the candidate payload's
 * fields, risk, reason, SLA, Approve / Deny / Open; after an edit, the changed fields), and on the
 * final outcome every message of the action is rewritten to show it, wherever the decision was
 * made. Posts are remembered per notification and destination, so an activity retry never posts twice.
 */
export class SlackChannel implements NotificationChannel {
  readonly name = 'slack';
  constructor(private readonly options: SlackChannelOptions) {}

  async deliver(notification: ReviewNotification): Promise<ChannelDelivery> {
    return notification.kind === 'final_outcome' ? this.showOutcome(notification) : this.post(notification);
  }

  private card(notification: ReviewNotification, reviewers: string[], informed: string[] = []): SlackReviewCard {
    const candidate = candidateOf(notification);
    return {
      actionId: notification.actionId,
      kind: notification.kind,
      request: notification.request,
      payload: candidate.payload,
      payloadHash: candidate.payloadHash,
      ...(notification.edit ? { edit: notification.edit } : {}),
      risk: notification.policy.risk,
      reason: notification.policy.reason,
      matchedRules: notification.policy.matchedRules,
      dueAt: notification.dueAt,
      reviewers,
      informed,
      consoleUrl: consoleActionUrl(this.options.publicUrl, notification.actionId),
    };
  }

  private async post(notification: ReviewNotification): Promise<ChannelDelivery> {
    const contacts = await this.options.contacts([...notification.recipients, ...notification.informed]);
    const byId = new Map(contacts.map((c) => [c.id, c]));
    const recipients = notification.recipients.flatMap((id) => (byId.get(id) ? [byId.get(id)!] : []));
    const informed = notification.informed.flatMap((id) => (byId.get(id) ? [byId.get(id)!] : []));
    // Reviewers without a principal (or a disabled one) are still named, so the message says who was asked.
    const named = (ids: string[]) => ids.map((id) => (byId.get(id) ? mention(byId.get(id)!) : id));
    const card = this.card(notification, named(notification.recipients), named(notification.informed));
    // In a channel one message reaches everyone; otherwise each reviewer with a Slack id gets a DM.
    const destinations = this.options.channel
      ? [this.options.channel]
      : [...recipients, ...informed].flatMap((c) => (c.slackUserId ? [c.slackUserId] : []));
    if (destinations.length === 0) return { channel: this.name, ok: true, detail: 'skipped: no SLACK_CHANNEL and no reviewer with a Slack user id' };

    const blocks = reviewBlocks(card);
    const text = fallbackText(card);
    const failures: string[] = [];
    for (const destination of [...new Set(destinations)]) {
      try {
        if (await this.options.messages.find(notification.id, destination)) continue;
        const posted = await this.options.client.chat.postMessage({ channel: destination, text, blocks, unfurl_links: false });
        if (!posted.channel || !posted.ts) throw new Error('Slack did not return the message channel and ts');
        await this.options.messages.record({ notificationId: notification.id, destination, actionId: notification.actionId, channel: posted.channel, ts: posted.ts });
      } catch (err) {
        failures.push(`${destination}: ${(err as Error).message}`);
      }
    }
    return failures.length
      ? { channel: this.name, ok: false, detail: failures.join('; ') }
      : { channel: this.name, ok: true, detail: `posted to ${destinations.length} conversation(s)` };
  }

  private async showOutcome(notification: ReviewNotification): Promise<ChannelDelivery> {
    const messages = await this.options.messages.forAction(notification.actionId);
    if (messages.length === 0) return { channel: this.name, ok: true, detail: 'skipped: no message was posted for this action' };
    const recorded = await this.options.outcome(notification.actionId);
    const card = this.card(notification, []);
    const outcome = { verdict: notification.outcome, by: recorded?.decidedBy ?? [], rationale: recorded?.rationale, at: recorded?.decidedAt };
    const blocks = outcomeBlocks(card, outcome);
    const text = fallbackText(card, outcome);
    const failures: string[] = [];
    for (const message of messages) {
      try {
        await this.options.client.chat.update({ channel: message.channel, ts: message.ts, text, blocks });
      } catch (err) {
        failures.push(`${message.channel}/${message.ts}: ${(err as Error).message}`);
      }
    }
    return failures.length
      ? { channel: this.name, ok: false, detail: failures.join('; ') }
      : { channel: this.name, ok: true, detail: `updated ${messages.length} message(s) with the outcome` };
  }
}
