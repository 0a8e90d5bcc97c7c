import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{config,src,jobs,scripts}/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', 'src/console/**/e2e/**'],
    globalSetup: ['src/testing/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
