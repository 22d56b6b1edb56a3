export const ROLES = ['agent', 'reviewer', 'admin'] as const;

export type Role = (typeof ROLES)[number];

/** An authenticated caller: who it is, what it may do, and which key it presented. */
export interface Principal {
  id: string;
  role: Role;
  groups: string[];
  /** The public id of the API key used, for audit and revocation; never the key itself. */
  keyId: string;
}

/** The same rule as agent ids in the API, so an agent principal can be the agent it submits as. */
export const PRINCIPAL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
export const PRINCIPAL_ID_MAX_LENGTH = 128;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isValidPrincipalId(id: string): boolean {
  return id.length <= PRINCIPAL_ID_MAX_LENGTH && PRINCIPAL_ID_PATTERN.test(id);
}

export function isAdmin(principal: Pick<Principal, 'role'>): boolean {
  return principal.role === 'admin';
}

export function isReviewer(principal: Pick<Principal, 'role'>): boolean {
  return principal.role === 'reviewer';
}

export function isAgent(principal: Pick<Principal, 'role'>): boolean {
  return principal.role === 'agent';
}

export function inGroup(principal: Pick<Principal, 'groups'>, group: string): boolean {
  return principal.groups.includes(group);
}
