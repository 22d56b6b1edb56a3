import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createHoldpointClient } from '../../agents/client';
import { createApprovalServer, SERVER_VERSION } from '../../agents/mcp/approval-server';
import { splitCommandLine } from '../../agents/mcp/command-line';
import { createGatewayServer } from '../../agents/mcp/gateway';
import { serveStreamableHttp } from '../../agents/mcp/http-transport';
import { loadMcpSettings, McpSettingsError, type McpSettings } from '../../agents/mcp/mcp-settings';
import { parseFlags, UsageError, type CommandGroup } from './dispatch';

const USAGE = `usage: holdpoint mcp <command>

  serve [--http] [--host 127.0.0.1] [--port 8090] [--max-wait <seconds>]
        an MCP server with request_approval, get_approval_status and report_execution;
        stdio by default, Streamable HTTP at http://<host>:<port>/mcp with --http
  gateway --upstream "<command>" [--name <server>] [--timeout <seconds>]
  gateway [--name <server>] [--timeout <seconds>] -- <command> [args…]
        wraps a stdio MCP server: its tools, each call held by Holdpoint as
        action type mcp.<server>.<tool> until allowed or approved (default wait 600 s)

Environment: HOLDPOINT_URL (default http://127.0.0.1:8080), HOLDPOINT_API_KEY, HOLDPOINT_AGENT_ID.
Over stdio, run it as \`npm run --silent holdpoint -- mcp …\` (npm's banner would corrupt stdout).
`;

/** stdout carries the protocol over stdio: everything else goes to stderr. */
const log = (line: string) => process.stderr.write(`[holdpoint mcp] ${line}\n`);

export const mcpCommands: CommandGroup = {
  name: 'holdpoint mcp',
  usage: USAGE,
  commands: {
    serve: { run: (argv, io) => serve(argv, io.env ?? process.env) },
    gateway: { run: (argv, io) => gateway(argv, io.env ?? process.env) },
  },
  exitCodeOf: (err) => (err instanceof McpSettingsError ? 2 : undefined),
};

function positiveSeconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1) throw new UsageError(`${flag} must be a whole number of seconds, not ${value}`);
  return seconds;
}

async function serve(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const values = parseFlags(argv, { http: { type: 'boolean' }, host: { type: 'string' }, port: { type: 'string' }, 'max-wait': { type: 'string' } });
  const maxWaitSeconds = positiveSeconds(values['max-wait'], '--max-wait', 600);
  if (!values.http && (values.host || values.port)) throw new UsageError('--host and --port apply to --http');
  const port = values.port === undefined ? 8090 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number from 0 to 65535, not ${values.port}`);
  const settings = loadMcpSettings(env);
  const client = createHoldpointClient({ url: settings.url, apiKey: settings.apiKey });
  const create = () => createApprovalServer({ client, agentId: settings.agentId, maxWaitSeconds });

  if (values.http) {
    const running = await serveStreamableHttp(create, { host: values.host ?? '127.0.0.1', port });
    log(`Holdpoint MCP server ${SERVER_VERSION} on ${running.url} (Streamable HTTP), agent ${settings.agentId} at ${settings.url}`);
    await untilSignal();
    await running.close();
    return 0;
  }
  const server = create();
  await server.connect(new StdioServerTransport());
  log(`Holdpoint MCP server ${SERVER_VERSION} on stdio, agent ${settings.agentId} at ${settings.url}`);
  await untilStdinEnds();
  await server.close();
  return 0;
}

async function gateway(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const separator = argv.indexOf('--');
  const flags = separator === -1 ? argv : argv.slice(0, separator);
  const values = parseFlags(flags, { upstream: { type: 'string' }, name: { type: 'string' }, timeout: { type: 'string' } });
  const command = separator === -1 ? upstreamWords(values.upstream ?? '') : argv.slice(separator + 1);
  if (values.upstream !== undefined && separator !== -1) throw new UsageError('give the upstream either as --upstream "<command>" or after --, not both');
  const [program, ...args] = command;
  if (!program) throw new UsageError('--upstream "<command>" is required');
  const decisionTimeoutMs = positiveSeconds(values.timeout, '--timeout', 600) * 1000;
  const settings = loadMcpSettings(env);

  const upstream = new Client({ name: 'holdpoint-gateway', version: SERVER_VERSION });
  await upstream.connect(new StdioClientTransport({ command: program, args, env: upstreamEnvironment(env), stderr: 'inherit' }));
  const server = createGatewayServer({
    holdpoint: createHoldpointClient({ url: settings.url, apiKey: settings.apiKey }),
    agentId: settings.agentId,
    upstream,
    serverName: values.name,
    decisionTimeoutMs,
  });
  const upstreamClosed = new Promise<'upstream'>((resolve) => {
    upstream.onclose = () => resolve('upstream');
  });
  await server.connect(new StdioServerTransport());
  log(`gateway for ${describe(settings, upstream, values.name)} on stdio`);
  const ended = await Promise.race([upstreamClosed, untilStdinEnds().then(() => 'client' as const)]);
  await server.close();
  await upstream.close();
  if (ended === 'upstream') {
    log('the upstream server exited');
    return 1;
  }
  return 0;
}

function upstreamWords(line: string): string[] {
  try {
    return splitCommandLine(line);
  } catch (err) {
    throw new UsageError(`--upstream: ${(err as Error).message}`);
  }
}

function describe(settings: McpSettings, upstream: Client, name: string | undefined): string {
  const info = upstream.getServerVersion();
  return `${name ?? info?.name ?? 'upstream'} ${info?.version ?? ''}`.trim() + `, agent ${settings.agentId} at ${settings.url}`;
}

/** The upstream gets our environment minus Holdpoint's credentials: it is the thing being gated. */
function upstreamEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('HOLDPOINT_')));
}

function untilStdinEnds(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}
