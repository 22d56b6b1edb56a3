import { Pool, types } from 'pg';

// timestamptz as ISO strings: evidence is hashed and compared as text, and Date loses microseconds.
types.setTypeParser(types.builtins.TIMESTAMPTZ, (value) => new Date(value).toISOString());
// bigint counts fit comfortably in a JS number for our metrics.
types.setTypeParser(types.builtins.INT8, (value) => Number(value));

export function createPool(url: string, max = 10): Pool {
  const pool = new Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  // An idle client's error (e.g. server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}
