import type { KnownBlock } from '@slack/types';
import { canonicalHash } from '../../src/evidence/payload-hash';
import type { ReviewNotification } from '../../src/channels/review-notification';
import { denyModal, type SlackReviewCard } from '../../src/channels/slack/slack-blocks';
import { SlackChannel } from '../../src/channels/slack/slack-channel';
import type { JsonObject } from '../../src/shared/action';

/**
 * What a Slack review message lets a reviewer approve: exactly the candidate payload it shows, bound by
 * its hash in the button; and nothing at all when it cannot show the whole payload.
 */

const submitted: JsonObject = { amount: 100, currency: 'EUR' };
const edited: JsonObject = { amount: 5000, currency: 'EUR' };

function notification(overrides: Partial<ReviewNotification> = {}): ReviewNotification {
  return {
    id: 'act-1:review-requested',
    kind: 'review_requested',
    actionId: 'act-1',
    request: { agent: { id: 'support-bot' }, action: { type: 'test.payout' }, resource: { type: 'billing', id: 'cus_1' }, payload: submitted },
    policy: { risk: 'high', reason: 'Payout needs two of finance', matchedRules: ['payout-quorum'] },
    tier: 0,
    recipients: ['bob'],
    informed: [],
    dueAt: new Date(Date.now() + 3_600_000).toISOString(),
    candidate: { payload: submitted, payloadHash: canonicalHash(submitted) },
    ...overrides,
  };
}

interface PostedMessage {
  channel: string;
  text: string;
  blocks: (KnownBlock & { block_id?: string; elements?: Record<string, unknown>[]; fields?: { text: string }[]; text?: { text: string } })[];
}

/** Delivers through a SlackChannel whose Web API client only records the posts. */
async function post(input: ReviewNotification): Promise<PostedMessage> {
  const posts: PostedMessage[] = [];
  const channel = new SlackChannel({
    client: {
      chat: {
        postMessage: (async (args: PostedMessage) => {
          posts.push(args);
          return { ok: true, channel: 'D0BOB', ts: `1.${posts.length}` };
        }) as never,
        update: (async () => ({ ok: true })) as never,
      } as never,
    },
    publicUrl: 'https://holdpoint.example.com',
    contacts: async (ids) => ids.map((id) => ({ id, slackUserId: `U${id.toUpperCase()}01` })),
    outcome: async () => undefined,
    messages: { find: async () => undefined, record: async () => undefined, forAction: async () => [] },
  });
  const delivery = await channel.deliver(input);
  expect(delivery).toMatchObject({ ok: true });
  expect(posts).toHaveLength(1);
  return posts[0]!;
}

const buttons = (message: PostedMessage) => message.blocks.find((b) => b.block_id === 'decide')?.elements ?? [];
const button = (message: PostedMessage, actionId: string) => buttons(message).find((b) => b.action_id === actionId) as { value?: string; url?: string } | undefined;
const text = (message: PostedMessage) => JSON.stringify(message.blocks);

describe('the Approve button binds to the payload the card shows', () => {
  it('carries the action id and the candidate payload hash, in the Deny button too', async () => {
    const message = await post(notification());
    const approve = JSON.parse(button(message, 'holdpoint_approve')!.value!);
    expect(approve).toEqual({ actionId: 'act-1', payloadHash: canonicalHash(submitted) });
    expect(JSON.parse(button(message, 'holdpoint_deny')!.value!)).toEqual({ actionId: 'act-1', payloadHash: canonicalHash(submitted) });
  });

  it('shows the candidate payload (a reviewer’s edit), not the payload as submitted', async () => {
    const message = await post(notification({ kind: 'reminder', id: 'act-1:reminder', candidate: { payload: edited, payloadHash: canonicalHash(edited) } }));
    const payload = message.blocks.find((b) => b.block_id === 'payload')!;
    expect(payload.fields!.map((f) => f.text)).toEqual(['*amount*\n5000', '*currency*\nEUR']);
    expect(JSON.parse(button(message, 'holdpoint_approve')!.value!)).toEqual({ actionId: 'act-1', payloadHash: canonicalHash(edited) });
  });

  it('the deny modal keeps the action id and the hash of the card it was opened from', () => {
    const card: SlackReviewCard = {
      actionId: 'act-1',
      kind: 'review_requested',
      request: notification().request,
      payload: edited,
      payloadHash: canonicalHash(edited),
      risk: 'high',
      reason: 'Payout needs two of finance',
      matchedRules: ['payout-quorum'],
      reviewers: [],
      consoleUrl: 'https://holdpoint.example.com/console/#/actions/act-1',
    };
    const view = denyModal(card, { channel: 'D0BOB', ts: '1.1' });
    expect(JSON.parse(view.private_metadata!)).toEqual({ actionId: 'act-1', payloadHash: canonicalHash(edited), channel: 'D0BOB', ts: '1.1' });
  });
});

describe('payload_edited', () => {
  it('posts a new card with the new payload, the changed fields and buttons bound to the new hash', async () => {
    const message = await post(
      notification({
        id: 'act-1:payload-edited:alice',
        kind: 'payload_edited',
        candidate: { payload: edited, payloadHash: canonicalHash(edited) },
        edit: { by: 'alice', changes: [{ field: 'amount', before: 100, after: 5000 }] },
      }),
    );
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { text: expect.stringContaining('Payload edited') } });
    expect(message.text).toContain('edited');
    const changes = message.blocks.find((b) => b.block_id === 'changes')!;
    expect(changes.text!.text).toContain('alice');
    expect(changes.text!.text).toMatch(/amount.*100.*5000/s);
    expect(message.blocks.find((b) => b.block_id === 'payload')!.fields!.map((f) => f.text)).toEqual(['*amount*\n5000', '*currency*\nEUR']);
    expect(JSON.parse(button(message, 'holdpoint_approve')!.value!)).toEqual({ actionId: 'act-1', payloadHash: canonicalHash(edited) });
  });
});

describe('a card that cannot show the whole payload offers no Approve', () => {
  it('a field too long for a Slack field: no Approve, the hidden field named, the console linked, Deny kept', async () => {
    const payload: JsonObject = { amount: 100, note: 'n'.repeat(2500) };
    const message = await post(notification({ request: { ...notification().request, payload }, candidate: { payload, payloadHash: canonicalHash(payload) } }));
    expect(button(message, 'holdpoint_approve')).toBeUndefined();
    expect(text(message)).not.toContain('exactly the payload shown');
    expect(button(message, 'holdpoint_deny')).toBeDefined();
    expect(button(message, 'holdpoint_open')!.url).toBe('https://holdpoint.example.com/console/#/actions/act-1');
    const hidden = message.blocks.find((b) => b.block_id === 'hidden')!;
    expect(JSON.stringify(hidden)).toContain('note');
    expect(JSON.stringify(hidden)).not.toContain('amount');
    expect(JSON.stringify(hidden)).toMatch(/console/i);
  });

  it('more fields than a section holds and too much JSON for one block: the fields left out are named', async () => {
    const payload: JsonObject = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`field${i}`, `${i}:${'x'.repeat(400)}`]));
    const message = await post(notification({ candidate: { payload, payloadHash: canonicalHash(payload) } }));
    expect(button(message, 'holdpoint_approve')).toBeUndefined();
    const hidden = JSON.stringify(message.blocks.find((b) => b.block_id === 'hidden'));
    const shown = message.blocks.find((b) => b.block_id === 'payload')!.text!.text;
    for (const field of Object.keys(payload)) {
      // Every field is either shown whole or named as hidden.
      const whole = shown.includes(`"${field}": "${payload[field]}"`);
      expect([field, whole || hidden.includes(`${field}`)]).toEqual([field, true]);
    }
    expect(hidden).toContain('field13');
  });

  it('many small fields that fit as JSON keep the Approve button', async () => {
    const payload: JsonObject = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, i]));
    const message = await post(notification({ candidate: { payload, payloadHash: canonicalHash(payload) } }));
    expect(button(message, 'holdpoint_approve')).toBeDefined();
    expect(message.blocks.find((b) => b.block_id === 'hidden')).toBeUndefined();
  });
});
