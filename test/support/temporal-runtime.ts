import { DefaultLogger, Runtime } from '@temporalio/worker';

// Worker state changes and bundle stats at INFO drown test output; failures still surface as WARN/ERROR.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed by an earlier test file in this jest worker process.
}
