import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';
import { withTimeout } from './timeout.js';

/**
 * `producer`: web requests and queue producers; fails fast when Redis is away (BullMQ's advice:
 * enableOfflineQueue false) so a callback can fall back to the spool instead of hanging.
 * `worker`: BullMQ workers and blocking commands; waits forever (maxRetriesPerRequest null).
 * `subscriber`: pub/sub listeners; reconnects forever, never times out a command.
 */
export type RedisRole = 'producer' | 'worker' | 'subscriber';

/** REDIS_MODE: one Redis (default) or a Redis Cluster reached through seed nodes (docs/scale.md). */
export type RedisMode = 'standalone' | 'cluster';

export interface RedisSettings {
  /** One URL; in cluster mode a comma-separated list of seed nodes (any of them suffices). */
  url: string;
  /** Default standalone. */
  mode?: RedisMode;
  role: RedisRole;
  logger: Logger;
  /** Shown in logs to tell connections apart. */
  connectionName?: string;
  lazyConnect?: boolean;
  /** REDIS_PASSWORD: Redis AUTH, unless the URL carries a password itself. */
  password?: string;
  /** REDIS_TLS_CA_FILE's content: the CA to trust for a rediss:// URL (the system CAs otherwise). */
  tlsCa?: Buffer;
}

/**
 * The settings of every connection from config beyond its URL: the mode (standalone or cluster,
 * docs/scale.md) and AUTH and TLS (docs/security.md, "Data at rest and in transit").
 */
export function redisSecurity(config: {
  redis: { password: string | undefined; tlsCa: Buffer | undefined; mode?: RedisMode };
}): { password?: string; tlsCa?: Buffer; mode?: RedisMode } {
  return {
    ...(config.redis.password ? { password: config.redis.password } : {}),
    ...(config.redis.tlsCa ? { tlsCa: config.redis.tlsCa } : {}),
    ...(config.redis.mode === 'cluster' ? { mode: 'cluster' as const } : {}),
  };
}

/** The URLs of REDIS_URL: one in standalone mode, the seed nodes in cluster mode. */
export function redisUrls(url: string): string[] {
  return url
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/**
 * The connection options beyond the role's: AUTH from REDIS_PASSWORD when the URL names none,
 * and for `rediss://` TLS with certificate verification (against REDIS_TLS_CA_FILE when given).
 */
export function securityOptions(url: string, password: string | undefined, tlsCa: Buffer | undefined): RedisOptions {
  const options: RedisOptions = {};
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (password && !parsed?.password) options.password = password;
  if (parsed?.protocol === 'rediss:')
    options.tls = {
      rejectUnauthorized: true,
      ...(tlsCa ? { ca: tlsCa } : {}),
      ...(parsed.hostname ? { servername: parsed.hostname } : {}),
    };
  return options;
}

const roleOptions: Record<RedisRole, RedisOptions> = {
  producer: { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000 },
  worker: { enableOfflineQueue: true, maxRetriesPerRequest: null },
  subscriber: { enableOfflineQueue: true, maxRetriesPerRequest: null },
};

/** Capped exponential backoff; ioredis keeps retrying so the process heals when Redis returns. */
const backoff = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000);

/**
 * One place that opens Redis connections, each with an `error` listener (an unhandled one crashes).
 *
 * In cluster mode the result is an ioredis `Cluster` typed as `Redis`: the bot uses only commands
 * both share (keyed commands, EVAL/EVALSHA, MULTI on one slot, pub/sub, PING), BullMQ accepts
 * either, and every multi-key command and script keeps its keys in one hash slot (docs/scale.md,
 * "Hash slots"). The role's options go to every node connection (`redisOptions`), where BullMQ
 * reads `maxRetriesPerRequest` of a cluster.
 */
export function createRedis({
  url,
  mode,
  role,
  logger,
  connectionName,
  lazyConnect,
  password,
  tlsCa,
}: RedisSettings): Redis {
  const redis =
    mode === 'cluster'
      ? createCluster(redisUrls(url), role, connectionName ?? `scrm-${role}`, lazyConnect ?? false, password, tlsCa)
      : new Redis(url, {
          ...roleOptions[role],
          ...securityOptions(url, password, tlsCa),
          connectionName: connectionName ?? `scrm-${role}`,
          lazyConnect: lazyConnect ?? false,
          retryStrategy: backoff,
        });
  let lastErrorLog = 0;
  redis.on('error', (err: NodeJS.ErrnoException) => {
    const now = Date.now();
    if (now - lastErrorLog < 5000) return; // one line per 5 s, not one per retry
    lastErrorLog = now;
    logger.error({ redis: redactUrl(url), role, code: err.code, err: err.message }, 'redis connection error');
  });
  return redis;
}

function createCluster(
  urls: string[],
  role: RedisRole,
  connectionName: string,
  lazyConnect: boolean,
  password: string | undefined,
  tlsCa: Buffer | undefined,
): Redis {
  const first = urls[0] ?? '';
  const nodes = urls.map((seed) => {
    const parsed = new URL(seed);
    return { host: parsed.hostname, port: Number(parsed.port || 6379) };
  });
  const parsed = new URL(first);
  const auth: RedisOptions = {};
  if (parsed.username) auth.username = decodeURIComponent(parsed.username);
  if (parsed.password) auth.password = decodeURIComponent(parsed.password);
  const { enableOfflineQueue, ...perNode } = roleOptions[role];
  const options: ClusterOptions = {
    redisOptions: { ...perNode, ...auth, ...securityOptions(first, password, tlsCa), connectionName },
    enableOfflineQueue,
    lazyConnect,
    clusterRetryStrategy: backoff,
    // During a failover a slot answers MOVED/CLUSTERDOWN/TRYAGAIN for a few seconds; retry meanwhile.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    maxRedirections: 16,
    slotsRefreshTimeout: 2000,
    // TLS certificates name the host, not the address a node announces: keep the host for SNI.
    ...(parsed.protocol === 'rediss:'
      ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) }
      : {}),
  };
  return new Cluster(nodes, options) as unknown as Redis;
}

/** Resolves when the connection is ready, or rejects with a message naming where Redis was expected. */
export async function waitForRedis(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis at ${redactUrl(url)} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/** Answers whether Redis is reachable right now (for /readyz), bounded in time. */
export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  try {
    const answer = await withTimeout(redis.ping(), timeoutMs);
    return answer === 'PONG';
  } catch {
    return false;
  }
}

/**
 * BullMQ loses jobs silently if Redis evicts keys. Production refuses to start unless
 * `maxmemory-policy` is `noeviction`; elsewhere it warns loudly.
 */
export async function checkEvictionPolicy(
  redis: Redis,
  logger: Logger,
  isProduction: boolean,
): Promise<string | undefined> {
  let policy: string | undefined;
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    policy = reply[1];
  } catch (err) {
    // Managed Redis services often forbid CONFIG; say so rather than guess.
    logger.warn({ err: (err as Error).message }, 'could not read Redis maxmemory-policy; make sure it is noeviction');
    return undefined;
  }
  if (policy !== 'noeviction') {
    const message = `Redis maxmemory-policy is "${policy}", must be "noeviction": an evicting Redis silently loses queued jobs and de-duplication marks`;
    if (isProduction) throw new Error(message);
    logger.warn({ alert: true, policy }, message);
  }
  return policy;
}

/**
 * A process entry's Redis start: waits briefly for Redis and checks its eviction policy. A wrong
 * policy is fatal in production; an unreachable Redis is logged with `whileAway` (what the process
 * does meanwhile) and the process starts anyway, because ioredis keeps reconnecting.
 */
export async function prepareRedisAtBoot(
  redis: Redis,
  url: string,
  logger: Logger,
  isProduction: boolean,
  whileAway: string,
): Promise<void> {
  try {
    await waitForRedis(redis, url, 5000);
    await checkEvictionPolicy(redis, logger, isProduction);
  } catch (err) {
    if (isProduction && redis.status === 'ready') throw err;
    logger.error({ redis: redactUrl(url), err: (err as Error).message }, `Redis unreachable at start; ${whileAway}`);
  }
}

export function redactUrl(url: string): string {
  if (url.includes(',')) return redisUrls(url).map(redactUrl).join(',');
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
