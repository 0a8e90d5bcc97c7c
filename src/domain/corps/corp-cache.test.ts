import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataCipher } from '../../infra/data-crypto.js';
import { createLogger } from '../../infra/logger.js';
import { createRedis } from '../../infra/redis.js';
import { generateEncodingAesKey } from '../../wecom/callback-crypto.js';
import { testConfig, testMongoUri } from '../../testing/env.js';
import { waitFor } from '../../testing/wait.js';
import { CorpCache, corpsSnapshotKey } from './corp-cache.js';
import { CorpModel } from './corp.model.js';
import { CorpService } from './corp.service.js';
import { applyCorpsFile } from './corps-file.js';

const config = testConfig();
const logger = createLogger({ level: 'silent', name: 'test' });
const redis = createRedis({ url: config.redis.url, role: 'producer', logger });
const subscriber = createRedis({ url: config.redis.url, role: 'subscriber', logger });
const cipher = new DataCipher(config.dataKeys.keys, config.dataKeys.activeId);
const prefix = config.redis.queuePrefix;
const service = new CorpService({ cipher, defaultTimezone: 'Asia/Shanghai', redis, prefix });
const aesKey = generateEncodingAesKey();
const input = {
  corpId: 'wwcache0001',
  displayName: 'Dealer A',
  agentId: 1000002,
  secret: 'SECRET-do-not-leak',
  callbackToken: 'Tok123',
  callbackAesKey: aesKey,
};
let cache: CorpCache;

beforeAll(async () => {
  await mongoose.connect(testMongoUri(), { serverSelectionTimeoutMS: 3000 });
  await CorpModel.init();
});
afterAll(async () => {
  cache?.stop();
  await redis.del(corpsSnapshotKey(prefix));
  redis.disconnect();
  subscriber.disconnect();
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
});

describe('corps', () => {
  it('stores secrets sealed and never returns them in summaries', async () => {
    expect(await service.upsert(input)).toEqual({ corpId: 'wwcache0001', created: true, changed: true });
    expect(await service.upsert(input)).toEqual({ corpId: 'wwcache0001', created: false, changed: false });
    const raw = JSON.stringify(await CorpModel.findOne({ corpId: 'wwcache0001' }).lean());
    for (const secret of ['SECRET-do-not-leak', 'Tok123', aesKey]) expect(raw).not.toContain(secret);
    const list = await service.list();
    expect(list).toEqual([
      {
        corpId: 'wwcache0001',
        kind: 'dealer',
        displayName: 'Dealer A',
        agentId: 1000002,
        timezone: 'Asia/Shanghai',
        enabled: true,
        hasContactSync: false,
      },
    ]);
    await expect(service.upsert({ ...input, callbackAesKey: 'short' })).rejects.toThrow(/EncodingAESKey/);
  });

  it('caches corps, follows changes through pub/sub, and starts from the Redis snapshot without MongoDB', async () => {
    cache = await new CorpCache({
      source: service,
      redis,
      subscriber,
      cipher,
      prefix,
      refreshMs: 60_000,
      logger,
    }).start();
    expect(cache.get('wwcache0001')).toMatchObject({
      secret: 'SECRET-do-not-leak',
      callback: { token: 'Tok123', encodingAesKey: aesKey },
      enabled: true,
    });
    await service.disable('wwcache0001');
    await waitFor(() => cache.get('wwcache0001')?.enabled === false, 'disable to reach the cache');
    expect(await redis.get(corpsSnapshotKey(prefix))).not.toContain('SECRET');

    const offline = await new CorpCache({
      source: service,
      sourceReady: () => false,
      redis,
      cipher,
      prefix,
      refreshMs: 60_000,
      logger,
    }).start();
    offline.stop();
    expect(offline.status()).toMatchObject({ loaded: true, count: 1, source: 'snapshot' });
    expect(offline.get('wwcache0001')?.callback.token).toBe('Tok123');
  });

  it('applies a corps file idempotently', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'corps-')), 'corps.json');
    writeFileSync(
      file,
      JSON.stringify([
        {
          ...input,
          corpId: 'wwfile0001',
          kind: 'oem',
          contactSyncToken: 'Sync1',
          contactSyncAesKey: generateEncodingAesKey(),
        },
      ]),
    );
    expect(await applyCorpsFile(file, service, logger)).toEqual({ created: 1, updated: 0, unchanged: 0 });
    expect(await applyCorpsFile(file, service, logger)).toEqual({ created: 0, updated: 0, unchanged: 1 });
    writeFileSync(file, JSON.stringify([{ corpId: 'bad id!' }]));
    await expect(applyCorpsFile(file, service, logger)).rejects.toThrow(/CORPS_FILE .* is invalid/);
  });
});
