import { loadConfig } from '../config';
import { policyTestCommand } from '../policy/policy-test-runner';
import { keysCommand } from './keys-command';
import { setupCommand } from './setup';

const USAGE = `usage: npm run holdpoint -- <command>

  setup                      register Holdpoint's search attributes on a Temporal cluster
  keys create|list|revoke    manage principals and their API keys (keys --help)
  policy test [dir]          run the *.test.yaml policy tests in dir (default: POLICY_PATH)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'setup':
      return setupCommand(rest);
    case 'keys':
      return keysCommand(rest);
    case 'policy':
      if (rest[0] === 'test') return policyTestCommand(rest.slice(1), process.stdout, loadConfig().policyPath);
      break;
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
