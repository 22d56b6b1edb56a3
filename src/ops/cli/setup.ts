import { isGrpcServiceError, type Connection } from '@temporalio/client';
// The SDK's own SearchAttributeType → proto IndexedValueType mapping. Not re-exported from the
// package index; importing it keeps @temporalio/proto (not a direct dependency) out of our imports.
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { loadConfig } from '../../platform/config';
import { HOLDPOINT_SEARCH_ATTRIBUTES } from '../../shared/search-attributes';
import { connectToTemporal } from '../../platform/temporal-connection';
import { UsageError, type Command } from './dispatch';

export interface SearchAttributeRegistration {
  /** Registered by this call. */
  added: string[];
  /** Already registered with the right type. */
  existing: string[];
}

/** gRPC status code; @grpc/grpc-js is not a direct dependency. */
const GRPC_ALREADY_EXISTS = 6;

const USAGE = `usage: holdpoint setup

Registers Holdpoint's custom search attributes (${HOLDPOINT_SEARCH_ATTRIBUTES.map((key) => key.name).join(', ')})
in TEMPORAL_NAMESPACE on the cluster at TEMPORAL_ADDRESS. Safe to run again: only missing
attributes are added.
`;

/**
 * Registers the search attributes operators filter on in the Temporal Web UI. Idempotent: lists
 * first and adds only what is missing; an attribute registered with another type is an error,
 * since changing it would need a remove that drops the indexed values.
 */
export async function registerSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<SearchAttributeRegistration> {
  const wanted = HOLDPOINT_SEARCH_ATTRIBUTES.map((key) => ({ name: key.name, type: key.type, indexedType: indexedValueType(key.type) }));

  for (let attempt = 1; ; attempt++) {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const mismatched = wanted.filter(({ name, indexedType }) => name in customAttributes && customAttributes[name] !== indexedType);
    if (mismatched.length > 0) {
      const names = mismatched.map(({ name, type }) => `${name} (want ${type})`).join(', ');
      throw new Error(`search attributes already registered in namespace ${namespace} with another type: ${names}`);
    }

    const missing = wanted.filter(({ name }) => !(name in customAttributes));
    const existing = wanted.filter(({ name }) => name in customAttributes).map(({ name }) => name);
    if (missing.length === 0) return { added: [], existing };
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map(({ name, indexedType }) => [name, indexedType])),
      });
      return { added: missing.map(({ name }) => name), existing };
    } catch (err) {
      // Another setup run added some between our list and add: list again, once.
      const raced = isGrpcServiceError(err) && err.code === GRPC_ALREADY_EXISTS;
      if (!raced || attempt > 1) throw err;
    }
  }
}

/** `holdpoint setup`: 0 done, 1 failed, 2 bad usage or configuration. */
export const setup: Command = {
  usage: USAGE,
  async run(argv, io) {
    if (argv.length > 0) throw new UsageError(`unexpected argument ${argv[0]}: setup takes no arguments`);
    const stdout = io.stdout ?? process.stdout;
    const config = loadConfig(io.env ?? process.env);
    const { namespace } = config.temporal;
    let connection: Connection | undefined;
    try {
      connection = await connectToTemporal(config);
      const { added, existing } = await registerSearchAttributes(connection, namespace);
      for (const name of added) stdout.write(`added search attribute ${name} in namespace ${namespace}\n`);
      for (const name of existing) stdout.write(`search attribute ${name} already registered in namespace ${namespace}\n`);
      return 0;
    } catch (err) {
      (io.stderr ?? process.stderr).write(`holdpoint setup failed: ${(err as Error).message}\n`);
      return 1;
    } finally {
      await connection?.close();
    }
  },
};

export function indexedValueType(type: (typeof HOLDPOINT_SEARCH_ATTRIBUTES)[number]['type']) {
  const indexedType = encodeSearchAttributeIndexedValueType(type);
  if (indexedType === undefined) throw new Error(`no indexed value type for search attribute type ${type}`);
  return indexedType;
}
