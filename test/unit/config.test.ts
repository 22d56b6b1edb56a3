import path from 'node:path';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../../src/platform/config';

const SECRET = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=';

/** The ConfigError message for this environment (fails the test if it loads). */
function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

/** A message line `  NAME: …` or `  NAME.path: …` names the variable. */
const names = (variable: string) => new RegExp(`^\\s+${variable}(\\.[^:]*)?: `, 'm');

describe('loadConfig', () => {
  it('refuses a checkpoint interval a Node timer cannot hold (it would fire at once, over and over)', () => {
    expect(configError({ CHECKPOINT_INTERVAL: '30d' })).toMatch(names('CHECKPOINT_INTERVAL'));
    expect(configError({ CHECKPOINT_INTERVAL: '25h' })).toMatch(/at most 24h/);
    expect(loadConfig({ CHECKPOINT_INTERVAL: '24h' }).audit.checkpointIntervalMs).toBe(86_400_000);
  });

  it('has development defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      logLevel: 'info',
      dataDir: path.resolve('.data'),
      temporal: { address: undefined, namespace: 'default', taskQueue: 'holdpoint', tls: undefined, devPort: 7233, uiPort: 8233 },
      database: { url: undefined, poolMax: 10 },
      api: { host: '127.0.0.1', port: 8080 },
      policyPath: path.resolve('policies'),
      worker: { maxCachedWorkflows: 500 },
      executors: {},
      reviewWebhook: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the values it is given', () => {
    const config = loadConfig({
      HOLDPOINT_ENV: 'production',
      TEMPORAL_ADDRESS: 'temporal:7233',
      DATABASE_URL: 'postgresql://holdpoint@db/holdpoint',
      DATABASE_POOL_MAX: '25',
      API_PORT: '9000',
      TEMPORAL_TLS_CERT_PATH: '/tls/client.pem',
      TEMPORAL_TLS_KEY_PATH: '/tls/client.key',
      EXECUTORS: JSON.stringify({ billing: { url: 'https://billing.internal/execute', secrets: [SECRET] } }),
      REVIEW_WEBHOOK_URL: 'https://hooks.example.com/holdpoint',
      WEBHOOK_SECRETS: ` ${SECRET} , ${SECRET}x ,`,
      WORKER_MAX_CACHED_WORKFLOWS: '0',
    });
    expect(config).toMatchObject({
      env: 'production',
      temporal: { address: 'temporal:7233', tls: { certPath: '/tls/client.pem', keyPath: '/tls/client.key' } },
      database: { url: 'postgresql://holdpoint@db/holdpoint', poolMax: 25 },
      api: { port: 9000 },
      executors: { billing: { url: 'https://billing.internal/execute', secrets: [SECRET] } },
      reviewWebhook: { url: 'https://hooks.example.com/holdpoint', secrets: [SECRET, `${SECRET}x`] },
      worker: { maxCachedWorkflows: 0 },
    });
  });

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ HOME: '/root', PATH: '/bin', API_PORTT: 'abc' })).not.toThrow();
  });

  describe('names the bad variable in the ConfigError', () => {
    it.each([
      ['API_PORT', { API_PORT: 'abc' }],
      ['API_PORT', { API_PORT: '70000' }],
      ['DATABASE_URL', { DATABASE_URL: 'mysql://root@localhost/holdpoint' }],
      ['DATABASE_POOL_MAX', { DATABASE_POOL_MAX: '0' }],
      ['WORKER_MAX_CACHED_WORKFLOWS', { WORKER_MAX_CACHED_WORKFLOWS: '1' }],
      ['WORKER_MAX_CACHED_WORKFLOWS', { WORKER_MAX_CACHED_WORKFLOWS: '-5' }],
      ['WORKER_MAX_CACHED_WORKFLOWS', { WORKER_MAX_CACHED_WORKFLOWS: 'lots' }],
      ['TEMPORAL_UI_URL', { TEMPORAL_UI_URL: 'not-a-url' }],
      ['HOLDPOINT_ENV', { HOLDPOINT_ENV: 'staging' }],
      ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
      ['EXECUTORS', { EXECUTORS: '{billing: https://x}' }],
      ['EXECUTORS', { EXECUTORS: JSON.stringify({ billing: { url: 'not a url' } }) }],
      ['EXECUTORS', { EXECUTORS: JSON.stringify({ billing: { url: 'https://x.example', extra: true } }) }],
      ['EXECUTORS', { EXECUTORS: JSON.stringify({ billing: { url: 'https://x.example', secrets: ['short'] } }) }],
      ['EXECUTORS', { EXECUTORS: JSON.stringify(['https://x.example']) }],
      ['WEBHOOK_SECRETS', { WEBHOOK_SECRETS: 'too-short' }],
      ['WEBHOOK_SECRETS', { WEBHOOK_SECRETS: ` , ,` }],
      ['WEBHOOK_SECRETS', { REVIEW_WEBHOOK_URL: 'https://hooks.example.com/holdpoint' }],
      ['REVIEW_WEBHOOK_URL', { REVIEW_WEBHOOK_URL: 'hooks.example.com', WEBHOOK_SECRETS: SECRET }],
      ['TEMPORAL_TLS_KEY_PATH', { TEMPORAL_TLS_CERT_PATH: '/tls/client.pem' }],
      ['TEMPORAL_TLS_CERT_PATH', { TEMPORAL_TLS_KEY_PATH: '/tls/client.key' }],
      ['TEMPORAL_ADDRESS', { HOLDPOINT_ENV: 'production', DATABASE_URL: 'postgres://db/holdpoint' }],
      ['DATABASE_URL', { HOLDPOINT_ENV: 'production', TEMPORAL_ADDRESS: 'temporal:7233' }],
    ] as [string, NodeJS.ProcessEnv][])('%s in %j', (variable, env) => {
      const message = configError(env);
      expect(message).toMatch(/^Invalid configuration:/);
      expect(message).toMatch(names(variable));
    });

    it('lists every bad variable at once', () => {
      const message = configError({ API_PORT: 'abc', DATABASE_URL: 'mysql://x', TEMPORAL_UI_URL: 'nope' });
      for (const variable of ['API_PORT', 'DATABASE_URL', 'TEMPORAL_UI_URL']) expect(message).toMatch(names(variable));
    });

    it('names both missing production variables', () => {
      const message = configError({ HOLDPOINT_ENV: 'production' });
      expect(message).toMatch(names('TEMPORAL_ADDRESS'));
      expect(message).toMatch(names('DATABASE_URL'));
    });

    it('does not echo a rejected secret back', () => {
      expect(configError({ WEBHOOK_SECRETS: 'hunter2-secret' })).not.toContain('hunter2-secret');
    });
  });

  describe('empty strings', () => {
    it('are treated as unset, so defaults apply', () => {
      const config = loadConfig({ API_PORT: '', HOLDPOINT_ENV: '', DATABASE_URL: '', TEMPORAL_UI_URL: '', EXECUTORS: '' });
      expect(config).toMatchObject({ env: 'development', api: { port: 8080 }, database: { url: undefined }, executors: {} });
      expect(config.temporal.uiUrl).toBeUndefined();
    });

    it('for every variable give the same config as an empty environment', () => {
      const blank = Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, '']));
      expect(loadConfig(blank)).toEqual(loadConfig({}));
    });

    it('do not satisfy a requirement', () => {
      expect(configError({ HOLDPOINT_ENV: 'production', TEMPORAL_ADDRESS: '', DATABASE_URL: '' })).toMatch(names('DATABASE_URL'));
      expect(configError({ REVIEW_WEBHOOK_URL: 'https://hooks.example.com/h', WEBHOOK_SECRETS: '' })).toMatch(names('WEBHOOK_SECRETS'));
    });
  });
});

describe('CONFIG_VARIABLES', () => {
  it('lists every variable the schema reads, once each', () => {
    expect(CONFIG_VARIABLES).toEqual(
      expect.arrayContaining([
        'HOLDPOINT_ENV',
        'LOG_LEVEL',
        'DATA_DIR',
        'TEMPORAL_ADDRESS',
        'TEMPORAL_NAMESPACE',
        'TEMPORAL_TASK_QUEUE',
        'TEMPORAL_TLS_CERT_PATH',
        'TEMPORAL_TLS_KEY_PATH',
        'TEMPORAL_TLS_CA_PATH',
        'TEMPORAL_API_KEY',
        'TEMPORAL_UI_URL',
        'TEMPORAL_DEV_PORT',
        'TEMPORAL_UI_PORT',
        'DATABASE_URL',
        'DATABASE_POOL_MAX',
        'API_HOST',
        'API_PORT',
        'API_PUBLIC_URL',
        'POLICY_PATH',
        'EXECUTORS',
        'REVIEW_WEBHOOK_URL',
        'WEBHOOK_SECRETS',
      ]),
    );
    expect(new Set(CONFIG_VARIABLES).size).toBe(CONFIG_VARIABLES.length);
    for (const name of CONFIG_VARIABLES) expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it('includes every variable a ConfigError can name', () => {
    const messages = [
      configError({ HOLDPOINT_ENV: 'production', TEMPORAL_TLS_CERT_PATH: '/c', REVIEW_WEBHOOK_URL: 'https://h.example' }),
      configError({ API_PORT: 'x', TEMPORAL_DEV_PORT: 'x', TEMPORAL_UI_PORT: 'x', DATABASE_POOL_MAX: 'x', LOG_LEVEL: 'x' }),
    ];
    const named = messages.flatMap((message) => [...message.matchAll(/^\s+([A-Z][A-Z0-9_]*)[.:]/gm)].map((m) => m[1]!));
    expect(named.length).toBeGreaterThanOrEqual(8);
    for (const name of named) expect(CONFIG_VARIABLES).toContain(name);
  });
});
