import type { Principal } from '../../auth/principal';
import type { PrincipalRecord } from '../../db/principal-repository';

/**
 * The principal a reviewer acts as from Slack or an email link: only enabled reviewers and admins.
 * `keyId` records the channel instead of an API key, for the audit trail.
 */
export function channelPrincipal(record: PrincipalRecord | undefined, via: 'slack' | 'email'): Principal | undefined {
  if (!record || record.disabledAt || (record.role !== 'reviewer' && record.role !== 'admin')) return undefined;
  return { id: record.id, role: record.role, groups: record.groups, keyId: via };
}
