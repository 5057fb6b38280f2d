#!/usr/bin/env node
'use strict';
// The image's HEALTHCHECK: /readyz of the role this container runs — the API's port when it
// listens (`api`, `all`), else the worker's probe port (`worker`). Exit 0 when ready, 1 when not.
const http = require('node:http');

const ports = [process.env.API_PORT || '8001', process.env.WORKER_HEALTH_PORT || '8081'];

function ready(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/readyz', timeout: 4000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? 'ready' : 'not ready');
    });
    req.on('timeout', () => req.destroy());
    req.on('error', (err) => resolve(err.code === 'ECONNREFUSED' ? 'absent' : 'not ready'));
  });
}

(async () => {
  for (const port of ports) {
    const state = await ready(port);
    if (state === 'absent') continue; // not this role's port
    process.exit(state === 'ready' ? 0 : 1);
  }
  process.exit(1);
})();
