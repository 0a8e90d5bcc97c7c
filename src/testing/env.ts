import { randomBytes } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { inject } from 'vitest';
import { loadConfig, type AppConfig } from '../../config/index.js';

/** A random name safe for queue prefixes, key prefixes and database names. */
export function uniqueName(label: string): string {
  return `${label}-${randomBytes(5).toString('hex')}`;
}

export function testRedisUrl(): string {
  return inject('redisUrl');
}

/** standalone, or cluster when the suite runs on a Redis Cluster (TEST_REDIS_MODE=cluster, docs/scale.md). */
export function testRedisMode(): 'standalone' | 'cluster' {
  return inject('redisMode') === 'cluster' ? 'cluster' : 'standalone';
}

/**
 * A plain connection to the suite's Redis for test code: a `Redis`, or on the cluster a
 * `Cluster` typed as one (what createRedis does for the bot's own connections).
 */
export function testRedis(options: RedisOptions = {}): Redis {
  const url = testRedisUrl();
  if (testRedisMode() !== 'cluster') return new Redis(url, options);
  const nodes = url.split(',').map((seed) => ({ host: new URL(seed).hostname, port: Number(new URL(seed).port) }));
  const { enableOfflineQueue, lazyConnect, ...perNode } = options;
  return new Cluster(nodes, {
    redisOptions: perNode,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
  }) as unknown as Redis;
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
    REDIS_MODE: testRedisMode(),
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
