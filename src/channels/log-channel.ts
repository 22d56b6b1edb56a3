import type { Logger } from 'pino';
import type { ChannelDelivery, NotificationChannel, ReviewNotification } from './review-notification';

/** Writes notifications to the structured log: the console channel of a dev stack. */
export class LogChannel implements NotificationChannel {
  readonly name = 'log';
  constructor(private readonly logger: Pick<Logger, 'info'>) {}

  async deliver(notification: ReviewNotification): Promise<ChannelDelivery> {
    this.logger.info(
      {
        notificationId: notification.id,
        actionId: notification.actionId,
        kind: notification.kind,
        recipients: notification.recipients,
        risk: notification.policy.risk,
        dueAt: notification.dueAt,
      },
      `${notification.kind}: ${notification.request.action.type} on ${notification.request.resource.type}:${notification.request.resource.id} — ${notification.policy.reason}`,
    );
    return { channel: this.name, ok: true };
  }
}
