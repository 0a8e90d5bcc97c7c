import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataCipher, LookupHasher } from '../../infra/data-crypto.js';
import { testRedisUrl, uniqueName } from '../../testing/env.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { CorpModel } from '../corps/corp.model.js';
import { CustomerModel } from '../customers/customer.model.js';
import { loadCustomerProfile } from '../customers/customer-profile.js';
import { customerCtx, PersonalData, relationshipCtx } from '../customers/personal-data.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { exportCustomer } from './export.service.js';
import { corpSecretContext, countStale, rotateKeys } from './key-rotation.service.js';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
const prefix = uniqueName('rot');
const k1 = randomBytes(32);
const k2 = randomBytes(32);
const oldCipher = new DataCipher(new Map([['k1', k1]]), 'k1');
const newCipher = new DataCipher(
  new Map([
    ['k1', k1],
    ['k2', k2],
  ]),
  'k2',
);

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
      const c = await CustomerModel.create({
        corpId: 'wwrot',
        externalUserId: `wmRot${i}`,
        nameEnc: oldCipher.encrypt(`客户${i}`),
        birthdayEnc: oldCipher.encrypt('07-14'),
      });
      await RelationshipModel.create({
        corpId: 'wwrot',
        userid: 'zhangwei',
        externalUserId: `wmRot${i}`,
        customerId: c._id,
        remarkEnc: oldCipher.encrypt(`备注${i}`),
        remarkMobilesEnc: [oldCipher.encrypt('13800000000'), newCipher.encrypt('13900000000')],
      });
    }
    await CorpModel.create({
      corpId: 'wwrot',
      kind: 'dealer',
      displayName: 'rot',
      agentId: 1,
      secretSealed: oldCipher.encrypt('s3cret'),
      callbackTokenSealed: oldCipher.encrypt('tok'),
      callbackAesKeySealed: oldCipher.encrypt('a'.repeat(43)),
      timezone: 'Asia/Shanghai',
    });
    expect((await countStale(newCipher)).customers).toEqual({ k1: 10 });

    const partial = await rotateKeys({ cipher: newCipher, redis, prefix, batchSize: 2, maxBatches: 2 });
    expect(partial[0]).toMatchObject({ collection: 'customers', rotated: 4, done: false });
    // Mixed state: both keys decrypt.
    const names = (await CustomerModel.find({ corpId: 'wwrot' }).sort({ _id: 1 }).lean()).map((c) =>
      newCipher.decrypt(c.nameEnc ?? '', customerCtx(c, 'nameEnc')),
    );
    expect(names).toEqual(['客户0', '客户1', '客户2', '客户3', '客户4']);

    const progress: string[] = [];
    const rest = await rotateKeys({
      cipher: newCipher,
      redis,
      prefix,
      batchSize: 2,
      onProgress: (p) => progress.push(p.collection),
    });
    expect(rest.map((r) => [r.collection, r.rotated, r.done])).toEqual([
      ['customers', 1, true],
      ['relationships', 5, true],
      ['leads', 0, true],
      ['corps', 1, true],
    ]);
    expect(progress.length).toBeGreaterThan(3);
    expect(await countStale(newCipher)).toEqual({ customers: {}, relationships: {}, leads: {}, corps: {} });
    const rel = await RelationshipModel.findOne({ externalUserId: 'wmRot3' }).lean();
    expect(
      rel?.remarkMobilesEnc.map((v) =>
        newCipher.decrypt(
          v,
          relationshipCtx({ corpId: 'wwrot', externalUserId: 'wmRot3', userid: 'zhangwei' }, 'remarkMobilesEnc'),
        ),
      ),
    ).toEqual(['13800000000', '13900000000']);
    // Personal data is now v2 too, bound to the customer / relationship (docs/security.md "Data at rest and in transit").
    expect(rel?.remarkEnc?.startsWith('v2.k2.')).toBe(true);
    expect(rel?.remarkMobilesEnc.every((v) => v.startsWith('v2.k2.'))).toBe(true);
    const corp = await CorpModel.findOne({ corpId: 'wwrot' }).lean();
    expect(newCipher.decrypt(corp?.secretSealed ?? '', corpSecretContext('wwrot', 'secretSealed'))).toBe('s3cret');
    // Corp secrets now carry their context (v2): moved to another corp or field, they do not open.
    expect(corp?.secretSealed.startsWith('v2.k2.')).toBe(true);
    expect(() => newCipher.decrypt(corp?.secretSealed ?? '', corpSecretContext('wwother', 'secretSealed'))).toThrow(
      /failed authentication/,
    );
    expect(() =>
      newCipher.decrypt(corp?.secretSealed ?? '', corpSecretContext('wwrot', 'callbackTokenSealed')),
    ).toThrow(/failed authentication/);

    const again = await rotateKeys({ cipher: newCipher, redis, prefix, restart: true });
    expect(again.every((r) => r.rotated === 0)).toBe(true); // idempotent
  });

  it('moves corp secrets of the current key from v1 (no context) to v2, reading v1 meanwhile', async () => {
    const cipher = new DataCipher(new Map([['k2', k2]]), 'k2');
    await CorpModel.create({
      corpId: 'wwv1',
      kind: 'dealer',
      displayName: 'v1',
      agentId: 1,
      secretSealed: cipher.encrypt('legacy'),
      callbackTokenSealed: cipher.encrypt('tok'),
      callbackAesKeySealed: cipher.encrypt('a'.repeat(43)),
      timezone: 'Asia/Shanghai',
    });
    expect((await countStale(cipher)).corps).toEqual({ 'k2 (v1, no context)': 3 });
    const before = await CorpModel.findOne({ corpId: 'wwv1' }).lean();
    expect(cipher.decrypt(before?.secretSealed ?? '', corpSecretContext('wwv1', 'secretSealed'))).toBe('legacy');
    const result = await rotateKeys({ cipher, restart: true });
    expect(result.find((r) => r.collection === 'corps')?.rotated).toBe(1);
    const after = await CorpModel.findOne({ corpId: 'wwv1' }).lean();
    expect(after?.callbackTokenSealed.startsWith('v2.k2.')).toBe(true);
    expect(cipher.decrypt(after?.callbackTokenSealed ?? '', corpSecretContext('wwv1', 'callbackTokenSealed'))).toBe(
      'tok',
    );
    expect((await countStale(cipher)).corps).toEqual({});
  });

  it('moves customer and relationship personal data from v1 to v2 bound to the natural key; profile and export read the same before and after', async () => {
    const cipher = new DataCipher(new Map([['k2', k2]]), 'k2');
    const pd = new PersonalData(cipher, new LookupHasher(randomBytes(32)));
    const corpId = 'wwpdv1';
    const c = await CustomerModel.create({
      corpId,
      externalUserId: 'wmPdV1',
      nameEnc: cipher.encrypt('测试客户乙'),
      unionidEnc: cipher.encrypt('oU-made-up'),
      birthdayEnc: cipher.encrypt('1990-02-03'),
      dmsNotesEnc: cipher.encrypt('made-up notes'),
      responsibleUserid: 'lina',
    });
    await RelationshipModel.create({
      corpId,
      userid: 'lina',
      externalUserId: 'wmPdV1',
      customerId: c._id,
      status: 'active',
      remarkEnc: cipher.encrypt('乙女士'),
      descriptionEnc: cipher.encrypt('made-up description'),
      remarkMobilesEnc: [cipher.encrypt('13700000001'), cipher.encrypt('13700000002')],
    });
    const readBoth = async () => {
      const profile = await loadCustomerProfile(pd, corpId, c._id);
      const exported = await exportCustomer(pd, corpId, String(c._id), new Date());
      return {
        profile: {
          displayName: profile?.displayName,
          name: profile?.name,
          birthday: profile?.birthday,
          remarks: profile?.relationships.map((r) => r.remark),
        },
        customer: exported?.collections.customers[0],
        relationship: exported?.collections.relationships[0],
      };
    };
    const before = await readBoth();
    expect(before.profile).toEqual({
      displayName: '乙女士',
      name: '测试客户乙',
      birthday: '1990-02-03',
      remarks: ['乙女士'],
    });
    expect(before.relationship).toMatchObject({
      remark: '乙女士',
      description: 'made-up description',
      remarkMobiles: ['13700000001', '13700000002'],
    });
    expect(before.customer).toMatchObject({ name: '测试客户乙', unionid: 'oU-made-up', dmsNotes: 'made-up notes' });

    const stale = await countStale(cipher);
    expect(stale.customers).toEqual({ 'k2 (v1, no context)': 4 });
    expect(stale.relationships).toEqual({ 'k2 (v1, no context)': 4 });
    const dry = await rotateKeys({ cipher, restart: true, dryRun: true });
    expect(dry.filter((r) => r.collection !== 'corps').map((r) => [r.collection, r.rotated])).toEqual([
      ['customers', 1],
      ['relationships', 1],
      ['leads', 0],
    ]);
    expect((await CustomerModel.findById(c._id).lean())?.nameEnc?.startsWith('v1.')).toBe(true); // a dry run writes nothing

    const done = await rotateKeys({ cipher, restart: true, batchSize: 1 });
    expect(done.filter((r) => r.collection !== 'corps').map((r) => [r.collection, r.rotated])).toEqual([
      ['customers', 1],
      ['relationships', 1],
      ['leads', 0],
    ]);
    expect(await countStale(cipher)).toEqual({ customers: {}, relationships: {}, leads: {}, corps: {} });
    const stored = await CustomerModel.findById(c._id).lean();
    const rel = await RelationshipModel.findOne({ corpId, externalUserId: 'wmPdV1' }).lean();
    for (const v of [
      stored?.nameEnc,
      stored?.unionidEnc,
      stored?.birthdayEnc,
      stored?.dmsNotesEnc,
      rel?.remarkEnc,
      rel?.descriptionEnc,
      ...(rel?.remarkMobilesEnc ?? []),
    ])
      expect(v?.startsWith('v2.k2.')).toBe(true);
    expect(cipher.decrypt(stored?.nameEnc ?? '', `customers/nameEnc/${corpId}:wmPdV1`)).toBe('测试客户乙'); // the documented context
    expect(await readBoth()).toEqual({
      ...before,
      customer: expect.objectContaining(before.customer as object) as unknown,
      relationship: expect.objectContaining(before.relationship as object) as unknown,
    });
    expect((await rotateKeys({ cipher, restart: true })).every((r) => r.rotated === 0)).toBe(true);
  });

  it('refuses a v2 value copied to another customer or field', async () => {
    const cipher = new DataCipher(new Map([['k2', k2]]), 'k2');
    const pd = new PersonalData(cipher, new LookupHasher(randomBytes(32)));
    const corpId = 'wwpdmove';
    const a = { corpId, externalUserId: 'wmMoveA' };
    const nameOfA = pd.sealFor(customerCtx(a, 'nameEnc'), '测试客户丙');
    const victim = await CustomerModel.create({
      corpId,
      externalUserId: 'wmMoveB',
      nameEnc: nameOfA,
      responsibleUserid: 'lina',
    });
    await expect(loadCustomerProfile(pd, corpId, victim._id)).rejects.toThrow(/failed authentication/);
    const exported = await exportCustomer(pd, corpId, String(victim._id), new Date());
    expect(exported?.collections.customers[0]).toMatchObject({ name: expect.stringMatching(/^\[sealed/) as unknown });
    // Copied into the same customer's relationship remark: refused as well.
    const owner = await CustomerModel.create({ ...a });
    await RelationshipModel.create({
      userid: 'lina',
      ...a,
      customerId: owner._id,
      status: 'active',
      remarkEnc: nameOfA,
    });
    await expect(loadCustomerProfile(pd, corpId, owner._id)).rejects.toThrow(/failed authentication/);
  });
});
