import { holdpointCommands } from './commands';
import { dispatch } from './dispatch';

dispatch(holdpointCommands, process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
