/**
 * N connections to the API on loopback, each POSTing a 256 KB JSON body without credentials to
 * /v1/actions again and again (keep-alive) until told to stop; reports the answers it got.
 */
import net from 'node:net';

const [port, connections, bodyBytes] = process.argv.slice(2).map(Number) as [number, number, number];
const prefix = '{"agent":{"id":"flood"},"action":{"type":"x.y"},"resource":{"type":"r","id":"1"},"payload":{"blob":"';
const suffix = '"}}';
const body = prefix + 'x'.repeat(bodyBytes - prefix.length - suffix.length) + suffix;
const request = Buffer.from(
  `POST /v1/actions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nIdempotency-Key: flood\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
);

let stopping = false;
const statuses: Record<string, number> = {};
let errors = 0;
let bytesSent = 0;

function connection(): void {
  if (stopping) return;
  const socket = net.connect(port, '127.0.0.1');
  let pending = '';
  const send = () => {
    if (stopping) return socket.destroy();
    bytesSent += request.length;
    socket.write(request);
  };
  socket.on('connect', send);
  socket.on('data', (chunk) => {
    pending += chunk.toString('latin1');
    // One answer per request: a status line, headers and a Content-Length body.
    for (;;) {
      const headEnd = pending.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(pending.slice(0, headEnd))?.[1] ?? 0);
      if (pending.length < headEnd + 4 + length) return;
      const status = pending.slice(9, 12);
      statuses[status] = (statuses[status] ?? 0) + 1;
      const closing = /connection: close/i.test(pending.slice(0, headEnd));
      pending = pending.slice(headEnd + 4 + length);
      if (closing) return socket.destroy();
      send();
    }
  });
  socket.on('error', () => (errors += 1));
  socket.on('close', () => setImmediate(connection));
}

for (let i = 0; i < connections; i += 1) connection();
process.send?.({ started: true });
process.on('message', (message: { stop?: boolean }) => {
  if (!message.stop) return;
  stopping = true;
  process.send?.({ statuses, errors, bytesSent }, () => process.exit(0));
});
