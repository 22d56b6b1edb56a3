import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { ensureRuntimeRole } from '../../src/platform/postgres/runtime-role';
import { RUNTIME_ROLE as TEST_RUNTIME_ROLE, startEmbeddedPostgres, type RunningPostgres } from '../../src/ops/dev/embedded-postgres';
import { startTemporalDevServer, type RunningDevServer } from '../../src/ops/dev/temporal-dev-server';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain-Node toolchain shared with bootstrap
const { ensureTestServer } = require('../../scripts/toolchain.js') as { ensureTestServer: () => string };

interface TestStack {
  postgres?: RunningPostgres;
  temporal?: RunningDevServer;
  tempDir: string;
}

declare global {
  var __HOLDPOINT_TEST_STACK__: TestStack | undefined;
}

/**
 * Starts the real servers once per jest run (both server-backed projects share this). Test
 * workers inherit the addresses through the environment. DATABASE_URL / TEMPORAL_ADDRESS set by
 * the caller are used instead of starting our own.
 */
export default async function globalSetup(): Promise<void> {
  if (globalThis.__HOLDPOINT_TEST_STACK__) return;
  const stack: TestStack = { tempDir: fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-test-')) };
  globalThis.__HOLDPOINT_TEST_STACK__ = stack;
  process.env.HOLDPOINT_TEST_SERVER_PATH = ensureTestServer();
  if (!process.env.HOLDPOINT_TEST_DATABASE_URL) {
    stack.postgres = await startEmbeddedPostgres({ dataDir: path.join(stack.tempDir, 'pg'), ephemeral: true });
    process.env.HOLDPOINT_TEST_DATABASE_URL = stack.postgres.url;
    process.env.HOLDPOINT_TEST_RUNTIME_DATABASE_URL = stack.postgres.runtimeUrl;
  }
  // Tests connect as the runtime role, as the API and worker do: it may only add and read evidence.
  if (!process.env.HOLDPOINT_TEST_RUNTIME_DATABASE_URL) {
    const owner = new Pool({ connectionString: process.env.HOLDPOINT_TEST_DATABASE_URL, max: 1 });
    try {
      await ensureRuntimeRole(owner, TEST_RUNTIME_ROLE, TEST_RUNTIME_ROLE);
    } finally {
      await owner.end();
    }
    const runtime = new URL(process.env.HOLDPOINT_TEST_DATABASE_URL);
    runtime.username = TEST_RUNTIME_ROLE;
    runtime.password = TEST_RUNTIME_ROLE;
    process.env.HOLDPOINT_TEST_RUNTIME_DATABASE_URL = runtime.toString();
  }
  if (!process.env.HOLDPOINT_TEST_TEMPORAL_ADDRESS) {
    stack.temporal = await startTemporalDevServer({ headless: true });
    process.env.HOLDPOINT_TEST_TEMPORAL_ADDRESS = stack.temporal.address;
  }
}
