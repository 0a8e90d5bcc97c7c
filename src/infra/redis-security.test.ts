import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../testing/redis-server.js';
import { createLogger } from './logger.js';
import { createRedis, redactUrl, securityOptions, waitForRedis } from './redis.js';

const logger = createLogger({ level: 'silent', name: 'test' });
const PASSWORD = 'p'.repeat(32);
let server: PrivateRedis;

beforeAll(async () => {
  server = await startPrivateRedis({ password: PASSWORD });
});
afterAll(async () => {
  await server.stop();
});

describe('Redis AUTH and TLS', () => {
  it('authenticates with REDIS_PASSWORD, or with the password in the URL', async () => {
    const viaSetting = createRedis({ url: server.url, role: 'producer', logger, password: PASSWORD });
    const viaUrl = createRedis({ url: `redis://:${PASSWORD}@127.0.0.1:${server.port}`, role: 'producer', logger });
    try {
      await Promise.all([waitForRedis(viaSetting, server.url, 5000), waitForRedis(viaUrl, server.url, 5000)]);
      expect(await viaSetting.ping()).toBe('PONG');
      expect(await viaUrl.ping()).toBe('PONG');
    } finally {
      viaSetting.disconnect();
      viaUrl.disconnect();
    }
  });

  it('is refused without the password', async () => {
    const anonymous = createRedis({ url: server.url, role: 'producer', logger, lazyConnect: true });
    try {
      await anonymous.connect().catch(() => undefined);
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH|Stream isn't writeable|Connection is closed/);
    } finally {
      anonymous.disconnect();
    }
  });

  it('verifies the server certificate for rediss:// against the configured CA, and keeps a URL password', () => {
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n');
    expect(securityOptions('rediss://redis.internal:6380', PASSWORD, ca)).toEqual({
      password: PASSWORD,
      tls: { rejectUnauthorized: true, ca, servername: 'redis.internal' },
    });
    expect(securityOptions('rediss://:inurl@redis.internal:6380', PASSWORD, undefined)).toEqual({
      tls: { rejectUnauthorized: true, servername: 'redis.internal' },
    });
    expect(securityOptions('redis://127.0.0.1:6379', undefined, undefined)).toEqual({});
  });

  it('carries AUTH, TLS and the role options to every node of a cluster connection', () => {
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n');
    const url = 'rediss://redis-0.internal:7000,rediss://redis-1.internal:7001';
    const worker = createRedis({
      url,
      mode: 'cluster',
      role: 'worker',
      logger,
      lazyConnect: true,
      password: PASSWORD,
      tlsCa: ca,
    }) as unknown as Cluster;
    const producer = createRedis({
      url,
      mode: 'cluster',
      role: 'producer',
      logger,
      lazyConnect: true,
    }) as unknown as Cluster;
    try {
      expect(worker.isCluster).toBe(true);
      expect(worker.options.redisOptions).toMatchObject({
        password: PASSWORD,
        maxRetriesPerRequest: null,
        tls: { rejectUnauthorized: true, ca, servername: 'redis-0.internal' },
      });
      expect(worker.options.enableOfflineQueue).toBe(true);
      expect(producer.options.enableOfflineQueue).toBe(false);
      expect(producer.options.redisOptions).toMatchObject({ maxRetriesPerRequest: 1, commandTimeout: 2000 });
      expect(redactUrl('redis://:secret@10.0.0.1:7000,redis://:secret@10.0.0.2:7000')).toBe(
        'redis://:***@10.0.0.1:7000,redis://:***@10.0.0.2:7000',
      );
    } finally {
      worker.disconnect();
      producer.disconnect();
    }
  });
});
