import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const stack = globalThis.__HOLDPOINT_TEST_STACK__;
  if (!stack) return;
  globalThis.__HOLDPOINT_TEST_STACK__ = undefined;
  await stack.temporal?.stop();
  await stack.postgres?.stop();
  fs.rmSync(stack.tempDir, { recursive: true, force: true });
}
