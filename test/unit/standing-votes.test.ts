/**
 * The standing-vote rule the workflow refuses duplicate votes by (hasStandingVote) and the API
 * answers retried decisions by (hasRecordedVote): one definition in src/shared/action-state.ts.
 */
import { hasRecordedVote, hasStandingVote, type ReviewProgress, type ReviewerVote } from '../../src/shared/action-state';

const vote = (reviewer: string, verdict: 'approve' | 'deny', payloadHash: string): ReviewerVote => ({ reviewer, verdict, payloadHash, at: '2025-01-01T00:00:00.000Z' });

function review(votes: ReviewerVote[], candidatePayloadHash: string, candidateSince: number): ReviewProgress {
  return {
    tiers: [],
    activeTier: 0,
    assignees: ['alice', 'bob'],
    excluded: [],
    approvalsNeeded: 2,
    votes,
    candidatePayload: {},
    candidatePayloadHash,
    candidateSince,
    editableFields: ['amount'],
  };
}

it('an approval stands, and is this very vote, only for the current candidate', () => {
  const progress = review([vote('alice', 'approve', 'sha256:a')], 'sha256:a', 0);
  expect(hasStandingVote(progress, 'alice')).toBe(true);
  expect(hasRecordedVote(progress, { reviewer: 'alice', verdict: 'approve', payloadHash: 'sha256:a' })).toBe(true);
  expect(hasRecordedVote(progress, { reviewer: 'alice', verdict: 'approve', payloadHash: 'sha256:b' })).toBe(false);
  expect(hasRecordedVote(progress, { reviewer: 'alice', verdict: 'deny' })).toBe(false);
  expect(hasRecordedVote(progress, { reviewer: 'bob', verdict: 'approve', payloadHash: 'sha256:a' })).toBe(false);
});

it('an edit voids earlier approvals, even when a later edit restores the same payload', () => {
  // alice approved a; bob edited to b (candidate since index 1); an edit back to a starts at index 2.
  const progress = review([vote('alice', 'approve', 'sha256:a'), vote('bob', 'approve', 'sha256:b')], 'sha256:a', 2);
  expect(hasStandingVote(progress, 'alice')).toBe(false);
  expect(hasStandingVote(progress, 'bob')).toBe(false);
  expect(hasRecordedVote(progress, { reviewer: 'alice', verdict: 'approve', payloadHash: 'sha256:a' })).toBe(false);
});

it('a deny always stands', () => {
  const progress = review([vote('bob', 'deny', 'sha256:a')], 'sha256:b', 1);
  expect(hasStandingVote(progress, 'bob')).toBe(true);
  expect(hasRecordedVote(progress, { reviewer: 'bob', verdict: 'deny' })).toBe(true);
  expect(hasRecordedVote(undefined, { reviewer: 'bob', verdict: 'deny' })).toBe(false);
});
