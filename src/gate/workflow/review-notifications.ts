import { log } from '@temporalio/workflow';
import type { PayloadChange, ReviewEventKind } from '../../channels/review-notification';
import { unionChannels } from '../../shared/policy';
import type { ActionRun } from './action-run';
import { notifications } from './activity-proxies';

export interface NotifyReviewers {
  kind: ReviewEventKind;
  /** Names this notification within the action: a retried send is the same notification. */
  key: string;
  recipients: string[];
  /** Earlier tiers, told that the request moved on. */
  informed?: string[];
  edit?: { by: string; changes: PayloadChange[] };
}

/** Tells reviewers, in the background: a slow or failing channel must never hold back the review timers. */
export function notifyReviewers(run: ActionRun, { kind, key, recipients, informed = [], edit }: NotifyReviewers): void {
  const { actionId, state } = run;
  const review = state.review;
  // Everyone told has been routed through tiers 0..active, so the union of their channels reaches them all.
  const channels = review ? unionChannels(review.tiers.slice(0, review.activeTier + 1).map((t) => t.channels)) : undefined;
  const notification = {
    id: `${actionId}:${key}`,
    kind,
    actionId,
    request: state.request,
    policy: { risk: state.policy!.risk, reason: state.policy!.reason, matchedRules: state.policy!.matchedRules },
    tier: review?.activeTier ?? 0,
    recipients,
    informed,
    dueAt: review?.dueAt,
    outcome: state.decision?.verdict,
    candidate: { payload: review?.candidatePayload ?? state.request.payload, payloadHash: review?.candidatePayloadHash ?? state.payloadHash! },
    ...(edit ? { edit } : {}),
    // Absent (not undefined) when unrestricted, so unrestricted notifications keep their old shape.
    ...(channels === undefined ? {} : { channels }),
  };
  run.inBackground(
    notifications.notifyReviewers({ notification, occurredAt: run.now() }).catch((err) => {
      log.warn('notification could not be recorded', { actionId, key, error: String(err) });
    }),
  );
}
