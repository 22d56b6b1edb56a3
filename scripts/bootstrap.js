#!/usr/bin/env node
'use strict';
// Entry point of `npm start`, `npm test` (pretest) and `npm run holdpoint`. Plain Node with no
// dependencies, because on a fresh clone it runs before node_modules exists.
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stampFile = path.join(root, 'node_modules', '.holdpoint-lock-sha256');

function lockHash() {
  const lock = path.join(root, 'package-lock.json');
  return crypto.createHash('sha256').update(fs.readFileSync(lock)).digest('hex');
}

/** Installs npm dependencies when node_modules is missing or older than package-lock.json. */
function ensureDependencies() {
  const wanted = lockHash();
  const have = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8').trim() : '';
  if (have === wanted && fs.existsSync(path.join(root, 'node_modules', '@temporalio', 'worker'))) return;
  process.stderr.write('[holdpoint] installing npm dependencies (npm ci)…\n');
  const npm = process.env.npm_execpath
    ? [process.execPath, [process.env.npm_execpath]]
    : ['npm', []];
  const result = spawnSync(npm[0], [...npm[1], 'ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write('[holdpoint] npm ci failed; see the output above\n');
    process.exit(result.status || 1);
  }
  fs.writeFileSync(stampFile, wanted);
}

/** Runs a TypeScript entry point with tsx, forwarding termination signals and the exit code. */
function runTs(entry, args) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, entry), ...args], {
    cwd: root,
    stdio: 'inherit',
  });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 1 : 1)));
}

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'deps':
    ensureDependencies();
    break;
  case 'start':
    ensureDependencies();
    runTs('src/ops/dev/start-stack.ts', rest);
    break;
  case 'cli':
    ensureDependencies();
    runTs('src/ops/cli/main.ts', rest);
    break;
  default:
    process.stderr.write('usage: node scripts/bootstrap.js deps|start|cli [args]\n');
    process.exit(2);
}
