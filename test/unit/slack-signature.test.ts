import { signSlackRequest, verifySlackRequest } from '../../src/channels/slack/slack-signature';

// The worked example of Slack's "Verifying requests from Slack" guide.
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = 1531420618;
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const AT = new Date(TIMESTAMP * 1000 + 30_000);

const headers = (signature = SIGNATURE, timestamp: string | number = TIMESTAMP) => ({ 'x-slack-signature': signature, 'x-slack-request-timestamp': String(timestamp) });

describe('Slack request signatures', () => {
  it("matches Slack's published example", () => {
    expect(signSlackRequest(SECRET, TIMESTAMP, BODY)).toBe(SIGNATURE);
    expect(verifySlackRequest(SECRET, headers(), Buffer.from(BODY), AT)).toEqual({ ok: true, signature: SIGNATURE, timestamp: TIMESTAMP });
  });

  it('rejects another secret, an altered body and an altered timestamp', () => {
    expect(verifySlackRequest('another-secret', headers(), Buffer.from(BODY), AT)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifySlackRequest(SECRET, headers(), Buffer.from(BODY.replace('roadrunner', 'coyote')), AT)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifySlackRequest(SECRET, headers(SIGNATURE, TIMESTAMP + 1), Buffer.from(BODY), AT)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifySlackRequest(SECRET, headers('v0=abc'), Buffer.from(BODY), AT)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('accepts five minutes either way and refuses older or newer requests', () => {
    expect(verifySlackRequest(SECRET, headers(), Buffer.from(BODY), new Date((TIMESTAMP + 300) * 1000)).ok).toBe(true);
    expect(verifySlackRequest(SECRET, headers(), Buffer.from(BODY), new Date((TIMESTAMP + 301) * 1000))).toEqual({ ok: false, reason: 'stale-timestamp' });
    expect(verifySlackRequest(SECRET, headers(), Buffer.from(BODY), new Date((TIMESTAMP - 301) * 1000))).toEqual({ ok: false, reason: 'stale-timestamp' });
    expect(verifySlackRequest(SECRET, headers(SIGNATURE, 'soon'), Buffer.from(BODY), AT)).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  it('reports missing headers', () => {
    expect(verifySlackRequest(SECRET, {}, Buffer.from(BODY), AT)).toEqual({ ok: false, reason: 'missing-headers' });
    expect(verifySlackRequest(SECRET, { 'x-slack-signature': SIGNATURE }, Buffer.from(BODY), AT)).toEqual({ ok: false, reason: 'missing-headers' });
  });
});
