// `npm run worker -- --queues control,cpu` (and the image's `worker` role): a worker alone,
// against TEMPORAL_ADDRESS, with /livez and /readyz on WORKER_HEALTH_PORT when it is set.
import { parseArgs } from 'node:util';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig, withDotEnv } from '../shared/config';
import { startHealthServer } from '../shared/health';
import { jobMetricsRegistry } from '../shared/job-metrics';
import { createLogger } from '../shared/log';
import { SHARE_QUEUE } from '../shared/queues';
import { connectionOptions } from '../shared/temporal';
import { createWorkers, installTemporalRuntime } from './worker';

export async function runWorker(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { queues: { type: 'string' } } });
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
  const health = config.worker.healthPort === undefined ? undefined : await startHealthServer(config.worker.healthPort, '0.0.0.0', workers.readiness, jobMetricsRegistry);
  if (health) log.info(`probes on :${health.port}/livez and /readyz, job metrics on /metrics`);
  // A deploy's SIGTERM (or Ctrl-C): stop polling, let running scripts finish within the grace,
  // then hand the rest back to Temporal, which runs them again on another worker.
  const stop = (signal: string) => {
    log.info(`${signal}: stopping (running scripts get ${config.worker.shutdownGraceMs / 1000} s to finish)`);
    void workers.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await workers.run();
  await health?.close();
  await connection.close();
  log.info('stopped');
}

if (require.main === module) {
  runWorker(process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
