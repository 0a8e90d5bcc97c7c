import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../testing/redis-server.js';
import { createLogger } from './logger.js';
import { createRedis, securityOptions, waitForRedis } from './redis.js';

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
    expect(securityOptions('rediss://redis.internal:6380', PASSWORD, ca)).toEqual({ password: PASSWORD, tls: { rejectUnauthorized: true, ca, servername: 'redis.internal' } });
    expect(securityOptions('rediss://:inurl@redis.internal:6380', PASSWORD, undefined)).toEqual({ tls: { rejectUnauthorized: true, servername: 'redis.internal' } });
    expect(securityOptions('redis://127.0.0.1:6379', undefined, undefined)).toEqual({});
  });
});
