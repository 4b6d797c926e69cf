import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Stops the run before any test when no browser is found (test/e2e/browser.ts).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn CLIs and servers; two cores here.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
