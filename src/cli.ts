// The container image's entry point, one role per container:
//   node --import tsx src/cli.ts api                  the HTTP API
//   node --import tsx src/cli.ts worker [--queues q]  a worker (WORKER_QUEUES by default)
//   node --import tsx src/cli.ts all                  API and a worker of every queue in one process
// Each role runs against TEMPORAL_ADDRESS, TLS and API keys as Temporal's tools read them (the
// embedded dev server is `npm start`'s alone).
import { runApi } from './api/main';
import { runAll } from './main';
import { loadConfig } from './shared/config';
import { runWorker } from './worker/main';

const USAGE = 'usage: pixyz-scheduler api | worker [--queues control,cpu,share] | all';

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const [role, ...args] = process.argv.slice(2);
const crash = (err: unknown) => {
  console.error(err);
  process.exit(1);
};
switch (role) {
  case 'api':
    runApi().catch(crash);
    break;
  case 'worker':
    runWorker(args).catch(crash);
    break;
  case 'all':
    // Without a server named, the whole scheduler would start the embedded dev server: npm start's.
    if (!loadConfig().temporal.address) fail("the 'all' role runs against a Temporal server: set TEMPORAL_ADDRESS (host:port)");
    runAll({ generateKey: false });
    break;
  default:
    fail(role ? `unknown role '${role}'` : 'no role given');
}
