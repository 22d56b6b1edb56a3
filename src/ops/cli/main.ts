import { loadConfig } from '../../platform/config';
import { mcpCommand } from '../../agents/mcp/mcp-command';
import { policyTestCommand } from '../../policy/policy-test-runner';
import { auditCommand } from './audit-command';
import { keysCommand } from './keys-command';
import { policyReplayCommand } from './policy-replay-command';
import { setupCommand } from './setup';

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

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'setup':
      return setupCommand(rest);
    case 'keys':
      return keysCommand(rest);
    case 'mcp':
      return mcpCommand(rest);
    case 'policy':
      if (rest[0] === 'test') return policyTestCommand(rest.slice(1), process.stdout, loadConfig().policyPath);
      if (rest[0] === 'replay') return policyReplayCommand(rest.slice(1));
      break;
    case 'audit':
      return auditCommand(rest);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
  }
  process.stderr.write(`unknown command: ${argv.join(' ')}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
