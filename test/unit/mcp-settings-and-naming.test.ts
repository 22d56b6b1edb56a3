import { splitCommandLine } from '../../src/agents/mcp/command-line';
import { serverSlug, toolActionType } from '../../src/agents/mcp/gateway';
import { loadMcpSettings, McpSettingsError } from '../../src/agents/mcp/mcp-settings';

describe('splitCommandLine', () => {
  it.each([
    ['node server.js', ['node', 'server.js']],
    ['  npx -y @modelcontextprotocol/server-filesystem /tmp  ', ['npx', '-y', '@modelcontextprotocol/server-filesystem', '/tmp']],
    [`python -m "my server" 'a b' c\\ d`, ['python', '-m', 'my server', 'a b', 'c d']],
    [`echo "say \\"hi\\"" ''`, ['echo', 'say "hi"', '']],
    ['', []],
  ])('%j', (line, words) => {
    expect(splitCommandLine(line)).toEqual(words);
  });

  it('refuses an unterminated quote', () => {
    expect(() => splitCommandLine('node "server.js')).toThrow('unterminated " quote');
  });
});

describe('gateway naming', () => {
  it('makes mcp.<server>.<tool> action types the API accepts', () => {
    expect(toolActionType(serverSlug('ledger'), 'transfer')).toBe('mcp.ledger.transfer');
    expect(toolActionType(serverSlug('secure-filesystem-server'), 'write_file')).toBe('mcp.secure-filesystem-server.write_file');
    expect(toolActionType(serverSlug('My Server v2.1'), 'do thing!')).toBe('mcp.My-Server-v2-1.do_thing_');
    expect(serverSlug('...')).toBe('upstream');
  });
});

describe('loadMcpSettings', () => {
  it('reads HOLDPOINT_URL (default local), HOLDPOINT_API_KEY and HOLDPOINT_AGENT_ID', () => {
    expect(loadMcpSettings({ HOLDPOINT_API_KEY: 'hp_x', HOLDPOINT_AGENT_ID: 'support-bot' })).toEqual({ url: 'http://127.0.0.1:8080', apiKey: 'hp_x', agentId: 'support-bot' });
  });

  it('names every missing or bad variable', () => {
    expect(() => loadMcpSettings({ HOLDPOINT_URL: 'ftp://x' })).toThrow(McpSettingsError);
    try {
      loadMcpSettings({ HOLDPOINT_URL: 'ftp://x', HOLDPOINT_AGENT_ID: 'bad id' });
    } catch (err) {
      expect((err as Error).message).toMatch(/HOLDPOINT_URL: /);
      expect((err as Error).message).toMatch(/HOLDPOINT_API_KEY: is required/);
      expect((err as Error).message).toMatch(/HOLDPOINT_AGENT_ID: letters, digits/);
    }
  });
});
