import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Web API call as the fake received it: form fields, with JSON-valued ones (blocks, view) parsed. */
export interface SlackCall {
  method: string;
  token: string | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk Block Kit freely
  args: Record<string, any>;
}

export interface FakeSlackApi {
  /** For `new WebClient(token, { slackApiUrl })`. */
  url: string;
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  /** The next call of `method` answers with this Slack error (`{ ok: false, error }`). */
  failNext(method: string, error: string): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for https://slack.com/api/: answers chat.postMessage, chat.update,
 * chat.postEphemeral and views.open like Slack does, and records every call.
 */
export async function startFakeSlackApi(): Promise<FakeSlackApi> {
  const calls: SlackCall[] = [];
  const failures = new Map<string, string>();
  let ts = 1_700_000_000;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
      const text = Buffer.concat(chunks).toString('utf8');
      const fields = (req.headers['content-type'] ?? '').includes('json')
        ? (JSON.parse(text || '{}') as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(text));
      const args = Object.fromEntries(
        Object.entries(fields).map(([key, value]) => {
          if (typeof value === 'string' && /^[[{]/.test(value)) {
            try {
              return [key, JSON.parse(value)];
            } catch {
              return [key, value];
            }
          }
          return [key, value];
        }),
      );
      calls.push({ method, token: req.headers.authorization?.replace(/^Bearer /, ''), args });
      const failure = failures.get(method);
      failures.delete(method);
      let body: Record<string, unknown>;
      if (failure) body = { ok: false, error: failure };
      else if (method === 'chat.postMessage') {
        ts += 1;
        // Slack answers a post to a user id with the id of the DM conversation.
        const channel = String(args.channel).replace(/^U/, 'D');
        body = { ok: true, channel, ts: `${ts}.000100`, message: { text: args.text } };
      } else if (method === 'chat.update') body = { ok: true, channel: args.channel, ts: args.ts };
      else if (method === 'chat.postEphemeral') body = { ok: true, message_ts: `${ts}.000200` };
      else if (method === 'views.open') body = { ok: true, view: { id: 'V0001', ...args.view } };
      else body = { ok: false, error: 'unknown_method' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    calls,
    callsTo: (method) => calls.filter((call) => call.method === method),
    failNext: (method, error) => failures.set(method, error),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
