import { ConfigError, loadConfig } from '../../src/config';

const SECRET = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=';

describe('reviewer channel configuration', () => {
  it('is off by default: no Slack, no email, no callback secrets, 8-hour console sessions', () => {
    expect(loadConfig({})).toMatchObject({ slack: undefined, email: undefined, callbackSecrets: [], console: { sessionHours: 8 } });
  });

  it('reads Slack, SMTP and callback settings', () => {
    const config = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 'signing',
      SLACK_CHANNEL: 'C0REVIEWS',
      SLACK_API_URL: 'http://127.0.0.1:9999/api/',
      SMTP_HOST: 'smtp.example.com',
      SMTP_PORT: '465',
      SMTP_SECURE: 'true',
      SMTP_USER: 'holdpoint',
      SMTP_PASSWORD: 'pw',
      SMTP_FROM: 'Holdpoint <gate@example.com>',
      EMAIL_TOKEN_SECRET: 'x'.repeat(32),
      CALLBACK_SECRETS: SECRET,
      CONSOLE_SESSION_HOURS: '12',
    });
    expect(config).toMatchObject({
      slack: { botToken: 'xoxb-1', signingSecret: 'signing', channel: 'C0REVIEWS', apiUrl: 'http://127.0.0.1:9999/api/' },
      email: { smtp: { host: 'smtp.example.com', port: 465, secure: true, auth: { user: 'holdpoint', pass: 'pw' } }, from: 'Holdpoint <gate@example.com>' },
      callbackSecrets: [SECRET],
      console: { sessionHours: 12 },
    });
  });

  it('signs agent callbacks with the webhook secrets unless callback secrets are set', () => {
    expect(loadConfig({ WEBHOOK_SECRETS: SECRET }).callbackSecrets).toEqual([SECRET]);
  });

  it('refuses half-configured channels, naming the missing variable', () => {
    const refused = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(refused({ SLACK_BOT_TOKEN: 'xoxb-1' })).toMatch(/^\s+SLACK_SIGNING_SECRET: /m);
    expect(refused({ SMTP_HOST: 'smtp.example.com' })).toMatch(/^\s+EMAIL_TOKEN_SECRET: /m);
    expect(refused({ SMTP_HOST: 'smtp.example.com', EMAIL_TOKEN_SECRET: 'short' })).toMatch(/^\s+EMAIL_TOKEN_SECRET: needs at least 32/m);
    expect(refused({ SMTP_USER: 'u' })).toMatch(/^\s+SMTP_PASSWORD: /m);
    expect(refused({ SMTP_SECURE: 'yes' })).toMatch(/^\s+SMTP_SECURE: /m);
  });
});
