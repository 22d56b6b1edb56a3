import { Writable } from 'node:stream';
import { createLogger } from '../../src/platform/logger';
import { compileReasonTemplate, renderReason } from '../../src/policy/reason-template';
import type { ActionRequest } from '../../src/shared/action';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => lines.join('') };
}

describe('LOG_REDACT_PAYLOAD_FIELDS in the log', () => {
  it('redacts the fields at any depth, in edit diffs too, and keeps everything else', () => {
    const out = capture();
    const logger = createLogger('info', 'test', { redactPayloadFields: ['iban', 'amount'] }, out.stream);
    logger.info(
      {
        notification: {
          request: { payload: { iban: 'DE89-SECRET', amount: 4242, note: 'kept' } },
          candidate: { payload: { iban: 'DE89-SECRET' }, payloadHash: 'sha256:abc' },
          edit: { by: 'alice', changes: [{ field: 'amount', before: 4242, after: 4343 }, { field: 'note', before: 'a', after: 'b' }] },
        },
        payload: { nested: { deeper: { iban: 'DE89-SECRET' } } },
        list: [{ amount: 4242 }],
      },
      'something happened',
    );
    const text = out.text();
    expect(text).not.toMatch(/DE89-SECRET|4242|4343/);
    expect(text).toContain('[redacted]');
    expect(text).toContain('kept');
    expect(text).toContain('"before":"a"');
    expect(text).toContain('sha256:abc');
  });

  it('still redacts credentials without a field list', () => {
    const out = capture();
    createLogger('info', 'test', {}, out.stream).info({ apiKey: 'hp_secret', req: { headers: { authorization: 'Bearer x' } } }, 'x');
    expect(out.text()).not.toMatch(/hp_secret|Bearer x/);
  });
});

describe('LOG_REDACT_PAYLOAD_FIELDS in rendered reasons', () => {
  const request: ActionRequest = {
    agent: { id: 'bot' },
    action: { type: 'payments.refund' },
    resource: { type: 'billing', id: 'cus_1' },
    payload: { amount: 750, currency: 'EUR', card: { iban: 'DE89-SECRET', holder: 'kept' } },
  };
  const render = (text: string, redact: string[], limits: object = {}, sums: Record<string, string> = {}) => {
    const compiled = compileReasonTemplate(text);
    if (!compiled.ok) throw new Error(compiled.message);
    return renderReason(compiled.template, request, limits, { redactPayloadFields: new Set(redact), limitSumFields: sums });
  };

  it('renders a redacted field, or anything holding one, as [redacted]', () => {
    expect(render('Refund of {{payload.amount}} {{payload.currency}}', ['amount'])).toBe('Refund of [redacted] EUR');
    expect(render('IBAN {{payload.card.iban}}, holder {{payload.card.holder}}', ['iban'])).toBe('IBAN [redacted], holder kept');
    expect(render('Card {{payload.card}}', ['iban'])).toBe('Card {"iban":"[redacted]","holder":"kept"}');
    expect(render('All {{payload}}', ['amount'])).not.toContain('750');
  });

  it('renders the sum of a limit over a redacted field as [redacted]', () => {
    const limits = { refunds: { count: 3, sum: 1500 } };
    expect(render('{{limits.refunds.count}} refunds, {{limits.refunds.sum}} in all', ['amount'], limits, { refunds: 'payload.amount' })).toBe('3 refunds, [redacted] in all');
    expect(render('{{limits.refunds.sum}} in all', ['iban'], limits, { refunds: 'payload.amount' })).toBe('1500 in all');
  });

  it('renders as before without a list', () => {
    expect(render('Refund of {{payload.amount}}', [])).toBe('Refund of 750');
  });
});
