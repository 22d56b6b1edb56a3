import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpServeOptions {
  host: string;
  port: number;
}

export interface RunningHttpServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Streamable HTTP, stateless: every POST gets a fresh server and transport, so nothing is shared
 * between callers and any replica can answer. Progress notifications stream back on the POST's own
 * response. Bound to localhost by default, with the SDK's Host-header check against DNS rebinding.
 */
export async function serveStreamableHttp(createServer: () => McpServer, { host, port }: HttpServeOptions): Promise<RunningHttpServer> {
  const app = createMcpExpressApp({ host });
  app.post('/mcp', async (req, res) => {
    const server = createServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: `internal error: ${(err as Error).message}` }, id: null });
    }
  });
  const notAllowed = (_req: unknown, res: { status(code: number): { json(body: unknown): void } }) =>
    res.status(405).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server is stateless; use POST' }, id: null });
  app.get('/mcp', notAllowed);
  app.delete('/mcp', notAllowed);

  const listener: Server = await new Promise((resolve, reject) => {
    const started = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(started)));
  });
  const address = listener.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/mcp`,
    close: () =>
      new Promise((resolve) => {
        listener.closeAllConnections();
        listener.close(() => resolve());
      }),
  };
}
