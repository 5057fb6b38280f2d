// `npm run worker -- --queues control,cpu`: a worker alone, against TEMPORAL_ADDRESS.
import { parseArgs } from 'node:util';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig, withDotEnv } from '../shared/config';
import { createLogger } from '../shared/log';
import { SHARE_QUEUE } from '../shared/queues';
import { connectionOptions } from '../shared/temporal';
import { createWorkers, installTemporalRuntime } from './worker';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { queues: { type: 'string' } } });
  // --queues overrides WORKER_QUEUES, validated the same way.
  const config = loadConfig(values.queues ? { ...withDotEnv(), WORKER_QUEUES: values.queues } : undefined);
  const log = createLogger(config.logLevel, 'worker');
  installTemporalRuntime(log, config.worker.metricsAddress);
  const { options, namespace } = connectionOptions(config);
  const connection = await NativeConnection.connect(options);
  if (!config.worker.queues.includes(SHARE_QUEUE)) {
    log.warn(`this worker does not serve the '${SHARE_QUEUE}' queue (preparing and zipping job directories): make sure another worker that sees SHARE_PATH does`);
  }
  const workers = await createWorkers({ config, connection, namespace, log });
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
