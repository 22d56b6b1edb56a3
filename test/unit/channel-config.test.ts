import { ConfigError, loadConfig } from '../../src/platform/config';

const SECRET = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=';

describe('reviewer channel configuration', () => {
  it('is off by default: no Slack, no email, no callback secrets, 8-hour console sessions', () => {
    expect(loadConfig({})).toMatchObject({ slack: undefined, email: undefined, callbacks: undefined, console: { sessionHours: 8 } });
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
      CALLBACK_ALLOWED_ORIGINS: 'https://hooks.example.com',
      CONSOLE_SESSION_HOURS: '12',
    });
    expect(config).toMatchObject({
      slack: { botToken: 'xoxb-1', signingSecret: 'signing', channel: 'C0REVIEWS', apiUrl: 'http://127.0.0.1:9999/api/' },
      email: { smtp: { host: 'smtp.example.com', port: 465, secure: true, auth: { user: 'holdpoint', pass: 'pw' } }, from: 'Holdpoint <gate@example.com>' },
      callbacks: { secrets: [SECRET], allowedOrigins: ['https://hooks.example.com'] },
      console: { sessionHours: 12 },
    });
  });

  it('never signs agent callbacks with the reviewer-webhook secrets: callbacks need their own', () => {
    expect(loadConfig({ WEBHOOK_SECRETS: SECRET }).callbacks).toBeUndefined();
  });

  it('reads the callback allow-list, and needs it together with CALLBACK_SECRETS', () => {
    const config = loadConfig({ CALLBACK_SECRETS: SECRET, CALLBACK_ALLOWED_ORIGINS: ' https://hooks.example.com , https://*.agents.example.com:8443,http://127.0.0.1:9000 ' });
    expect(config.callbacks).toEqual({
      secrets: [SECRET],
      allowedOrigins: ['https://hooks.example.com', 'https://*.agents.example.com:8443', 'http://127.0.0.1:9000'],
    });
    expect(loadConfig({ CALLBACK_SECRETS: SECRET, CALLBACK_ALLOWED_ORIGINS: '*' }).callbacks?.allowedOrigins).toEqual(['*']);
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
    expect(refused({ CALLBACK_SECRETS: SECRET })).toMatch(/^\s+CALLBACK_ALLOWED_ORIGINS: /m);
    expect(refused({ CALLBACK_ALLOWED_ORIGINS: '*' })).toMatch(/^\s+CALLBACK_SECRETS: /m);
    expect(refused({ WEBHOOK_SECRETS: SECRET, CALLBACK_ALLOWED_ORIGINS: '*' })).toMatch(/^\s+CALLBACK_SECRETS: /m);
    for (const bad of ['hooks.example.com', 'https://hooks.example.com/path', 'ftp://x.example', 'https://a.*.example.com', 'https://user@x.example']) {
      expect(refused({ CALLBACK_SECRETS: SECRET, CALLBACK_ALLOWED_ORIGINS: bad })).toMatch(/^\s+CALLBACK_ALLOWED_ORIGINS(\.\d+)?: /m);
    }
  });
});
