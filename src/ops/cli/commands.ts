import { mcpCommands } from './mcp-command';
import { ConfigError, loadConfig } from '../../platform/config';
import { policyTestCommand } from '../../policy/policy-test-runner';
import { auditCommands } from './audit-command';
import { parseCommandLine, UsageError, type Command, type CommandGroup } from './dispatch';
import { keysCommands } from './keys-command';
import { policyReplay } from './policy-replay-command';
import { setup } from './setup';

const USAGE = `usage: npm run holdpoint -- <command>

  setup                      register Holdpoint's search attributes on a Temporal cluster
  keys create|list|revoke|disable|enable
                             manage principals and their API keys (keys --help)
  policy test [dir]          run the *.test.yaml policy tests in dir (default: POLICY_PATH)
  policy replay --candidate <dir> [--since 30d]
                             what a candidate policy would have decided differently
  audit verify|checkpoint|export|prune
                             evidence integrity, signed checkpoints, export, retention (audit --help)
  mcp serve|gateway          MCP approval tools, or a gate in front of a stdio MCP server (mcp --help)
`;

const POLICY_USAGE = `usage: holdpoint policy <command>

  test [dir] [--json]        run the *.test.yaml policy tests in dir (default: POLICY_PATH)
  replay --candidate <dir> [--since 30d] [--examples 5] [--json]
                             what a candidate policy would have decided differently
                             (policy replay --help)
`;

const POLICY_TEST_USAGE = `usage: holdpoint policy test [--json] [dir]

  Runs the *.test.yaml policy tests in dir (default: POLICY_PATH) against the policy there and
  lists each case and the rules no case matched (--json: the report as JSON).
  Exit code 0 all cases passed, 1 a case or test file failed, 2 the policy did not load.
`;

const policyTest: Command = {
  usage: POLICY_TEST_USAGE,
  run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, { json: { type: 'boolean' } }, true);
    if (positionals.length > 1) throw new UsageError(`takes one policy directory, not ${positionals.length}: ${positionals.join(' ')}`);
    const dir = positionals[0] ?? loadConfig(io.env ?? process.env).policyPath;
    return policyTestCommand(values.json ? ['--json'] : [], io.stdout ?? process.stdout, dir);
  },
};

/** `holdpoint <command> <sub-command> [flags]`: every command the CLI knows. */
export const holdpointCommands: CommandGroup = {
  name: 'holdpoint',
  usage: USAGE,
  commands: {
    setup,
    keys: keysCommands,
    policy: { name: 'holdpoint policy', usage: POLICY_USAGE, commands: { test: policyTest, replay: policyReplay } },
    audit: auditCommands,
    mcp: mcpCommands,
  },
  exitCodeOf: (err) => (err instanceof ConfigError ? 2 : undefined),
};
