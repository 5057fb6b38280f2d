// `npm run api` (and the image's `api` role): the HTTP facade alone, against TEMPORAL_ADDRESS.
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/log';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import { apiConnectionOptions, connectionOptions, ensureSearchAttributes } from '../shared/temporal';
import { startOrphanSweeper } from './orphans';
import { listen } from './server';

export async function runApi(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'api');
  if (!config.godPasswordSha256) log.warn('GOD_PASSWORD_SHA256 is not set: every /jobs route answers 401');
  const { options, namespace } = connectionOptions(config);
  const connection = await Connection.connect(apiConnectionOptions(options));
  const client = new Client({ connection, namespace });
  // Each deployment's first API registers the job search attributes (an operator may have already).
  try {
    const added = await ensureSearchAttributes(connection, namespace);
    if (added.length) log.info(`registered search attributes ${added.join(', ')}`);
  } catch (err) {
    log.warn(`could not register search attributes (${(err as Error).message}); ask the cluster's operator to add ${SEARCH_ATTRIBUTES.map((k) => k.name).join(', ')} (Keyword)`);
  }
  const server = await listen({ config, client, log });
  const orphans = startOrphanSweeper({ sharePath: config.sharePath, client, log });
  const stop = async (signal: string) => {
    log.info(`${signal}: stopping`);
    orphans.stop();
    await server.close();
    await connection.close();
    log.info('stopped');
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

if (require.main === module) {
  runApi().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
