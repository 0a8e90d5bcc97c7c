import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataCipher } from '../../infra/data-crypto.js';
import { testRedisUrl, uniqueName } from '../../testing/env.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { CorpModel } from '../corps/corp.model.js';
import { CustomerModel } from '../customers/customer.model.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { corpSecretContext, countStale, rotateKeys } from './key-rotation.service.js';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
const prefix = uniqueName('rot');
const k1 = randomBytes(32);
const k2 = randomBytes(32);
const oldCipher = new DataCipher(new Map([['k1', k1]]), 'k1');
const newCipher = new DataCipher(new Map([['k1', k1], ['k2', k2]]), 'k2');

beforeAll(async () => {
  db = await useTestDatabase('rotation');
});
afterAll(async () => {
  for (const key of await redis.keys(`${prefix}*`)) await redis.del(key);
  redis.disconnect();
  await db.drop();
});

describe('key rotation', () => {
  it('re-encrypts personal data and corp secrets under the new key, resumes after an interruption, and old values decrypt meanwhile', async () => {
    for (let i = 0; i < 5; i++) {
      const c = await CustomerModel.create({ corpId: 'wwrot', externalUserId: `wmRot${i}`, nameEnc: oldCipher.encrypt(`客户${i}`), birthdayEnc: oldCipher.encrypt('07-14') });
      await RelationshipModel.create({ corpId: 'wwrot', userid: 'zhangwei', externalUserId: `wmRot${i}`, customerId: c._id, remarkEnc: oldCipher.encrypt(`备注${i}`), remarkMobilesEnc: [oldCipher.encrypt('13800000000'), newCipher.encrypt('13900000000')] });
    }
    await CorpModel.create({ corpId: 'wwrot', kind: 'dealer', displayName: 'rot', agentId: 1, secretSealed: oldCipher.encrypt('s3cret'), callbackTokenSealed: oldCipher.encrypt('tok'), callbackAesKeySealed: oldCipher.encrypt('a'.repeat(43)), timezone: 'Asia/Shanghai' });
    expect((await countStale(newCipher)).customers).toEqual({ k1: 10 });

    const partial = await rotateKeys({ cipher: newCipher, redis, prefix, batchSize: 2, maxBatches: 2 });
    expect(partial[0]).toMatchObject({ collection: 'customers', rotated: 4, done: false });
    // Mixed state: both keys decrypt.
    const names = (await CustomerModel.find({ corpId: 'wwrot' }).sort({ _id: 1 }).lean()).map((c) => newCipher.decrypt(c.nameEnc ?? ''));
    expect(names).toEqual(['客户0', '客户1', '客户2', '客户3', '客户4']);

    const progress: string[] = [];
    const rest = await rotateKeys({ cipher: newCipher, redis, prefix, batchSize: 2, onProgress: (p) => progress.push(p.collection) });
    expect(rest.map((r) => [r.collection, r.rotated, r.done])).toEqual([['customers', 1, true], ['relationships', 5, true], ['corps', 1, true]]);
    expect(progress.length).toBeGreaterThan(3);
    expect(await countStale(newCipher)).toEqual({ customers: {}, relationships: {}, corps: {} });
    const rel = await RelationshipModel.findOne({ externalUserId: 'wmRot3' }).lean();
    expect(rel?.remarkMobilesEnc.map((v) => newCipher.decrypt(v))).toEqual(['13800000000', '13900000000']);
    const corp = await CorpModel.findOne({ corpId: 'wwrot' }).lean();
    expect(newCipher.decrypt(corp?.secretSealed ?? '', corpSecretContext('wwrot', 'secretSealed'))).toBe('s3cret');
    // Corp secrets now carry their context (v2): moved to another corp or field, they do not open.
    expect(corp?.secretSealed.startsWith('v2.k2.')).toBe(true);
    expect(() => newCipher.decrypt(corp?.secretSealed ?? '', corpSecretContext('wwother', 'secretSealed'))).toThrow(/failed authentication/);
    expect(() => newCipher.decrypt(corp?.secretSealed ?? '', corpSecretContext('wwrot', 'callbackTokenSealed'))).toThrow(/failed authentication/);

    const again = await rotateKeys({ cipher: newCipher, redis, prefix, restart: true });
    expect(again.every((r) => r.rotated === 0)).toBe(true); // idempotent
  });

  it('moves corp secrets of the current key from v1 (no context) to v2, reading v1 meanwhile', async () => {
    const cipher = new DataCipher(new Map([['k2', k2]]), 'k2');
    await CorpModel.create({ corpId: 'wwv1', kind: 'dealer', displayName: 'v1', agentId: 1, secretSealed: cipher.encrypt('legacy'), callbackTokenSealed: cipher.encrypt('tok'), callbackAesKeySealed: cipher.encrypt('a'.repeat(43)), timezone: 'Asia/Shanghai' });
    expect((await countStale(cipher)).corps).toEqual({ 'k2 (v1, no context)': 3 });
    const before = await CorpModel.findOne({ corpId: 'wwv1' }).lean();
    expect(cipher.decrypt(before?.secretSealed ?? '', corpSecretContext('wwv1', 'secretSealed'))).toBe('legacy');
    const result = await rotateKeys({ cipher, restart: true });
    expect(result.find((r) => r.collection === 'corps')?.rotated).toBe(1);
    const after = await CorpModel.findOne({ corpId: 'wwv1' }).lean();
    expect(after?.callbackTokenSealed.startsWith('v2.k2.')).toBe(true);
    expect(cipher.decrypt(after?.callbackTokenSealed ?? '', corpSecretContext('wwv1', 'callbackTokenSealed'))).toBe('tok');
    expect((await countStale(cipher)).corps).toEqual({});
  });
});
