import { auditCommand } from '../../src/ops/cli/audit-command';
import { holdpointCommands } from '../../src/ops/cli/commands';
import { dispatch, parseFlags, runCommand, UsageError, type CommandGroup, type CommandIo } from '../../src/ops/cli/dispatch';
import { keysCommand } from '../../src/ops/cli/keys-command';
import { policyReplayCommand } from '../../src/ops/cli/policy-replay-command';

function capture(): CommandIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    env: {},
    now: new Date('2025-06-01T12:00:00Z'),
    out: () => out,
    err: () => err,
  };
}

async function run(group: CommandGroup, argv: string[]) {
  const io = capture();
  const code = await dispatch(group, argv, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

class Refused extends Error {}

const calls: string[][] = [];
const toy: CommandGroup = {
  name: 'holdpoint toy',
  usage: 'usage: holdpoint toy <command>\n',
  commands: {
    echo: {
      run: (argv, io) => {
        calls.push(argv);
        const flags = parseFlags(argv, { loud: { type: 'boolean' } });
        io.stdout?.write(flags.loud ? 'ECHO\n' : 'echo\n');
        return 0;
      },
    },
    strict: { usage: 'usage: holdpoint toy strict --n <n>\n', run: () => Promise.reject(new UsageError('--n must be a number, not x')) },
    refuse: { run: () => Promise.reject(new Refused('not today')) },
    crash: { run: () => Promise.reject(new Error('boom')) },
    nested: { name: 'holdpoint toy nested', usage: 'usage: holdpoint toy nested <command>\n', commands: { leaf: { run: () => 7 } } },
  },
  exitCodeOf: (err) => (err instanceof Refused ? 1 : undefined),
};

describe('dispatch', () => {
  beforeEach(() => (calls.length = 0));

  it('runs the named sub-command with the words after it', async () => {
    expect(await run(toy, ['echo', '--loud'])).toEqual({ code: 0, stdout: 'ECHO\n', stderr: '' });
    expect(calls).toEqual([['--loud']]);
    expect(await run(toy, ['nested', 'leaf'])).toMatchObject({ code: 7 });
  });

  it('prints the usage on stderr and exits 2 for a missing sub-command', async () => {
    expect(await run(toy, [])).toEqual({ code: 2, stdout: '', stderr: 'holdpoint toy: missing command\n\nusage: holdpoint toy <command>\n' });
    expect(await run(toy, ['nested'])).toEqual({ code: 2, stdout: '', stderr: 'holdpoint toy nested: missing command\n\nusage: holdpoint toy nested <command>\n' });
  });

  it('names an unknown sub-command, with the usage, and exits 2', async () => {
    expect(await run(toy, ['ehco'])).toEqual({ code: 2, stdout: '', stderr: 'holdpoint toy: unknown command ehco\n\nusage: holdpoint toy <command>\n' });
    expect(await run(toy, ['nested', 'leef'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^holdpoint toy nested: unknown command leef\n\nusage: holdpoint toy nested/) });
    // Inherited object properties are not commands.
    expect(await run(toy, ['constructor'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command constructor') });
    expect(await run(toy, ['--loud'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command --loud') });
  });

  it.each([[['help']], [['--help']], [['-h']], [['echo', '--help']], [['echo', '--loud', '-h']]])('prints the usage on stdout for %j and exits 0 without running anything', async (argv) => {
    expect(await run(toy, argv)).toEqual({ code: 0, stdout: 'usage: holdpoint toy <command>\n', stderr: '' });
    expect(calls).toEqual([]);
  });

  it("prints a sub-command's own usage for its --help", async () => {
    expect(await run(toy, ['strict', '--help'])).toEqual({ code: 0, stdout: 'usage: holdpoint toy strict --n <n>\n', stderr: '' });
    expect(await run(toy, ['nested', 'leaf', '--help'])).toEqual({ code: 0, stdout: 'usage: holdpoint toy nested <command>\n', stderr: '' });
  });

  it('leaves --help after -- to the wrapped command', async () => {
    expect(await run(toy, ['echo', '--', 'server', '--help'])).toMatchObject({ code: 2, stderr: expect.stringContaining("holdpoint toy echo: Unexpected argument 'server'") });
    expect(calls).toHaveLength(1);
  });

  it('reports a usage error with the flag, the sub-command and its usage, exit 2', async () => {
    expect(await run(toy, ['strict'])).toEqual({ code: 2, stdout: '', stderr: 'holdpoint toy strict: --n must be a number, not x\n\nusage: holdpoint toy strict --n <n>\n' });
    const unknownFlag = await run(toy, ['echo', '--quiet']);
    expect(unknownFlag).toMatchObject({ code: 2, stdout: '' });
    expect(unknownFlag.stderr).toMatch(/^holdpoint toy echo: Unknown option '--quiet'/);
    expect(unknownFlag.stderr).toContain('usage: holdpoint toy <command>');
  });

  it('maps the errors a group expects to their exit code and rethrows the rest', async () => {
    expect(await run(toy, ['refuse'])).toEqual({ code: 1, stdout: '', stderr: 'holdpoint toy refuse: not today\n' });
    await expect(run(toy, ['crash'])).rejects.toThrow('boom');
  });

  it('runs a single command by itself', async () => {
    const io = capture();
    expect(await runCommand('holdpoint solo', { usage: 'usage: solo\n', run: () => Promise.reject(new UsageError('no')) }, [], io)).toBe(2);
    expect(io.err()).toBe('holdpoint solo: no\n\nusage: solo\n');
  });
});

describe('holdpoint commands', () => {
  it('lists every command for --help and a missing command', async () => {
    const help = await run(holdpointCommands, ['--help']);
    expect(help.code).toBe(0);
    for (const command of ['setup', 'keys', 'policy test', 'policy replay', 'audit', 'mcp serve|gateway']) expect(help.stdout).toContain(command);
    expect(await run(holdpointCommands, [])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^holdpoint: missing command\n\nusage: npm run holdpoint/) });
    expect(await run(holdpointCommands, ['kyes', 'list'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^holdpoint: unknown command kyes\n/) });
  });

  it.each([
    [['keys'], /^holdpoint keys: missing command\n\nusage: holdpoint keys/],
    [['keys', 'rotate'], /^holdpoint keys: unknown command rotate\n\nusage: holdpoint keys/],
    [['audit', 'erase'], /^holdpoint audit: unknown command erase\n\nusage: holdpoint audit/],
    [['mcp'], /^holdpoint mcp: missing command\n\nusage: holdpoint mcp/],
    [['mcp', 'proxy'], /^holdpoint mcp: unknown command proxy\n\nusage: holdpoint mcp/],
    [['policy'], /^holdpoint policy: missing command\n\nusage: holdpoint policy/],
    [['policy', 'lint'], /^holdpoint policy: unknown command lint\n\nusage: holdpoint policy/],
  ])('%j: usage on stderr, exit 2', async (argv, message) => {
    const result = await run(holdpointCommands, argv);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(message);
  });

  it.each([
    [['keys', 'create', '--help'], 'usage: holdpoint keys'],
    [['audit', 'export', '-h'], 'usage: holdpoint audit'],
    [['mcp', 'gateway', '--help'], 'usage: holdpoint mcp'],
    [['policy', '--help'], 'usage: holdpoint policy'],
    [['policy', 'test', '--help'], 'usage: holdpoint policy test'],
    [['policy', 'replay', '--help'], 'usage: holdpoint policy replay'],
    [['setup', '--help'], 'usage: holdpoint setup'],
  ])('%j prints its usage on stdout', async (argv, usage) => {
    expect(await run(holdpointCommands, argv)).toMatchObject({ code: 0, stdout: expect.stringContaining(usage), stderr: '' });
  });

  it.each([
    [['keys', 'create', '--role', 'reviewer'], 'holdpoint keys create: --id is required'],
    [['keys', 'create', '--id', 'a', '--role', 'root'], 'holdpoint keys create: --role must be one of'],
    [['keys', 'list', 'extra'], "holdpoint keys list: Unexpected argument 'extra'"],
    [['keys', 'revoke', '--id'], "holdpoint keys revoke: Option '--id <value>' argument missing"],
    [['audit', 'export'], 'holdpoint audit export: --since is required'],
    [['audit', 'export', '--since', '7'], 'holdpoint audit export: --since must be a duration such as 30d (at most 36500d) or an ISO-8601 date or time, not 7'],
    [['audit', 'export', '--since', '30d', '--until', 'tomorrow'], 'holdpoint audit export: --until must be a duration'],
    [['audit', 'prune', '--retention-days', '0'], 'holdpoint audit prune: --retention-days must be a whole number of days from 1 to 36500, not 0'],
    [['audit', 'verify', '--jsno'], "holdpoint audit verify: Unknown option '--jsno'"],
    [['policy', 'replay'], 'holdpoint policy replay: --candidate <dir> is required'],
    [['policy', 'replay', '--candidate', 'x', '--since', '1.5d'], 'holdpoint policy replay: --since must be a duration'],
    [['policy', 'replay', '--candidate', 'x', '--examples', '100'], 'holdpoint policy replay: --examples must be a number from 0 to 99, not 100'],
    [['policy', 'test', 'a', 'b'], 'holdpoint policy test: takes one policy directory, not 2: a b'],
    [['policy', 'test', '--verbose'], "holdpoint policy test: Unknown option '--verbose'"],
    [['mcp', 'serve', '--max-wait', '10m'], 'holdpoint mcp serve: --max-wait must be a whole number of seconds, not 10m'],
    [['mcp', 'serve', '--port', '8090'], 'holdpoint mcp serve: --host and --port apply to --http'],
    [['mcp', 'gateway'], 'holdpoint mcp gateway: --upstream "<command>" is required'],
    [['mcp', 'gateway', '--upstream', 'node "server.js'], 'holdpoint mcp gateway: --upstream: unterminated " quote'],
    [['mcp', 'gateway', '--timeout', '0', '--upstream', 'node s.js'], 'holdpoint mcp gateway: --timeout must be a whole number of seconds, not 0'],
    [['setup', 'now'], 'holdpoint setup: unexpected argument now'],
  ])('%j: names the flag and why, with the usage, exit 2 (before any connection)', async (argv, message) => {
    const result = await run(holdpointCommands, argv);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr.startsWith(message)).toBe(true);
    expect(result.stderr).toContain('usage: ');
  });

  it('reports missing configuration without the usage', async () => {
    expect(await run(holdpointCommands, ['keys', 'list'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'holdpoint keys: set DATABASE_URL, or run while `npm start` is up and use the URL it printed\n',
    });
    const mcp = await run(holdpointCommands, ['mcp', 'gateway', '--', 'node', 'server.js', '--help']);
    expect(mcp).toMatchObject({ code: 2, stdout: '' });
    expect(mcp.stderr).toMatch(/^holdpoint mcp gateway: invalid Holdpoint client settings:\n {2}HOLDPOINT_API_KEY: is required/);
  });

  it('keeps the entry points the tests and scripts call', async () => {
    const io = capture();
    expect(await keysCommand(['rotate'], io)).toBe(2);
    expect(await auditCommand([], io)).toBe(2);
    expect(await policyReplayCommand(['--help'], io)).toBe(0);
    expect(io.err()).toMatch(/^holdpoint keys: unknown command rotate\n[\s\S]*holdpoint audit: missing command\n/);
    expect(io.out()).toMatch(/^usage: holdpoint policy replay/);
  });
});
