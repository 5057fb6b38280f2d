// `npm run worker -- --queues control,cpu`: a worker alone, against TEMPORAL_ADDRESS.
import { parseArgs } from 'node:util';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/log';
import { connectionOptions } from '../shared/temporal';
import { createWorkers, installTemporalRuntime } from './worker';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { queues: { type: 'string' } } });
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'worker');
  installTemporalRuntime(log);
  const { options, namespace } = connectionOptions(config);
  const connection = await NativeConnection.connect(options);
  const queues = values.queues?.split(',').map((q) => q.trim()).filter(Boolean);
  const workers = await createWorkers({ config, connection, namespace, log, queues });
  const stop = () => {
    log.info('stopping: running scripts get %d s to finish', config.worker.shutdownGraceMs / 1000);
    void workers.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await workers.run();
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
