import { eventHash, verifyChain, type EvidenceEvent, type StoredEvent } from '../../src/evidence/evidence-repository';

const ACTION = 'action-11-support-bot-k1';

function event(eventKey: string, type: string, data: EvidenceEvent['data'], minute: number, actor?: string): EvidenceEvent {
  return { actionId: ACTION, eventKey, type, actor, data, occurredAt: new Date(Date.UTC(2026, 0, 1, 9, minute)).toISOString() };
}

/** Chains events exactly as appendEvent does: seq from 1, each hash covering the previous one. */
function chain(events: EvidenceEvent[]): StoredEvent[] {
  const stored: StoredEvent[] = [];
  for (const [index, e] of events.entries()) {
    const prevHash = stored[index - 1]?.hash ?? null;
    stored.push({ ...e, seq: index + 1, prevHash, hash: eventHash(e, index + 1, prevHash) });
  }
  return stored;
}

const EVENTS = [
  event('requested', 'action.requested', { payload: { amount: 700 } }, 0, 'support-bot'),
  event('classified', 'policy.classified', { outcome: 'require_approval', risk: 'high', matchedRules: ['refund-review'] }, 0),
  event('review-requested', 'review.requested', { tier: 0, assignees: ['alice', 'bob'] }, 1, 'holdpoint'),
  event('vote:alice', 'review.approved', { verdict: 'approve', rationale: 'customer is right' }, 5, 'alice'),
  event('decided', 'action.approved', { verdict: 'approved', by: ['alice'] }, 5, 'alice'),
];

const problemsAt = (events: StoredEvent[]) => verifyChain(events).breaks.map((b) => b.seq);

describe('eventHash', () => {
  it('is a sha256 over the canonical event, independent of key order in data', () => {
    const a = eventHash(event('k', 't', { a: 1, b: { c: 2, d: 3 } }, 0), 1, null);
    const b = eventHash(event('k', 't', { b: { d: 3, c: 2 }, a: 1 }, 0), 1, null);
    expect(a).toBe(b);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('covers every field: seq, prev hash, key, type, actor, data, time and action', () => {
    const base = event('k', 't', { a: 1 }, 0, 'alice');
    const hash = eventHash(base, 2, 'sha256:prev');
    expect(eventHash(base, 3, 'sha256:prev')).not.toBe(hash);
    expect(eventHash(base, 2, 'sha256:other')).not.toBe(hash);
    expect(eventHash(base, 2, null)).not.toBe(hash);
    for (const changed of [
      { ...base, eventKey: 'k2' },
      { ...base, type: 't2' },
      { ...base, actor: 'bob' },
      { ...base, actor: undefined },
      { ...base, data: { a: 2 } },
      { ...base, occurredAt: new Date(Date.UTC(2026, 0, 1, 9, 1)).toISOString() },
      { ...base, actionId: 'action-other' },
    ]) {
      expect(eventHash(changed, 2, 'sha256:prev')).not.toBe(hash);
    }
  });
});

describe('verifyChain', () => {
  it('accepts an intact chain and an empty one', () => {
    const stored = chain(EVENTS);
    expect(verifyChain(stored)).toEqual({ ok: true, events: 5, breaks: [] });
    expect(verifyChain([])).toEqual({ ok: true, events: 0, breaks: [] });
  });

  it('reports edited data at the edited event only', () => {
    const stored = chain(EVENTS);
    stored[3] = { ...stored[3]!, data: { ...stored[3]!.data, rationale: 'changed afterwards' } };
    const result = verifyChain(stored);
    expect(result.ok).toBe(false);
    expect(result.breaks).toEqual([{ seq: 4, problem: 'hash does not match the event' }]);
  });

  it('reports an edited actor, type or timestamp', () => {
    for (const edit of [{ actor: 'mallory' }, { type: 'review.denied' }, { occurredAt: '2026-01-01T08:00:00.000Z' }]) {
      const stored = chain(EVENTS);
      stored[2] = { ...stored[2]!, ...edit };
      expect(problemsAt(stored)).toEqual([3]);
    }
  });

  it('reports an event whose hash was recomputed after editing, at the next event', () => {
    const stored = chain(EVENTS);
    const forged = { ...stored[1]!, data: { outcome: 'allow', risk: 'low', matchedRules: [] } };
    stored[1] = { ...forged, hash: eventHash(forged, forged.seq, forged.prevHash) };
    expect(verifyChain(stored).breaks).toEqual([{ seq: 3, problem: 'prev_hash does not match the previous event' }]);
  });

  it('reports two swapped events', () => {
    const stored = chain(EVENTS);
    [stored[1], stored[2]] = [stored[2]!, stored[1]!];
    const result = verifyChain(stored);
    expect(result.ok).toBe(false);
    expect(result.breaks).toEqual(
      expect.arrayContaining([
        { seq: 3, problem: 'expected seq 2' },
        { seq: 3, problem: 'prev_hash does not match the previous event' },
        { seq: 2, problem: 'expected seq 3' },
        { seq: 2, problem: 'prev_hash does not match the previous event' },
        { seq: 4, problem: 'prev_hash does not match the previous event' },
      ]),
    );
  });

  it('reports a deleted middle event at the event after the gap', () => {
    const stored = chain(EVENTS);
    stored.splice(2, 1);
    const result = verifyChain(stored);
    expect(result.events).toBe(4);
    expect(result.breaks).toEqual([
      { seq: 4, problem: 'expected seq 3' },
      { seq: 4, problem: 'prev_hash does not match the previous event' },
      { seq: 5, problem: 'expected seq 4' },
    ]);
  });

  it('reports a deleted first event', () => {
    const stored = chain(EVENTS).slice(1);
    expect(verifyChain(stored).breaks).toEqual(
      expect.arrayContaining([
        { seq: 2, problem: 'expected seq 1' },
        { seq: 2, problem: 'prev_hash does not match the previous event' },
      ]),
    );
  });

  it('reports a changed prev_hash at that event', () => {
    const stored = chain(EVENTS);
    stored[4] = { ...stored[4]!, prevHash: stored[2]!.hash };
    expect(verifyChain(stored).breaks).toEqual([
      { seq: 5, problem: 'prev_hash does not match the previous event' },
      { seq: 5, problem: 'hash does not match the event' },
    ]);
  });

  it('reports a prev_hash on the first event', () => {
    const stored = chain(EVENTS);
    stored[0] = { ...stored[0]!, prevHash: 'sha256:' + '0'.repeat(64) };
    expect(problemsAt(stored)).toEqual([1, 1]);
  });

  it('accepts a chain whose tail was cut off (known limit: the chain has no end marker)', () => {
    // The actions row's status and the `completed` step are what reveal a missing tail.
    expect(verifyChain(chain(EVENTS).slice(0, 3))).toEqual({ ok: true, events: 3, breaks: [] });
  });
});
