import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes operators filter on in the Temporal Web UI. */
export const statusAttribute = defineSearchAttributeKey('HoldpointStatus', SearchAttributeType.KEYWORD);
export const riskTierAttribute = defineSearchAttributeKey('HoldpointRiskTier', SearchAttributeType.KEYWORD);
export const actionTypeAttribute = defineSearchAttributeKey('HoldpointActionType', SearchAttributeType.KEYWORD);
export const agentIdAttribute = defineSearchAttributeKey('HoldpointAgentId', SearchAttributeType.KEYWORD);
export const assigneesAttribute = defineSearchAttributeKey('HoldpointAssignees', SearchAttributeType.KEYWORD_LIST);

export const HOLDPOINT_SEARCH_ATTRIBUTES = [
  statusAttribute,
  riskTierAttribute,
  actionTypeAttribute,
  agentIdAttribute,
  assigneesAttribute,
] as const;
