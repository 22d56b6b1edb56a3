import type { Pool, PoolClient } from 'pg';

/**
 * Runs `work` in one transaction on a client of its own: committed when it resolves, rolled back
 * when it throws. While the client is checked out, an error the server sends between queries (a
 * restart terminating every connection) is caught here instead of crashing the process as an
 * unhandled 'error' event, and a client that saw one is destroyed rather than returned to the pool.
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (!broken) await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
