import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, type AppConfig } from '../../config/index.js';

/** A random name safe for queue prefixes, key prefixes and database names. */
export function uniqueName(label: string): string {
  return `${label}-${randomBytes(5).toString('hex')}`;
}

export function testRedisUrl(): string {
  return inject('redisUrl');
}

/** A MongoDB URI for a database of its own (a test file or a test). */
export function testMongoUri(database: string = uniqueName('t')): string {
  const url = new URL(inject('mongoUri'));
  url.pathname = `/${database.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return url.toString();
}

/** Environment variables for a process under test: fresh keys, private prefix and database. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    REDIS_URL: testRedisUrl(),
    QUEUE_PREFIX: uniqueName('q'),
    MONGODB_URI: testMongoUri(),
    MONGODB_SERVER_SELECTION_TIMEOUT_MS: '1000',
    DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOOKUP_HMAC_KEY: randomBytes(32).toString('base64'),
    ...overrides,
  };
}

/** A parsed config built from testEnv(). */
export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  return loadConfig(testEnv(overrides));
}
