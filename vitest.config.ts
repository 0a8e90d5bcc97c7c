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
          exclude: ['**/node_modules/**', 'dist/**', 'src/console/**'],
          globalSetup: ['src/testing/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
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
