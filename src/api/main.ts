// `npm run api`: the HTTP facade alone, against TEMPORAL_ADDRESS.
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/log';
import { apiConnectionOptions, connectionOptions } from '../shared/temporal';
import { startOrphanSweeper } from './orphans';
import { listen } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'api');
  if (!config.godPasswordSha256) log.warn('GOD_PASSWORD_SHA256 is not set: every /jobs route answers 401');
  const { options, namespace } = connectionOptions(config);
  const connection = await Connection.connect(apiConnectionOptions(options));
  const client = new Client({ connection, namespace });
  const server = await listen({ config, client, log });
  const orphans = startOrphanSweeper({ sharePath: config.sharePath, client, log });
  const stop = async () => {
    orphans.stop();
    await server.close();
    await connection.close();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
