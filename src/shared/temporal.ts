import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { temporal } from '@temporalio/proto';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from './config';
import { SEARCH_ATTRIBUTES } from './search-attributes';

/**
 * Connection settings the way Temporal's own tools read them (TEMPORAL_ADDRESS, TLS, API key,
 * profiles from temporal.toml), with `address` overriding when we run the embedded server.
 */
export function connectionOptions(config: Config, address?: string): { options: NativeConnectionOptions; namespace: string } {
  const loaded = loadClientConnectConfig();
  const options = { ...loaded.connectionOptions };
  if (address) options.address = address;
  else if (config.temporal.address) options.address = config.temporal.address;
  return { options, namespace: config.temporal.namespace || loaded.namespace || 'default' };
}

/**
 * The API's connection: calls that fail for want of a server are tried 3 times in ~0.5 s, not
 * 10 times over ~20 s (the client's default), so that a request answers 503 at once while
 * Temporal is away instead of hanging, and the connection comes back within a second of it.
 */
export function apiConnectionOptions(options: NativeConnectionOptions): ConnectionOptions {
  return {
    ...(options as ConnectionOptions),
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 3 }))],
    // Once Temporal is back, the connection is too within a second (gRPC's own backoff grows to 2 min).
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1000 },
  };
}

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

/** Registers the project's search attributes where they are missing (idempotent). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.map((k) => k.name).filter((name) => !(customAttributes && name in customAttributes));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
    });
  }
  return missing;
}

/** Keeps closed workflows (and so finished jobs) answerable for `seconds`. */
export async function setRetention(connection: Connection, namespace: string, seconds: number): Promise<void> {
  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(Math.round(seconds) * 1000) },
  });
}

/** Connects, retrying until `deadline` (ms since epoch): a server just started needs a moment. */
export async function connectWithRetry(address: string, deadlineMs: number): Promise<Connection> {
  let lastError: unknown;
  while (Date.now() < deadlineMs) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2s' });
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`Temporal at ${address} did not answer in time: ${(lastError as Error)?.message}`);
}
