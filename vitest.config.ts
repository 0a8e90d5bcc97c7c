import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

/**
 * Two projects: the server, jobs and scripts run in Node against real Redis and the dev MongoDB
 * server (global set-up starts them); the console's components and stores run in happy-dom.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'server',
          include: ['{config,src,jobs,scripts}/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'dist/**', 'src/console/**', '**/*.cluster.test.ts'],
          globalSetup: ['src/testing/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        // A representative set of the queue-touching tests again, on a real Redis Cluster of three
        // masters and three replicas (docs/scale.md, "Tests on a real cluster").
        test: {
          name: 'cluster',
          include: [
            '**/*.cluster.test.ts',
            'jobs/e2e/customers.e2e.test.ts',
            'jobs/e2e/tasks.e2e.test.ts',
            'jobs/inbound-partitions.test.ts',
            'src/wecom/token-cache.test.ts',
          ],
          exclude: ['**/node_modules/**', 'dist/**', 'src/console/**'],
          globalSetup: ['src/testing/global-setup.cluster.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        plugins: [vue()],
        test: {
          name: 'console',
          include: ['src/console/src/**/*.test.ts'],
          environment: 'happy-dom',
          testTimeout: 15_000,
        },
      },
    ],
  },
});
