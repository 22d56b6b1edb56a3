import fs from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from 'pg';
import { parseApiKey } from '../../access/api-keys';
import { isRole, isValidPrincipalId, type Role } from '../../access/principal';
import {
  authenticate,
  createPrincipalKey,
  findPrincipal,
  revokeKeys,
  upsertPrincipal,
} from '../../access/principal-repository';
import type { LoadedPolicy } from '../../policy';

export const DEV_AGENT_ID = 'support-bot';
export const DEV_ADMIN_ID = 'admin';

export interface DevKey {
  id: string;
  role: Role;
  groups: string[];
  apiKey: string;
}

export type DevPrincipal = Omit<DevKey, 'apiKey'>;

/** The principals `npm start` provides: one agent, one admin, a reviewer per policy group member. */
export function devPrincipalsFor(policy: LoadedPolicy): DevPrincipal[] {
  const groupsByMember = new Map<string, string[]>();
  for (const [group, members] of policy.groups) {
    for (const member of members) groupsByMember.set(member, [...(groupsByMember.get(member) ?? []), group]);
  }
  const reviewers = [...groupsByMember]
    // The fixed agent and admin keep their roles; a member id the API could not accept gets no key.
    .filter(([member]) => member !== DEV_AGENT_ID && member !== DEV_ADMIN_ID && isValidPrincipalId(member))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, groups]): DevPrincipal => ({ id, role: 'reviewer', groups: [...new Set(groups)].sort() }));
  return [{ id: DEV_AGENT_ID, role: 'agent', groups: [] }, { id: DEV_ADMIN_ID, role: 'admin', groups: [] }, ...reviewers];
}

/**
 * Development only (`npm start`): gives every dev principal a working key, stable across restarts.
 * Keys live in `keysFile` (0600) and are reused while they still authenticate; a revoked or unknown
 * one (say, after the dev database was reset) is replaced. The policy is authoritative for these
 * ids: role and groups are set to what it says. A principal someone disabled stays disabled and
 * gets no key; a reviewer who left the policy has the dev key issued to them revoked.
 */
export async function seedDevPrincipals(pool: Pool, policy: LoadedPolicy, keysFile: string): Promise<DevKey[]> {
  const stored = await readKeysFile(keysFile);
  const storedById = new Map(stored.map((key) => [key.id, key.apiKey]));
  const wanted = devPrincipalsFor(policy);
  const seeded: DevKey[] = [];

  for (const principal of wanted) {
    const storedKey = storedById.get(principal.id);
    const auth = storedKey ? await authenticate(pool, storedKey) : undefined;
    if (storedKey && auth?.ok && auth.principal.id === principal.id) {
      if (auth.principal.role !== principal.role || !sameMembers(auth.principal.groups, principal.groups)) {
        await upsertPrincipal(pool, principal, { allowRoleChange: true });
      }
      seeded.push({ ...principal, apiKey: storedKey });
      continue;
    }
    if (auth?.ok === false && auth.reason === 'disabled') continue;
    if ((await findPrincipal(pool, principal.id))?.disabledAt) continue;
    const { apiKey } = await createPrincipalKey(pool, principal, { allowRoleChange: true });
    seeded.push({ ...principal, apiKey });
  }

  const wantedIds = new Set(wanted.map((principal) => principal.id));
  for (const departed of stored.filter((key) => !wantedIds.has(key.id))) {
    const keyId = parseApiKey(departed.apiKey)?.keyId;
    if (keyId) await revokeKeys(pool, { keyId });
  }

  await writeKeysFile(keysFile, seeded);
  return seeded;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  const sortedB = [...b].sort();
  return a.length === b.length && [...a].sort().every((value, index) => value === sortedB[index]);
}

interface KeysFileContent {
  note: string;
  keys: DevKey[];
}

const KEYS_FILE_NOTE = 'Development API keys written by `npm start`. Secrets: do not commit or share.';

/** A missing or unreadable file just means new keys are issued. */
async function readKeysFile(keysFile: string): Promise<DevKey[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(keysFile, 'utf8'));
  } catch {
    return [];
  }
  const keys = (parsed as Partial<KeysFileContent> | null)?.keys;
  if (!Array.isArray(keys)) return [];
  return keys.filter(
    (key): key is DevKey =>
      typeof key?.id === 'string' && isRole(key.role) && Array.isArray(key.groups) && typeof key.apiKey === 'string',
  );
}

/** Rewritten only when something changed; written to a 0600 temp file and renamed, so never half-written or world-readable. */
async function writeKeysFile(keysFile: string, keys: DevKey[]): Promise<void> {
  const content = `${JSON.stringify({ note: KEYS_FILE_NOTE, keys } satisfies KeysFileContent, null, 2)}\n`;
  const current = await fs.readFile(keysFile, 'utf8').catch(() => undefined);
  if (current === content) {
    await fs.chmod(keysFile, 0o600);
    return;
  }
  await fs.mkdir(path.dirname(keysFile), { recursive: true });
  const temporary = `${keysFile}.${process.pid}.tmp`;
  await fs.writeFile(temporary, content, { mode: 0o600 });
  await fs.chmod(temporary, 0o600); // the mode option is filtered by the umask
  await fs.rename(temporary, keysFile);
}

/** Environment variable names: HOLDPOINT_AGENT_KEY, HOLDPOINT_ADMIN_KEY, then HOLDPOINT_<ID>_KEY per reviewer. */
export function devKeyVariables(keys: readonly DevKey[]): Map<DevKey, string> {
  const names = new Map<DevKey, string>();
  const used = new Set<string>();
  const claim = (key: DevKey, base: string) => {
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base.replace(/_KEY$/, '')}_${n}_KEY`;
    used.add(name);
    names.set(key, name);
  };
  const agent = keys.find((key) => key.id === DEV_AGENT_ID) ?? keys.find((key) => key.role === 'agent');
  const admin = keys.find((key) => key.id === DEV_ADMIN_ID) ?? keys.find((key) => key.role === 'admin');
  if (agent) claim(agent, 'HOLDPOINT_AGENT_KEY');
  if (admin) claim(admin, 'HOLDPOINT_ADMIN_KEY');
  for (const key of keys) {
    if (!names.has(key)) claim(key, `HOLDPOINT_${key.id.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_KEY`);
  }
  return names;
}

/** For the start-up banner: who is who, then `export` lines to paste into a shell. */
export function formatDevKeys(keys: readonly DevKey[]): string {
  const variables = devKeyVariables(keys);
  const rows = [['ID', 'ROLE', 'GROUPS', 'VARIABLE'], ...keys.map((key) => [key.id, key.role, key.groups.join(',') || '-', variables.get(key) ?? ''])];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  const table = rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
  const exports = keys.map((key) => `export ${variables.get(key)}=${key.apiKey}`).join('\n');
  return `${table}\n\n${exports}\n`;
}
