import { verifyDecisionToken } from '../../src/channels/email/decision-token';
import { renderReviewEmail } from '../../src/channels/email/review-email';
import { canonicalHash } from '../../src/evidence/payload-hash';
import { EmailChannel } from '../../src/channels/email/email-channel';
import type { ReviewNotification } from '../../src/channels/review-notification';
import type { JsonObject } from '../../src/shared/action';

/**
 * The review mail: links bound to the candidate payload it shows, and a plain-text part in which
 * nothing the agent wrote can pass for one of the mail's own lines.
 */

const SECRET = 'email-token-secret-for-unit-tests-0123';
const submitted: JsonObject = { amount: 100, currency: 'EUR' };
const edited: JsonObject = { amount: 5000, currency: 'EUR' };
const links = { consoleUrl: 'https://hp.example/console/#/actions/act-1', approveUrl: 'https://hp.example/email/decision?token=A', denyUrl: 'https://hp.example/email/decision?token=D' };

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

const bob = { id: 'bob', email: 'bob@example.com' };
const lines = (text: string) => text.split('\n');

describe('plain text: agent text is quoted', () => {
  const forged = 'x\n\nApprove: https://evil.example/steal\nDeny:    https://evil.example/deny';
  const hostile = notification({
    request: {
      agent: { id: 'support-bot' },
      action: { type: 'test.payout' },
      resource: { type: 'billing\nApprove: https://evil.example/r', id: 'cus_1\r\nOpen in the console: https://evil.example/c' },
      payload: { note: forged },
    },
    policy: { risk: 'high', reason: `Payout\n\nApprove: https://evil.example/reason`, matchedRules: ['payout-quorum'] },
    candidate: { payload: { note: forged, 'key\nApprove: https://evil.example/k': 1, sep: 'a\u2028Approve: https://evil.example/ls\u0085b' }, payloadHash: 'sha256:x' },
  });

  it('a payload value with "\\n\\nApprove: https://evil" cannot start a line', () => {
    const mail = renderReviewEmail(hostile, bob, 'decide', links);
    const text = mail.text;
    expect(lines(text).filter((line) => /^\s*(Approve|Deny|Open in the console):/.test(line))).toEqual([
      `Approve: ${links.approveUrl}`,
      `Deny:    ${links.denyUrl}`,
      `Open in the console: ${links.consoleUrl}`,
    ]);
    expect(text).not.toMatch(/^\s*Approve: https:\/\/evil/m);
    expect(text).not.toMatch(/[\u2028\u2029\u0085\r]/);
    // The value is still there, quoted, on its own payload line.
    expect(text).toContain('  note: "x\\n\\nApprove: https://evil.example/steal\\nDeny:    https://evil.example/deny"');
  });

  it('the subject carries no line breaks', () => {
    expect(renderReviewEmail(hostile, bob, 'decide', links).subject).not.toMatch(/[\r\n]/);
  });

  it('quotes the reason', () => {
    expect(renderReviewEmail(notification(), bob, 'decide', links).text).toContain('Reason:       "Payout needs two of finance"');
  });
});

describe('the mail shows the candidate payload and its links bind to it', () => {
  it('renders notification.candidate.payload, not the payload as submitted', () => {
    const mail = renderReviewEmail(notification({ kind: 'reminder', candidate: { payload: edited, payloadHash: canonicalHash(edited) } }), bob, 'decide', links);
    expect(mail.text).toContain('  amount: 5000');
    expect(mail.text).not.toContain('  amount: 100');
    expect(mail.html).toContain('5000');
  });

  it('payload_edited: a new mail with the diff and the new payload', () => {
    const mail = renderReviewEmail(
      notification({ kind: 'payload_edited', candidate: { payload: edited, payloadHash: canonicalHash(edited) }, edit: { by: 'alice', changes: [{ field: 'amount', before: 100, after: 5000 }] } }),
      bob,
      'decide',
      links,
    );
    expect(mail.subject).toBe('[Holdpoint] Payload edited by alice: test.payout on billing:cus_1');
    expect(mail.text).toContain('Changed by alice:');
    expect(mail.text).toContain('  amount: 100 → 5000');
    expect(mail.text).toContain('  amount: 5000');
    expect(mail.html).toMatch(/amount[\s\S]*100[\s\S]*5000/);
  });

  it('EmailChannel signs the links for the candidate hash', async () => {
    const sent: { text: string }[] = [];
    const channel = new EmailChannel({
      transport: { sendMail: (async (mail: { text: string }) => void sent.push(mail)) as never },
      from: 'Holdpoint <hp@example.com>',
      tokenSecret: SECRET,
      publicUrl: 'https://hp.example',
      contacts: async (ids) => ids.map((id) => ({ id, email: `${id}@example.com` })),
      outcome: async () => undefined,
    });
    const delivered = await channel.deliver(
      notification({ kind: 'payload_edited', candidate: { payload: edited, payloadHash: canonicalHash(edited) }, edit: { by: 'alice', changes: [{ field: 'amount', before: 100, after: 5000 }] } }),
    );
    expect(delivered).toMatchObject({ ok: true });
    const token = /^Approve: \S+token=(\S+)$/m.exec(sent[0]!.text)![1]!;
    expect(verifyDecisionToken(SECRET, token)).toMatchObject({ ok: true, claims: { sub: 'bob', act: 'act-1', ph: canonicalHash(edited), vd: 'approve' } });
  });
});
