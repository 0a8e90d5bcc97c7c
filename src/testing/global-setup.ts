import type { TestProject } from 'vitest/node';
import { startPrivateRedisCluster } from './redis-cluster.js';
import { startPrivateRedis, type PrivateRedis } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Redis every test file may use (its own key prefixes / queue names). */
    redisUrl: string;
    /** standalone, or cluster: redisUrl then lists the seed nodes of a Redis Cluster. */
    redisMode: 'standalone' | 'cluster';
    /** MongoDB base URI without a database; each test file picks its own database. */
    mongoUri: string;
  }
}

/**
 * Starts what the suite needs once: `REDIS_URL` or a private redis-server, and `MONGODB_URI`
 * or the project's dev MongoDB server (docs/architecture.md §8). Test files read them with `inject()`.
 * With TEST_REDIS_MODE=cluster (or `redisMode: 'cluster'`, the cluster test project) Redis is a
 * private Redis Cluster of three masters and three replicas instead (docs/scale.md).
 */
export default async function setup(
  project: TestProject,
  redisMode: 'standalone' | 'cluster' = process.env.TEST_REDIS_MODE === 'cluster' ? 'cluster' : 'standalone',
): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];

  let redisUrl: string;
  if (redisMode === 'cluster') {
    const cluster = await startPrivateRedisCluster();
    stops.push(() => cluster.stop());
    redisUrl = cluster.url;
  } else if (process.env.REDIS_URL) {
    redisUrl = process.env.REDIS_URL;
  } else {
    const redis: PrivateRedis = await startPrivateRedis();
    stops.push(() => redis.stop());
    redisUrl = redis.url;
  }

  let mongoUri: string;
  if (process.env.MONGODB_URI) {
    mongoUri = process.env.MONGODB_URI;
  } else {
    const { startDevMongo } = await import('../../scripts/dev-mongo/index.js');
    const mongo = await startDevMongo({ port: 0 });
    stops.push(() => mongo.stop());
    mongoUri = mongo.uri;
  }

  project.provide('redisUrl', redisUrl);
  project.provide('redisMode', redisMode);
  project.provide('mongoUri', stripDatabase(mongoUri));
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}

/** `mongodb://h:p/db?x` → `mongodb://h:p/?x` so each file can add its own database name. */
function stripDatabase(uri: string): string {
  const url = new URL(uri);
  url.pathname = '/';
  return url.toString();
}
