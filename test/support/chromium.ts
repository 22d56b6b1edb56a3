import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package; CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

function apt(args: string[]): boolean {
  const result = spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 10 * 60_000 });
  return result.status === 0;
}

/**
 * Returns the Chromium executable, installing Debian's `chromium` first when it is missing and we
 * run as root (CI and the dev machines). Throws with what to do when it cannot.
 */
export function ensureChromium(): string {
  if (fs.existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (process.env.CHROMIUM_PATH) throw new Error(`CHROMIUM_PATH=${CHROMIUM_PATH} does not exist`);
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM_PATH} is missing and the tests are not running as root: install it with \`sudo apt-get install -y chromium\` or set CHROMIUM_PATH`);
  }
  process.stderr.write('[holdpoint] installing Debian chromium for the console e2e test…\n');
  // The package lists may be missing or stale on a fresh machine: refresh them once and retry.
  if (!apt(['install', '-y', '--no-install-recommends', 'chromium']) && apt(['update'])) apt(['install', '-y', '--no-install-recommends', 'chromium']);
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`could not install chromium (apt-get install -y chromium failed); ${CHROMIUM_PATH} is still missing`);
  return CHROMIUM_PATH;
}

/** Headless Chromium with a fresh, temporary profile (Playwright removes it on close). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: ensureChromium(), headless: true, args: ARGS, timeout: 60_000 });
}
