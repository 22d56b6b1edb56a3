import { WebClient } from '@slack/web-api';
import nodemailer from 'nodemailer';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../platform/config';
import { findActionOutcome } from '../evidence/action-outcome-repository';
import { findReviewerContacts } from './reviewer-contact-repository';
import { findSlackMessage, listSlackMessages, recordSlackMessage } from './slack/slack-message-repository';
import { AgentCallbackChannel } from './callbacks/agent-callback';
import { EmailChannel } from './email/email-channel';
import type { NotificationChannel } from './review-notification';
import { SlackChannel } from './slack/slack-channel';

/** Where links in messages point: the API's public URL (the console and email pages live there). */
export function publicUrlOf(config: Config): string {
  return config.api.publicUrl ?? `http://${config.api.host}:${config.api.port}`;
}

/** A Slack Web API client that gives up quickly: a channel failure must not hold a notification for long. */
export function slackClient(slack: NonNullable<Config['slack']>): WebClient {
  return new WebClient(slack.botToken, {
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl.endsWith('/') ? slack.apiUrl : `${slack.apiUrl}/` } : {}),
    retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 4_000 },
    timeout: 10_000,
  });
}

/** The configured Slack, email and agent-callback channels. */
export function reviewerChannelsFromConfig(config: Config, pool: Pool, logger?: Pick<Logger, 'warn'>): NotificationChannel[] {
  const publicUrl = publicUrlOf(config);
  const contacts = (ids: readonly string[]) => findReviewerContacts(pool, ids);
  const outcome = (actionId: string) => findActionOutcome(pool, actionId);
  const channels: NotificationChannel[] = [];
  if (config.slack) {
    channels.push(
      new SlackChannel({
        client: slackClient(config.slack),
        channel: config.slack.channel,
        publicUrl,
        contacts,
        outcome,
        messages: {
          find: (notificationId, destination) => findSlackMessage(pool, notificationId, destination),
          record: (message) => recordSlackMessage(pool, message),
          forAction: (actionId) => listSlackMessages(pool, actionId),
        },
      }),
    );
  }
  if (config.email) {
    channels.push(
      new EmailChannel({
        transport: nodemailer.createTransport({ ...config.email.smtp, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 }),
        from: config.email.from,
        tokenSecret: config.email.tokenSecret,
        publicUrl,
        contacts,
        outcome,
      }),
    );
  }
  if (config.callbacks) {
    channels.push(new AgentCallbackChannel({ secrets: config.callbacks.secrets, allowedOrigins: config.callbacks.allowedOrigins, publicUrl, outcome, logger }));
  }
  return channels;
}
