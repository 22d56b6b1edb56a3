import { canonicalHash } from '../evidence/payload-hash';
import type { JsonObject } from '../shared/action';
import type { ReviewNotification } from './review-notification';

/**
 * The payload a notification shows and its decision buttons and links bind to. Runs started before
 * notifications carried a candidate send none: for them it is the payload as submitted.
 */
export function candidateOf(notification: ReviewNotification): { payload: JsonObject; payloadHash: string } {
  const candidate = (notification as Partial<ReviewNotification>).candidate;
  return candidate ?? { payload: notification.request.payload, payloadHash: canonicalHash(notification.request.payload) };
}
