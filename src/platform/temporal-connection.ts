import { readFile } from 'node:fs/promises';
import { Connection, type TLSConfig } from '@temporalio/client';
import type { Config } from './config';

/**
 * What both a client `Connection` and the worker's `NativeConnection` accept, so the worker and
 * the API reach Temporal with the same address and credentials.
 */
export interface TemporalConnectionOptions {
  address: string;
  /** Absent: plaintext (a local cluster). */
  tls?: TLSConfig | true;
  apiKey?: string;
}

/**
 * Maps `config.temporal` to connection options, reading the mTLS files. Without TEMPORAL_ADDRESS
 * (development) the dev server's port is assumed; production config requires the address.
 */
export async function temporalConnectionOptions(config: Config): Promise<TemporalConnectionOptions> {
  const { address, tls, apiKey, devPort } = config.temporal;
  const options: TemporalConnectionOptions = { address: address ?? `127.0.0.1:${devPort}` };
  if (tls) {
    const [crt, key, ca] = await Promise.all([
      readCredential(tls.certPath, 'TEMPORAL_TLS_CERT_PATH'),
      readCredential(tls.keyPath, 'TEMPORAL_TLS_KEY_PATH'),
      tls.caPath ? readCredential(tls.caPath, 'TEMPORAL_TLS_CA_PATH') : undefined,
    ]);
    options.tls = { clientCertPair: { crt, key }, ...(ca ? { serverRootCACertificate: ca } : {}) };
  } else if (apiKey) {
    // An API key is a bearer token: never send it in plaintext. Temporal Cloud requires TLS with
    // API keys anyway, and its certificate chains to the system trust store.
    options.tls = true;
  }
  if (apiKey) options.apiKey = apiKey;
  return options;
}

/** Connects a Temporal client using the configured address, TLS and API key. */
export async function connectToTemporal(config: Config): Promise<Connection> {
  return Connection.connect(await temporalConnectionOptions(config));
}

async function readCredential(filePath: string, variable: string): Promise<Buffer> {
  try {
    return await readFile(filePath);
  } catch (err) {
    throw new Error(`${variable}: cannot read ${filePath}: ${(err as Error).message}`, { cause: err });
  }
}
