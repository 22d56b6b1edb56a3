import { startConfiguredCheckpoints } from '../../src/evidence/audit/checkpoint-schedule';
import { generateAuditKey } from '../../src/evidence/audit/signing-key';
import { ConfigError, loadConfig } from '../../src/platform/config';

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
const names = (variable: string) => new RegExp(`^\\s+${variable}(\\.[^:]*)?: `, 'm');

describe('TRUST_PROXY', () => {
  it('is off unless set: X-Forwarded-For names nobody', () => {
    expect(loadConfig({}).api.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).api.trustProxy).toBe(false);
  });

  it('takes a hop count or the proxies by address, subnet or named range', () => {
    expect(loadConfig({ TRUST_PROXY: '1' }).api.trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: ' loopback, 10.0.0.0/8 ,fd00::/8,192.0.2.7 ' }).api.trustProxy).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8', '192.0.2.7']);
  });

  it.each(['true', 'yes', '10.0.0.0/33', 'proxy.internal', '1.2.3.4/8/9'])('refuses %s, naming the variable', (value) => {
    expect(configError({ TRUST_PROXY: value })).toMatch(names('TRUST_PROXY'));
  });
});

describe('metrics and open-action settings', () => {
  it('defaults: no metrics token (admin keys only), 50 label values, 1,000 open actions per agent', () => {
    const config = loadConfig({});
    expect(config.metrics).toMatchObject({ token: undefined, labelCap: 50 });
    expect(config.api.maxOpenActionsPerAgent).toBe(1_000);
  });

  it('reads them', () => {
    const config = loadConfig({ METRICS_TOKEN: 'a-scraper-token-0123456789', METRICS_LABEL_CAP: '20', MAX_OPEN_ACTIONS_PER_AGENT: '25' });
    expect(config.metrics).toMatchObject({ token: 'a-scraper-token-0123456789', labelCap: 20 });
    expect(config.api.maxOpenActionsPerAgent).toBe(25);
  });

  it.each([
    ['METRICS_TOKEN', { METRICS_TOKEN: 'short' }],
    ['METRICS_LABEL_CAP', { METRICS_LABEL_CAP: '0' }],
    ['METRICS_LABEL_CAP', { METRICS_LABEL_CAP: 'many' }],
    ['MAX_OPEN_ACTIONS_PER_AGENT', { MAX_OPEN_ACTIONS_PER_AGENT: '0' }],
    ['MAX_OPEN_ACTIONS_PER_AGENT', { MAX_OPEN_ACTIONS_PER_AGENT: '1.5' }],
  ] as [string, NodeJS.ProcessEnv][])('refuses a bad %s, naming it', (variable, env) => {
    expect(configError(env)).toMatch(names(variable));
  });
});

describe('production refuses to run the worker without signed checkpoints', () => {
  const production = { HOLDPOINT_ENV: 'production', TEMPORAL_ADDRESS: 'temporal:7233', DATABASE_URL: 'postgres://db/holdpoint' };
  const logger = { info: jest.fn(), warn: jest.fn() };
  const noPool = {} as Parameters<typeof startConfiguredCheckpoints>[1];

  it('stops start-up naming the signing key variables and the opt-out', () => {
    const start = () => startConfiguredCheckpoints(loadConfig(production), noPool, logger);
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(/AUDIT_SIGNING_KEY_PATH.*AUDIT_SIGNING_KEY|AUDIT_SIGNING_KEY.*AUDIT_SIGNING_KEY_PATH/s);
    expect(start).toThrow(/AUDIT_UNSIGNED_OK/);
  });

  it('stops start-up when checkpoints are switched off as well', () => {
    const key = generateAuditKey().privateKey!.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => startConfiguredCheckpoints(loadConfig({ ...production, AUDIT_SIGNING_KEY: key, CHECKPOINT_INTERVAL: 'off' }), noPool, logger)).toThrow(/CHECKPOINT_INTERVAL/);
  });

  it('runs unsigned only when told to, and says so', () => {
    logger.warn.mockClear();
    expect(startConfiguredCheckpoints(loadConfig({ ...production, AUDIT_UNSIGNED_OK: 'true' }), noPool, logger)).toBeUndefined();
    expect(logger.warn).toHaveBeenCalled();
    expect(() => loadConfig({ AUDIT_UNSIGNED_OK: 'maybe' })).toThrow(/AUDIT_UNSIGNED_OK/);
  });

  it('signs with a key', async () => {
    const key = generateAuditKey().privateKey!.export({ type: 'pkcs8', format: 'pem' }).toString();
    const schedule = startConfiguredCheckpoints(loadConfig({ ...production, AUDIT_SIGNING_KEY: key }), noPool, logger);
    expect(schedule).toBeDefined();
    await schedule?.stop();
  });
});

describe('evidence settings', () => {
  it('reads the owner URL and the witness', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://holdpoint_app:x@db/holdpoint',
      DATABASE_MIGRATION_URL: 'postgres://holdpoint:y@db/holdpoint',
      AUDIT_WITNESS: 'https://witness.example/holdpoint',
      AUDIT_WITNESS_TOKEN: 'witness-token-0123456789',
    });
    expect(config.database).toMatchObject({ url: 'postgres://holdpoint_app:x@db/holdpoint', migrationUrl: 'postgres://holdpoint:y@db/holdpoint' });
    expect(config.audit.witness).toEqual({ kind: 'http', url: 'https://witness.example/holdpoint', token: 'witness-token-0123456789' });
    expect(loadConfig({ AUDIT_WITNESS: '/var/lib/witness/holdpoint.jsonl' }).audit.witness).toEqual({ kind: 'file', path: '/var/lib/witness/holdpoint.jsonl' });
    expect(loadConfig({ AUDIT_WITNESS: 'file:///var/lib/witness/h.jsonl' }).audit.witness).toEqual({ kind: 'file', path: '/var/lib/witness/h.jsonl' });
  });

  it.each([
    ['DATABASE_MIGRATION_URL', { DATABASE_MIGRATION_URL: 'mysql://x' }],
    ['AUDIT_WITNESS', { AUDIT_WITNESS: 'relative/witness.jsonl' }],
    ['AUDIT_WITNESS', { AUDIT_WITNESS: 'ftp://witness.example/x' }],
    ['AUDIT_WITNESS_TOKEN', { AUDIT_WITNESS_TOKEN: 'short' }],
  ] as [string, NodeJS.ProcessEnv][])('refuses a bad %s, naming it', (variable, env) => {
    expect(configError(env)).toMatch(names(variable));
  });
});
