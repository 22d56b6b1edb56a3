import { recordStep } from '../../evidence/evidence-repository';
import type { NotificationChannel, ReviewNotification } from '../../channels/review-notification';
import type { JsonObject } from '../../shared/action';
import { NOTIFICATION_CHANNELS } from '../../shared/policy';

const POLICY_ROUTED_CHANNELS: ReadonlySet<string> = new Set(NOTIFICATION_CHANNELS);

/** Whether the policy lets `notification` go through `channel`; channels policy cannot name (the agent callback) always may. */
function routedThrough(notification: ReviewNotification, channel: NotificationChannel): boolean {
  return notification.channels === undefined || !POLICY_ROUTED_CHANNELS.has(channel.name) || notification.channels.includes(channel.name);
}
import type { ActivityDeps } from './deps';

export function createNotificationActivities({ pool, channels, logger }: Pick<ActivityDeps, 'pool' | 'channels' | 'logger'>) {
  return {
    /**
     * Fans a notification out to every channel the policy routes it through (all when it names
     * none) and records who was reached. A failing channel is recorded, never thrown: reviewers'
     * timers must not depend on Slack or SMTP being up.
     */
    async notifyReviewers(input: { notification: ReviewNotification; occurredAt: string }): Promise<void> {
      const { notification } = input;
      const deliveries = await Promise.all(
        channels.filter((channel) => routedThrough(notification, channel) && (channel.appliesTo?.(notification) ?? true)).map((channel) =>
          channel.deliver(notification).catch((err: Error) => ({ channel: channel.name, ok: false, detail: err.message })),
        ),
      );
      const failed = deliveries.filter((d) => !d.ok);
      if (failed.length) logger.warn({ actionId: notification.actionId, failed }, 'notification channel failed');
      await recordStep(pool, {
        actionId: notification.actionId,
        eventKey: `notified:${notification.id}`,
        type: failed.length ? 'notification.partially_failed' : 'notification.sent',
        actor: 'holdpoint',
        data: {
          kind: notification.kind,
          tier: notification.tier,
          recipients: notification.recipients,
          informed: notification.informed,
          deliveries: deliveries as unknown as JsonObject[],
        },
        occurredAt: input.occurredAt,
      });
    },
  };
}
