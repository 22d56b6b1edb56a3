import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { parseApiKey } from '../../src/access/api-keys';
import { keysCommand } from '../../src/ops/cli/keys-command';
import {
  authenticate,
  createPrincipalKey,
  findPrincipal,
  findPrincipalBySlackUser,
  listPrincipals,
  PrincipalError,
  revokeKeys,
  setPrincipalDisabled,
} from '../../src/access/principal-repository';
import { formatDevKeys, seedDevPrincipals, type DevKey } from '../../src/ops/dev/dev-principals';
import { loadPolicy, loadPolicyFromSources } from '../../src/policy';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

let db: TestDatabase;
let tempDir: string;
let pool: Pool;
let counter = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = db.pool;
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-principals-'));
});

afterAll(async () => {
  await db?.drop();
  fs.rmSync(tempDir, { recursive: true, force: true });
});

/** Principal ids unique within this file's schema. */
function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

async function apiKeyRows(): Promise<number> {
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM api_keys');
  return rows[0].n;
}

describe('createPrincipalKey and authenticate', () => {
  it('issues a key that authenticates as the principal', async () => {
    const id = uniqueId('alice');
    const { principal, apiKey } = await createPrincipalKey(pool, { id, role: 'reviewer', groups: ['finance-approvers', 'ops'] });
    expect(principal).toEqual({ id, role: 'reviewer', groups: ['finance-approvers', 'ops'], keyId: parseApiKey(apiKey)?.keyId });

    const result = await authenticate(pool, apiKey);
    expect(result).toEqual({ ok: true, principal });
  });

  it('refuses a well-formed key it never issued as unknown', async () => {
    const { apiKey } = await createPrincipalKey(pool, { id: uniqueId('bob'), role: 'reviewer' });
    const forged = `${apiKey.slice(0, -1)}${apiKey.endsWith('A') ? 'B' : 'A'}`;
    expect(await authenticate(pool, forged)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses malformed text as malformed without touching the database', async () => {
    const query = jest.fn();
    const fakePool = { query } as unknown as Pool;
    for (const text of ['', 'garbage', 'Bearer hp_x', 'hp_zzzzzzzz_short', "hp_0123abcd_' OR 1=1 --"]) {
      expect(await authenticate(fakePool, text)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(query).not.toHaveBeenCalled();
  });

  it('refuses a revoked key as revoked, and leaves the principal\'s other keys valid', async () => {
    const id = uniqueId('carol');
    const first = await createPrincipalKey(pool, { id, role: 'reviewer' });
    const second = await createPrincipalKey(pool, { id, role: 'reviewer' });
    expect(await revokeKeys(pool, { keyId: first.principal.keyId })).toBe(1);
    expect(await revokeKeys(pool, { keyId: first.principal.keyId })).toBe(0);

    expect(await authenticate(pool, first.apiKey)).toEqual({ ok: false, reason: 'revoked' });
    expect((await authenticate(pool, second.apiKey)).ok).toBe(true);

    expect(await revokeKeys(pool, { principalId: id })).toBe(1);
    expect(await authenticate(pool, second.apiKey)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('refuses every key of a disabled principal as disabled, and issues it no new key', async () => {
    const id = uniqueId('dana');
    const { apiKey } = await createPrincipalKey(pool, { id, role: 'reviewer' });
    expect(await setPrincipalDisabled(pool, id, true)).toBe(true);
    expect(await authenticate(pool, apiKey)).toEqual({ ok: false, reason: 'disabled' });
    await expect(createPrincipalKey(pool, { id, role: 'reviewer' })).rejects.toMatchObject({ code: 'disabled' });

    expect(await setPrincipalDisabled(pool, id, false)).toBe(true);
    expect((await authenticate(pool, apiKey)).ok).toBe(true);
  });

  it('stores only the SHA-256 hash of the key', async () => {
    const id = uniqueId('erin');
    const { principal, apiKey } = await createPrincipalKey(pool, { id, role: 'agent' });
    const { rows } = await pool.query('SELECT * FROM api_keys WHERE id = $1', [principal.keyId]);
    expect(rows).toHaveLength(1);
    expect(rows[0].key_hash).not.toBe(apiKey);
    expect(rows[0].key_hash).toBe(createHash('sha256').update(apiKey).digest('hex'));
    // No column holds the key or its secret part.
    const secret = apiKey.slice(`hp_${principal.keyId}_`.length);
    expect(JSON.stringify(rows[0])).not.toContain(secret);
  });

  it('refreshes last_used_at on first use, then at most once a minute', async () => {
    const { principal, apiKey } = await createPrincipalKey(pool, { id: uniqueId('frank'), role: 'reviewer' });
    const lastUsed = async () => (await pool.query('SELECT last_used_at FROM api_keys WHERE id = $1', [principal.keyId])).rows[0].last_used_at;
    expect(await lastUsed()).toBeNull();

    await authenticate(pool, apiKey);
    const first = await lastUsed();
    expect(first).not.toBeNull();
    await authenticate(pool, apiKey);
    expect(await lastUsed()).toBe(first);

    await pool.query(`UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = $1`, [principal.keyId]);
    const stale = await lastUsed();
    await authenticate(pool, apiKey);
    expect(await lastUsed()).not.toBe(stale);
  });

  it('does not touch last_used_at for a revoked key', async () => {
    const { principal, apiKey } = await createPrincipalKey(pool, { id: uniqueId('grace'), role: 'reviewer' });
    await revokeKeys(pool, { keyId: principal.keyId });
    await authenticate(pool, apiKey);
    const { rows } = await pool.query('SELECT last_used_at FROM api_keys WHERE id = $1', [principal.keyId]);
    expect(rows[0].last_used_at).toBeNull();
  });
});

describe('principal updates', () => {
  it('updates groups and keeps profile fields that are not given', async () => {
    const id = uniqueId('oscar');
    await createPrincipalKey(pool, { id, role: 'reviewer', groups: ['a'], email: 'oscar@example.com', displayName: 'Oscar' });
    const { principal } = await createPrincipalKey(pool, { id, role: 'reviewer', groups: ['b', 'c'] });
    expect(principal.groups).toEqual(['b', 'c']);
    expect(await findPrincipal(pool, id)).toMatchObject({ id, role: 'reviewer', groups: ['b', 'c'], email: 'oscar@example.com', displayName: 'Oscar' });
  });

  it('refuses to change the role of an existing principal unless allowed', async () => {
    const id = uniqueId('mallory');
    await createPrincipalKey(pool, { id, role: 'reviewer' });
    const before = await apiKeyRows();
    await expect(createPrincipalKey(pool, { id, role: 'admin' })).rejects.toMatchObject({ name: 'PrincipalError', code: 'role_change' });
    expect(await apiKeyRows()).toBe(before);
    expect((await findPrincipal(pool, id))?.role).toBe('reviewer');

    const { principal, apiKey } = await createPrincipalKey(pool, { id, role: 'admin' }, { allowRoleChange: true });
    expect(principal.role).toBe('admin');
    expect(await authenticate(pool, apiKey)).toMatchObject({ ok: true, principal: { role: 'admin' } });
  });

  it.each([
    ['an id with a space', { id: 'al ice', role: 'reviewer' as const }],
    ['an id starting with a dot', { id: '.alice', role: 'reviewer' as const }],
    ['an id over 128 characters', { id: 'a'.repeat(129), role: 'reviewer' as const }],
    ['an unknown role', { id: 'alice-x', role: 'owner' as unknown as 'admin' }],
    ['a bad group name', { id: 'alice-y', role: 'reviewer' as const, groups: ['finance approvers'] }],
    ['a bad Slack id', { id: 'alice-z', role: 'reviewer' as const, slackUserId: 'alice' }],
  ])('rejects %s', async (_label, input) => {
    await expect(createPrincipalKey(pool, input)).rejects.toBeInstanceOf(PrincipalError);
    expect(await findPrincipal(pool, input.id)).toBeUndefined();
  });

  it('enforces the id rule in the schema too', async () => {
    await expect(pool.query(`INSERT INTO principals (id, role) VALUES ('bad id', 'reviewer')`)).rejects.toThrow(/check constraint/);
    await expect(pool.query(`INSERT INTO principals (id, role) VALUES ('ok-id', 'owner')`)).rejects.toThrow(/check constraint/);
  });

  it('finds principals by Slack user, which belongs to one principal only', async () => {
    const id = uniqueId('slacker');
    await createPrincipalKey(pool, { id, role: 'reviewer', slackUserId: 'U0SLACK1' });
    expect(await findPrincipalBySlackUser(pool, 'U0SLACK1')).toMatchObject({ id, slackUserId: 'U0SLACK1' });
    expect(await findPrincipalBySlackUser(pool, 'U0NOBODY')).toBeUndefined();
    await expect(createPrincipalKey(pool, { id: uniqueId('other'), role: 'reviewer', slackUserId: 'U0SLACK1' })).rejects.toMatchObject({
      code: 'slack_user_taken',
    });
  });
});

describe('listPrincipals', () => {
  it('lists principals with key ids and states, never hashes', async () => {
    const id = uniqueId('listed');
    const revoked = await createPrincipalKey(pool, { id, role: 'reviewer', groups: ['g1'] });
    const active = await createPrincipalKey(pool, { id, role: 'reviewer', groups: ['g1'] });
    await revokeKeys(pool, { keyId: revoked.principal.keyId });
    await authenticate(pool, active.apiKey);
    await createPrincipalKey(pool, { id: uniqueId('keyless'), role: 'agent' }).then(({ principal }) => revokeKeys(pool, { principalId: principal.id }));

    const listings = await listPrincipals(pool);
    const listing = listings.find((entry) => entry.id === id);
    expect(listing).toMatchObject({ id, role: 'reviewer', groups: ['g1'] });
    expect(listing?.keys.map((key) => key.keyId).sort()).toEqual([revoked.principal.keyId, active.principal.keyId].sort());
    expect(listing?.keys.find((key) => key.keyId === revoked.principal.keyId)?.revokedAt).toEqual(expect.any(String));
    expect(listing?.keys.find((key) => key.keyId === active.principal.keyId)).toMatchObject({ revokedAt: undefined, lastUsedAt: expect.any(String) });

    const { rows } = await pool.query('SELECT key_hash FROM api_keys');
    const text = JSON.stringify(listings);
    for (const { key_hash } of rows) expect(text).not.toContain(key_hash);
    expect(text).not.toContain(active.apiKey);
    expect(text).not.toMatch(/hash/i);
  });
});

describe('seedDevPrincipals', () => {
  const policy = loadPolicy(path.join(__dirname, '../../policies'));

  function expectedGroups(member: string): string[] {
    return [...policy.groups].filter(([, members]) => members.includes(member)).map(([group]) => group).sort();
  }

  async function seed(keysFile: string): Promise<DevKey[]> {
    return seedDevPrincipals(pool, policy, keysFile);
  }

  it('seeds the agent, the admin and one reviewer per policy group member, with the policy\'s groups', async () => {
    const keysFile = path.join(tempDir, 'groups', 'dev-keys.json');
    const keys = await seed(keysFile);
    const members = [...new Set([...policy.groups.values()].flat())].sort();

    expect(keys.map((key) => key.id)).toEqual(['support-bot', 'admin', ...members]);
    expect(keys.find((key) => key.id === 'support-bot')).toMatchObject({ role: 'agent', groups: [] });
    expect(keys.find((key) => key.id === 'admin')).toMatchObject({ role: 'admin', groups: [] });
    for (const member of members) {
      expect(keys.find((key) => key.id === member)).toMatchObject({ role: 'reviewer', groups: expectedGroups(member) });
    }
    // alice is in two groups in the shipped policy.
    expect(keys.find((key) => key.id === 'alice')?.groups).toEqual(['finance-approvers', 'ops-reviewers']);

    for (const key of keys) {
      expect(await authenticate(pool, key.apiKey)).toMatchObject({ ok: true, principal: { id: key.id, role: key.role, groups: key.groups } });
    }
  });

  it('is idempotent: a second run returns the same keys and adds no key rows', async () => {
    const keysFile = path.join(tempDir, 'idempotent', 'dev-keys.json');
    const first = await seed(keysFile);
    const rows = await apiKeyRows();
    const second = await seed(keysFile);
    expect(second).toEqual(first);
    expect(await apiKeyRows()).toBe(rows);
  });

  it('keeps the keys file private and readable', async () => {
    const keysFile = path.join(tempDir, 'private', 'dev-keys.json');
    const keys = await seed(keysFile);
    expect(fs.statSync(keysFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(keysFile, 'utf8')).keys).toEqual(keys);
  });

  it('replaces a revoked seeded key on the next run and keeps the others', async () => {
    const keysFile = path.join(tempDir, 'revoked', 'dev-keys.json');
    const first = await seed(keysFile);
    const alice = first.find((key) => key.id === 'alice') as DevKey;
    await revokeKeys(pool, { keyId: parseApiKey(alice.apiKey)?.keyId as string });

    const rows = await apiKeyRows();
    const second = await seed(keysFile);
    const newAlice = second.find((key) => key.id === 'alice') as DevKey;
    expect(newAlice.apiKey).not.toBe(alice.apiKey);
    expect((await authenticate(pool, newAlice.apiKey)).ok).toBe(true);
    expect(await apiKeyRows()).toBe(rows + 1);
    expect(second.filter((key) => key.id !== 'alice')).toEqual(first.filter((key) => key.id !== 'alice'));
    expect(JSON.parse(fs.readFileSync(keysFile, 'utf8')).keys).toEqual(second);
  });

  it('issues new keys when the file is missing or corrupt', async () => {
    const keysFile = path.join(tempDir, 'corrupt', 'dev-keys.json');
    const first = await seed(keysFile);
    fs.writeFileSync(keysFile, '{ not json');
    const second = await seed(keysFile);
    expect(second.map((key) => key.id)).toEqual(first.map((key) => key.id));
    expect(second[0]?.apiKey).not.toBe(first[0]?.apiKey);
    expect(JSON.parse(fs.readFileSync(keysFile, 'utf8')).keys).toEqual(second);
  });

  it('follows policy changes: groups are updated in place, a departed reviewer\'s dev key is revoked', async () => {
    const keysFile = path.join(tempDir, 'policy-change', 'dev-keys.json');
    const policyWith = (groups: string) =>
      loadPolicyFromSources([{ name: 'p.yaml', content: `version: 1\ndefaults: { route: { group: crew } }\ngroups:\n${groups}\nrules: []\n` }]);
    const before = await seedDevPrincipals(pool, policyWith('  crew: [zoe, yan]\n  night: [yan]'), keysFile);
    const yan = before.find((key) => key.id === 'yan') as DevKey;
    const zoe = before.find((key) => key.id === 'zoe') as DevKey;
    expect(yan.groups).toEqual(['crew', 'night']);

    const rows = await apiKeyRows();
    const after = await seedDevPrincipals(pool, policyWith('  crew: [zoe]\n  night: [zoe]'), keysFile);
    expect(after.map((key) => key.id)).toEqual(['support-bot', 'admin', 'zoe']);
    expect(after.find((key) => key.id === 'zoe')).toEqual({ ...zoe, groups: ['crew', 'night'] });
    expect(await authenticate(pool, zoe.apiKey)).toMatchObject({ ok: true, principal: { groups: ['crew', 'night'] } });
    expect(await authenticate(pool, yan.apiKey)).toEqual({ ok: false, reason: 'revoked' });
    expect(await apiKeyRows()).toBe(rows);
  });

  it('formats a table and export lines', async () => {
    const keys = await seed(path.join(tempDir, 'format', 'dev-keys.json'));
    const text = formatDevKeys(keys);
    const key = (id: string) => keys.find((entry) => entry.id === id)?.apiKey;
    expect(text).toContain(`export HOLDPOINT_AGENT_KEY=${key('support-bot')}\n`);
    expect(text).toContain(`export HOLDPOINT_ADMIN_KEY=${key('admin')}\n`);
    expect(text).toContain(`export HOLDPOINT_ALICE_KEY=${key('alice')}\n`);
    expect(text).toMatch(/^alice\s+reviewer\s+finance-approvers,ops-reviewers\s+HOLDPOINT_ALICE_KEY$/m);
  });
});

describe('keys command', () => {
  function capture() {
    let text = '';
    return { write: (chunk: string) => (text += chunk), text: () => text };
  }

  async function run(argv: string[], env: NodeJS.ProcessEnv = { DATABASE_URL: db.url }) {
    const stdout = capture();
    const stderr = capture();
    const code = await keysCommand(argv, { stdout, stderr, env });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  it('creates, lists and revokes keys end to end', async () => {
    const id = uniqueId('cli-alice');
    const created = await run(['create', '--role', 'reviewer', '--id', id, '--groups', 'finance-approvers,ops', '--email', 'a@x', '--slack', 'U0CLI1']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/not shown again/);
    const apiKey = /hp_[0-9a-f]{8}_[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0] as string;
    const keyId = parseApiKey(apiKey)?.keyId as string;
    expect(await authenticate(pool, apiKey)).toMatchObject({ ok: true, principal: { id, role: 'reviewer', groups: ['finance-approvers', 'ops'], keyId } });
    expect(await findPrincipal(pool, id)).toMatchObject({ email: 'a@x', slackUserId: 'U0CLI1' });

    const listed = await run(['list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+ROLE\s+STATE\s+GROUPS\s+KEYS$/m);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+reviewer\\s+enabled\\s+finance-approvers,ops\\s+${keyId} \\(active`, 'm'));
    expect(listed.stdout).not.toContain(apiKey);

    const second = await run(['create', '--role', 'reviewer', '--id', id]);
    const secondKeyId = parseApiKey(/hp_\S+/.exec(second.stdout)?.[0] as string)?.keyId as string;

    const revokedOne = await run(['revoke', '--key-id', keyId]);
    expect(revokedOne).toMatchObject({ code: 0, stdout: expect.stringContaining('Revoked 1 key') });
    expect(await authenticate(pool, apiKey)).toEqual({ ok: false, reason: 'revoked' });
    expect((await run(['list'])).stdout).toMatch(new RegExp(`${keyId} \\(revoked\\), ${secondKeyId} \\(active`));

    const revokedAll = await run(['revoke', '--id', id]);
    expect(revokedAll).toMatchObject({ code: 0, stdout: expect.stringContaining('Revoked 1 key') });
    expect(await run(['revoke', '--id', id])).toMatchObject({ code: 1, stdout: expect.stringContaining('nothing revoked') });
  });

  it('refuses a role change without --allow-role-change', async () => {
    const id = uniqueId('cli-bob');
    expect((await run(['create', '--role', 'reviewer', '--id', id])).code).toBe(0);
    const refused = await run(['create', '--role', 'admin', '--id', id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/allow-role-change/);
    expect(refused.stdout).not.toMatch(/hp_/);
    expect((await run(['create', '--role', 'admin', '--id', id, '--allow-role-change'])).code).toBe(0);
  });

  it.each([
    [['create', '--id', 'x']],
    [['create', '--role', 'root', '--id', 'x']],
    [['create', '--role', 'reviewer']],
    [['create', '--role', 'reviewer', '--id', 'x', '--unknown']],
    [['create', '--role', 'reviewer', '--id', 'bad id']],
    [['revoke']],
    [['revoke', '--id', 'a', '--key-id', 'b']],
    [['list', 'extra']],
    [['rotate']],
    [[]],
  ])('answers bad usage %j with usage and exit 2', async (argv) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).not.toMatch(/hp_/);
    expect(result.stderr).toMatch(/usage|invalid principal/);
  });

  it('asks for DATABASE_URL when it is unset', async () => {
    const result = await run(['list'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('set DATABASE_URL, or run while `npm start` is up and use the URL it printed');
  });

  it('prints usage for --help', async () => {
    const result = await run(['create', '--help'], {});
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining('usage: holdpoint keys') });
  });
});
