import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // The files of a fork share its modules: each file importing the stack anew cost ~3 s here
    // (~45 s of the suite). So a file must leave no state behind: a setter it calls is reset in
    // its afterAll, a promise it does not await has its rejection caught.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: the server, the workers and the script processes already keep both busy.
    maxWorkers: 2,
  },
});
