import type { Principal } from './principal';
import type { PrincipalRecord } from './principal-repository';

/** Why a Slack user or an email link's addressee may not decide. */
export type ChannelRefusal = 'unknown' | 'not-a-reviewer' | 'disabled' | 'revoked';

export type ChannelAccess = { ok: true; principal: Principal } | { ok: false; reason: ChannelRefusal };

/**
 * The principal a reviewer acts as from Slack or an email link, looked up at every decision: only
 * reviewers and admins that are enabled and still hold an active API key, or never held one (a
 * principal whose keys were all revoked has lost every channel with them). `keyId` records the
 * channel instead of an API key, for the audit trail.
 */
export function channelAccess(record: PrincipalRecord | undefined, via: 'slack' | 'email'): ChannelAccess {
  if (!record) return { ok: false, reason: 'unknown' };
  if (record.role !== 'reviewer' && record.role !== 'admin') return { ok: false, reason: 'not-a-reviewer' };
  if (record.disabledAt) return { ok: false, reason: 'disabled' };
  if (record.keysRevoked) return { ok: false, reason: 'revoked' };
  return { ok: true, principal: { id: record.id, role: record.role, groups: record.groups, keyId: via } };
}

export function channelPrincipal(record: PrincipalRecord | undefined, via: 'slack' | 'email'): Principal | undefined {
  const access = channelAccess(record, via);
  return access.ok ? access.principal : undefined;
}

/** Why `who` cannot decide, as a sentence for a Slack reply or a page. */
export function channelRefusalText(reason: ChannelRefusal, who: string): string {
  switch (reason) {
    case 'unknown':
      return `${who} is not a Holdpoint reviewer.`;
    case 'not-a-reviewer':
      return `${who} is not a reviewer or admin.`;
    case 'disabled':
      return `${who} is disabled.`;
    case 'revoked':
      return `${who} was revoked (every API key withdrawn).`;
  }
}
