import type { ChannelDelivery, NotificationChannel, ReviewNotification } from '../review-notification';
import { signWebhook } from './standard-webhooks';

export interface WebhookChannelOptions {
  url: string;
  secrets: string[];
  attempts?: number;
  initialBackoffMs?: number;
  timeoutMs?: number;
}

/**
 * Signed webhook (Standard Webhooks). Retries with backoff inside one delivery, with the same
 * webhook-id each time, so receivers can deduplicate; never throws.
 */
export class WebhookChannel implements NotificationChannel {
  readonly name = 'webhook';
  constructor(private readonly options: WebhookChannelOptions) {}

  async deliver(notification: ReviewNotification): Promise<ChannelDelivery> {
    const body = JSON.stringify({ type: `review.${notification.kind}`, data: notification });
    const attempts = this.options.attempts ?? 3;
    let detail = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signWebhook(this.options.secrets, notification.id, body) },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
        });
        if (response.ok) return { channel: this.name, ok: true, detail: `HTTP ${response.status}` };
        detail = `HTTP ${response.status}`;
        if (response.status < 500 && response.status !== 429) break; // the receiver refused; retrying won't help
      } catch (err) {
        detail = (err as Error).message;
      }
      if (attempt < attempts) await new Promise((r) => setTimeout(r, (this.options.initialBackoffMs ?? 200) * 2 ** (attempt - 1)));
    }
    return { channel: this.name, ok: false, detail };
  }
}
