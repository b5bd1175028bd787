import { defineConfig } from 'vitest/config';

// Two projects: unit tests are pure and fast; integration tests drive the live Compose
// stack and run one file at a time because they share ports 8081-8084, 9090 and 3000.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'test/unit/**/*.test.ts',
            'services/region/test/**/*.test.ts',
            'services/fault-proxy/test/**/*.test.ts',
            'examples/*/test/**/*.test.ts',
          ],
          environment: 'node',
        },
      },
      {
        // Headless Chromium against report.html; its own project so the browser does not
        // compete with the timing-sensitive unit tests for the 2 cores.
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
          globalSetup: ['test/integration/global-setup.ts'],
        },
      },
    ],
  },
});
