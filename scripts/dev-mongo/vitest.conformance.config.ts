import { defineConfig } from 'vitest/config';

/** `npm run test:mongo-conformance`: only the conformance files; MONGODB_URI selects a real server. */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['scripts/dev-mongo/conformance/**/*.conformance.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
