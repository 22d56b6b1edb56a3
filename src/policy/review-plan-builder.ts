import { unionChannels, type ReviewPlan, type ReviewTier, type TimeoutOutcome } from '../shared/policy';

export interface ReviewPlanShape {
  firstGroup: string;
  firstTierMs: number;
  escalation: readonly { to: string; afterMs: number }[];
  remindBeforeMs?: number;
  onTimeout: TimeoutOutcome;
  approvals: number;
  editableFields: readonly string[];
}

export function distinctMembers(groups: ReadonlyMap<string, readonly string[]>, group: string): string[] {
  return [...new Set(groups.get(group) ?? [])];
}

/** The reviewer channels of one group; undefined: every configured channel. */
export type GroupChannels = (group: string) => readonly string[] | undefined;

function tier(groups: ReadonlyMap<string, readonly string[]>, group: string, durationMs: number, channelsOf?: GroupChannels): ReviewTier {
  const built: ReviewTier = { groups: [group], reviewers: distinctMembers(groups, group), durationMs };
  const channels = channelsOf ? unionChannels(built.groups.map(channelsOf)) : undefined;
  if (channels !== undefined) built.channels = channels;
  return built;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Built once at load and shared by every decision that selects it, hence frozen: a caller
 * mutating one decision's plan must not change the next decision's.
 */
export function buildReviewPlan(groups: ReadonlyMap<string, readonly string[]>, shape: ReviewPlanShape, channelsOf?: GroupChannels): ReviewPlan {
  const plan: ReviewPlan = {
    tiers: [
      tier(groups, shape.firstGroup, shape.firstTierMs, channelsOf),
      ...shape.escalation.map((step) => tier(groups, step.to, step.afterMs, channelsOf)),
    ],
    onTimeout: shape.onTimeout,
    approvals: shape.approvals,
    editableFields: [...shape.editableFields],
  };
  if (shape.remindBeforeMs !== undefined) plan.remindBeforeMs = shape.remindBeforeMs;
  return deepFreeze(plan);
}

export function freezeExecution<T extends object>(execution: T): T {
  return deepFreeze(execution);
}
