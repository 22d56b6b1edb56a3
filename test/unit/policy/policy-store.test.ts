import { PolicyLoadError, PolicyStore, type PolicyLogger } from '../../../src/policy';
import { temporaryPolicyDir } from './policy-fixtures';

const policyYaml = (threshold: number): string => `version: 1
defaults: { route: { group: ops } }
groups: { ops: [oscar] }
rules:
  - id: refund-large
    when: action.type == "payments.refund" && payload.amount > ${threshold}
    outcome: deny
`;

const BAD_POLICY = 'version: 1\nrules:\n  - id: broken\n    when: payload.amount > > 1\n    outcome: deny\n';

function recordingLogger(): PolicyLogger & { errors: unknown[] } {
  const errors: unknown[] = [];
  return { errors, info() {}, warn() {}, error: (object) => errors.push(object) };
}

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('PolicyStore', () => {
  let policyDir: ReturnType<typeof temporaryPolicyDir>;
  let store: PolicyStore | undefined;

  beforeEach(() => {
    policyDir = temporaryPolicyDir({ 'policy.yaml': policyYaml(100) });
  });

  afterEach(() => {
    store?.close();
    store = undefined;
    policyDir.remove();
  });

  it('refuses to start on a bad policy', () => {
    policyDir.write('policy.yaml', BAD_POLICY);
    expect(() => new PolicyStore(policyDir.dir)).toThrow(PolicyLoadError);
  });

  it('keeps the last good policy when a reload is refused, and exposes the failure', () => {
    const logger = recordingLogger();
    store = new PolicyStore(policyDir.dir, { logger });
    const good = store.current();

    policyDir.write('policy.yaml', BAD_POLICY);
    const result = store.reload();

    expect(result.ok).toBe(false);
    expect(store.current()).toBe(good);
    expect(store.lastError).toBeInstanceOf(PolicyLoadError);
    expect(store.lastError?.message).toContain('policy.yaml:4:28 rule "broken"');
    expect(logger.errors).toHaveLength(1);

    policyDir.write('policy.yaml', policyYaml(200));
    expect(store.reload()).toMatchObject({ ok: true, changed: true });
    expect(store.current().policyVersion).not.toBe(good.policyVersion);
    expect(store.lastError).toBeUndefined();
  });

  it('keeps the same policy object when nothing changed', () => {
    store = new PolicyStore(policyDir.dir);
    const before = store.current();
    expect(store.reload()).toEqual({ ok: true, changed: false, policyVersion: before.policyVersion });
    expect(store.current()).toBe(before);
  });

  it('reloads after files in the directory change', async () => {
    store = new PolicyStore(policyDir.dir, { debounceMs: 20 }).watch();
    const before = store.current().policyVersion;
    policyDir.write('policy.yaml', policyYaml(300));
    await until(() => store?.current().policyVersion !== before);
    expect(store.current().rules[0]?.when).toContain('> 300');
  });

  it('reloads on SIGHUP and stops listening once closed', async () => {
    // A long debounce keeps file events out of the way: only the signal can reload in time.
    store = new PolicyStore(policyDir.dir, { debounceMs: 60_000 }).watch();
    const before = store.current().policyVersion;
    policyDir.write('policy.yaml', policyYaml(400));
    expect(process.listenerCount('SIGHUP')).toBeGreaterThan(0);
    // Emitted rather than sent with process.kill: jest gives each test file its own `process`
    // object, so a real signal would reach the runner, which has no handler, and end it.
    process.emit('SIGHUP', 'SIGHUP');
    await until(() => store?.current().policyVersion !== before);

    const listeners = process.listenerCount('SIGHUP');
    store.close();
    expect(process.listenerCount('SIGHUP')).toBe(listeners - 1);
  });
});
