import { currentApprovals, type ActionState } from '../../shared/action-state';
import type { ActionView } from '../../shared/wire-types';

/** What the API returns for an action: the live state, shaped for agents and reviewers. */
export function toActionView(state: ActionState, links: { base: string; temporalUi?: string; namespace: string }): ActionView {
  const { policy, review, decision, execution } = state;
  const self = `${links.base}/v1/actions/${encodeURIComponent(state.actionId)}`;
  return {
    id: state.actionId,
    status: state.status,
    outcome: policy?.outcome ?? null,
    risk: policy?.risk ?? null,
    matchedRules: policy?.matchedRules ?? [],
    reason: policy?.reason ?? null,
    policyVersion: policy?.policyVersion ?? null,
    agent: state.request.agent,
    action: state.request.action,
    resource: state.request.resource,
    payload: state.request.payload,
    payloadHash: state.payloadHash ?? null,
    review: review
      ? {
          tier: review.activeTier + 1,
          tiers: review.tiers.length,
          assignees: review.assignees,
          dueAt: review.dueAt ?? null,
          approvals: currentApprovals(review).length,
          approvalsNeeded: review.approvalsNeeded,
          editableFields: review.editableFields,
          // What an approval now applies to: the submitted payload, or a reviewer's edit of it.
          candidatePayload: review.candidatePayload,
          candidatePayloadHash: review.candidatePayloadHash,
        }
      : null,
    decision: decision
      ? { verdict: decision.verdict, by: decision.by, rationale: decision.rationale ?? null, at: decision.at, ...(decision.breakGlass ? { breakGlass: true } : {}) }
      : null,
    approvedPayload: state.approvedPayload ?? null,
    approvedPayloadHash: state.approvedPayloadHash ?? null,
    execution: execution ?? null,
    links: {
      self,
      wait: `${self}/wait`,
      evidence: `${self}/evidence`,
      ...(links.temporalUi
        ? { temporal: `${links.temporalUi}/namespaces/${encodeURIComponent(links.namespace)}/workflows/${encodeURIComponent(state.actionId)}` }
        : {}),
    },
  };
}
