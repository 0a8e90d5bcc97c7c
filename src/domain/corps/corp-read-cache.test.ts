import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChangeNotices, changeNotices } from '../../infra/change-notices.js';
import { uniqueName } from '../../testing/env.js';
import { useProcessConnections } from '../../testing/process-connections.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { waitFor } from '../../testing/wait.js';
import { ChannelModel } from '../acquisition/channel.model.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import { CorpTagGroupModel } from '../customers/corp-tag.model.js';
import { RuleModel } from '../rules/rule.model.js';
import { ruleCreateSchema } from '../rules/rule.schema.js';
import { RuleService } from '../rules/rule.service.js';
import { CorpReadCache } from './corp-read-cache.js';

const corpId = 'wwreadcache01';
const admin = { role: 'admin' as const, corps: '*' as const, tokenId: 'test' };
const rule = (name: string, priority: number) =>
  ruleCreateSchema.parse({
    name,
    scope: corpId,
    enabled: true,
    priority,
    trigger: { type: 'customer.added' },
    actions: [{ type: 'tag', add: [{ group: '客户阶段', name: name }] }],
  });

let db: Awaited<ReturnType<typeof useTestDatabase>>;
const processes = useProcessConnections();
const redisPair = () => processes.redisPair();
const prefix = uniqueName('readcache');
beforeAll(async () => {
  db = await useTestDatabase('corp-read-cache');
});
afterAll(async () => {
  await db?.drop();
});

describe('CorpReadCache across processes', () => {
  it('a rule or a tag written in one process is read anew by another process through Redis pub/sub; without a write the copy is served from memory', async () => {
    // "Process A" writes through mongoose (the model hooks announce on the process's notices);
    // "process B" has notices of its own, on connections of its own, and a worker's cache.
    const a = redisPair();
    const b = redisPair();
    processes.onClose(await changeNotices.attach({ ...a, prefix }));
    const notices = new ChangeNotices();
    processes.onClose(await notices.attach({ ...b, prefix }));
    // Until B has heard A's notices of the writes so far (a notice is published on the next turn;
    // Redis answers each connection in order, so A's ping follows its publishes and B's ping
    // follows their delivery). Without it a late notice dropped B's copy after the check below.
    const noticesHeard = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      await a.redis.ping();
      await b.subscriber.ping();
    };
    const cache = new CorpReadCache({ notices });
    const rules = new RuleService(() => new Date());

    await rules.create(admin, rule('首次', 10));
    await CorpTagGroupModel.create({
      corpId,
      groupId: 'g1',
      groupName: '客户阶段',
      tags: [{ id: 't1', name: '首次' }],
    });
    await noticesHeard();
    expect((await cache.enabledRules(corpId, 'customer.added')).map((r) => r.body.name)).toEqual(['首次']);
    expect((await cache.tagGroups(corpId)).map((g) => g.tags.map((t) => t.id))).toEqual([['t1']]);

    // Written behind mongoose's back: no notice, so B keeps its copy (it is not re-reading MongoDB).
    const stored = (await RuleModel.findOne({ scope: corpId }).lean())!;
    await RuleModel.collection.insertOne({
      ...stored,
      _id: undefined as never,
      name: '旁路',
      priority: 5,
      body: { ...stored.body, name: '旁路', priority: 5 },
    });
    expect((await cache.enabledRules(corpId, 'customer.added')).map((r) => r.body.name)).toEqual(['首次']);

    // Edited in A: B's next read has it, the bypassed rule too (the copy was dropped, not patched).
    const second = await rules.create(admin, rule('第二', 20));
    await waitFor(
      async () => (await cache.enabledRules(corpId, 'customer.added')).length === 3,
      'process B sees the rules written in process A',
      { timeoutMs: 5000, intervalMs: 20 },
    );
    expect((await cache.enabledRules(corpId, 'customer.added')).map((r) => r.body.name)).toEqual([
      '第二',
      '首次',
      '旁路',
    ]);
    await rules.setEnabled(admin, second.id, false);
    await waitFor(
      async () => (await cache.enabledRules(corpId, 'customer.added')).length === 2,
      'process B drops the rule disabled in process A',
      { timeoutMs: 5000, intervalMs: 20 },
    );

    // A tag created in A (what ensureCorpTags writes) reaches B the same way.
    await CorpTagGroupModel.updateOne(
      { corpId, groupId: 'g1' },
      { $addToSet: { tags: { id: 't2', name: '第二', order: 0 } } },
    );
    await waitFor(
      async () => (await cache.tagGroups(corpId))[0]?.tags.length === 2,
      'process B sees the tag written in process A',
      { timeoutMs: 5000, intervalMs: 20 },
    );
    cache.close();
  });

  it('a channel by state: a state without a channel is kept too; a channel created or edited in another process is seen from its notice on, another corp never', async () => {
    const a = redisPair();
    const b = redisPair();
    processes.onClose(await changeNotices.attach({ ...a, prefix: `${prefix}ch` }));
    const notices = new ChangeNotices();
    processes.onClose(await notices.attach({ ...b, prefix: `${prefix}ch` }));
    const cache = new CorpReadCache({ notices });
    const channel = (state: string, over: Record<string, unknown> = {}) => ({
      corpId,
      name: state,
      kind: 'delivery' as const,
      state,
      campaign: '春季',
      vehicleVin: 'LVIN000000000001',
      ...over,
    });

    // Not there yet: kept as "no channel", so a channel written behind mongoose's back (no
    // notice) is not seen ...
    expect(await cache.channelOfState(corpId, 'delivery_new')).toBeNull();
    await ChannelModel.collection.insertOne({ ...channel('delivery_new'), createdAt: new Date() });
    expect(await cache.channelOfState(corpId, 'delivery_new')).toBeNull();
    await ChannelModel.collection.deleteOne({ corpId, state: 'delivery_new' });
    // ... while a channel created through the model in another process clears it (the notice).
    await ChannelModel.create(channel('delivery_new'));
    await waitFor(
      async () => (await cache.channelOfState(corpId, 'delivery_new'))?.campaign === '春季',
      'process B sees the channel created in process A',
      { timeoutMs: 5000, intervalMs: 20 },
    );
    expect(await cache.channelOfState(corpId, 'delivery_new')).toMatchObject({ kind: 'delivery', campaign: '春季' });
    // Another corp's channel of the same state is not this corp's.
    await ChannelModel.create(channel('delivery_x', { corpId: 'wwreadcache02' }));
    expect(await cache.channelOfState(corpId, 'delivery_x')).toBeNull();

    // Until B has heard A's notices of the creates (as in the test above).
    await new Promise((resolve) => setImmediate(resolve));
    await a.redis.ping();
    await b.subscriber.ping();
    expect((await cache.channelOfState(corpId, 'delivery_new'))?.campaign).toBe('春季');
    // Kept: a write behind mongoose's back is not seen ...
    await ChannelModel.collection.updateOne({ corpId, state: 'delivery_new' }, { $set: { campaign: '旁路' } });
    expect((await cache.channelOfState(corpId, 'delivery_new'))?.campaign).toBe('春季');
    // ... an edit through the model in another process is.
    await ChannelModel.updateOne({ corpId, state: 'delivery_new' }, { $set: { campaign: '夏季' } });
    await waitFor(
      async () => (await cache.channelOfState(corpId, 'delivery_new'))?.campaign === '夏季',
      'process B sees the channel edited in process A',
      { timeoutMs: 5000, intervalMs: 20 },
    );
    cache.close();
  });

  it('a channel by state: a state without a channel, created with its notice lost, is seen once the copy is 60 s old', async () => {
    let ms = 0;
    const cache = new CorpReadCache({ notices: new ChangeNotices(), ttlMs: 60_000, monotonicMs: () => ms });
    expect(await cache.channelOfState(corpId, 'delivery_ttl')).toBeNull();
    // Created with no notice reaching this cache (its notices are attached to nothing).
    await ChannelModel.create({ corpId, name: 'ttl', kind: 'delivery', state: 'delivery_ttl' });
    ms = 59_999;
    expect(await cache.channelOfState(corpId, 'delivery_ttl')).toBeNull();
    ms = 60_000;
    expect(await cache.channelOfState(corpId, 'delivery_ttl')).toMatchObject({ kind: 'delivery' });
    cache.close();
  });

  it("advisors' departments: a miss reads only the advisors not held, a department move in another process reaches the copy, a new advisor is seen at once", async () => {
    const a = redisPair();
    const b = redisPair();
    processes.onClose(await changeNotices.attach({ ...a, prefix: `${prefix}adv` }));
    const notices = new ChangeNotices();
    processes.onClose(await notices.attach({ ...b, prefix: `${prefix}adv` }));
    const noticesHeard = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      await a.redis.ping();
      await b.subscriber.ping();
    };
    const cache = new CorpReadCache({ notices });
    await AdvisorModel.create([
      { corpId, userid: 'adv.zhang', departments: [2] },
      { corpId, userid: 'adv.li', departments: [3, 4] },
      { corpId: 'wwreadcache02', userid: 'adv.wang', departments: [9] },
    ]);
    await noticesHeard();
    const find = vi.spyOn(AdvisorModel, 'find');
    const asked = () => find.mock.calls.map(([filter]) => filter as unknown);
    try {
      expect(await cache.advisorDepartments(corpId, ['adv.zhang'])).toEqual(new Map([['adv.zhang', [2]]]));
      // Held: no read. Partly held: one read, of the others only (another corp's advisor is not found).
      expect(await cache.advisorDepartments(corpId, ['adv.zhang'])).toEqual(new Map([['adv.zhang', [2]]]));
      expect(await cache.advisorDepartments(corpId, ['adv.zhang', 'adv.li', 'adv.wang'])).toEqual(
        new Map([
          ['adv.zhang', [2]],
          ['adv.li', [3, 4]],
        ]),
      );
      expect(asked()).toEqual([
        { corpId, userid: { $in: ['adv.zhang'] } },
        { corpId, userid: { $in: ['adv.li', 'adv.wang'] } },
      ]);
      // Not found is not kept: an advisor created behind mongoose's back (no notice) is found next time.
      await AdvisorModel.collection.insertOne({ corpId, userid: 'adv.wang', departments: [5] });
      expect((await cache.advisorDepartments(corpId, ['adv.wang'])).get('adv.wang')).toEqual([5]);
      expect(asked()).toHaveLength(3);
      find.mockClear();

      // Kept: a move behind mongoose's back is not seen ...
      await AdvisorModel.collection.updateOne({ corpId, userid: 'adv.zhang' }, { $set: { departments: [7] } });
      expect((await cache.advisorDepartments(corpId, ['adv.zhang'])).get('adv.zhang')).toEqual([2]);
      expect(find).not.toHaveBeenCalled();
      // ... a move through the model in process A (the directory sync's write) reaches B's copy.
      await AdvisorModel.updateOne({ corpId, userid: 'adv.li' }, { $set: { departments: [8] } });
      await waitFor(
        async () => (await cache.advisorDepartments(corpId, ['adv.li'])).get('adv.li')?.[0] === 8,
        'process B sees the department move written in process A',
        { timeoutMs: 5000, intervalMs: 20 },
      );
      expect((await cache.advisorDepartments(corpId, ['adv.zhang'])).get('adv.zhang')).toEqual([7]);
      // A bulk write announces too.
      await noticesHeard();
      await AdvisorModel.bulkWrite([
        { updateOne: { filter: { corpId, userid: 'adv.zhang' }, update: { $set: { departments: [1] } } } },
      ]);
      await waitFor(
        async () => (await cache.advisorDepartments(corpId, ['adv.zhang'])).get('adv.zhang')?.[0] === 1,
        'process B sees the bulk write of process A',
        { timeoutMs: 5000, intervalMs: 20 },
      );
    } finally {
      find.mockRestore();
      cache.close();
    }
  });

  it("advisors' departments: a lost notice is made good by the copy's age limit", async () => {
    let ms = 0;
    const cache = new CorpReadCache({ notices: new ChangeNotices(), ttlMs: 60_000, monotonicMs: () => ms });
    await AdvisorModel.create({ corpId, userid: 'adv.ttl', departments: [2] });
    expect((await cache.advisorDepartments(corpId, ['adv.ttl'])).get('adv.ttl')).toEqual([2]);
    // Moved with no notice reaching this cache (its notices are attached to nothing).
    await AdvisorModel.updateOne({ corpId, userid: 'adv.ttl' }, { $set: { departments: [6] } });
    ms = 59_999;
    expect((await cache.advisorDepartments(corpId, ['adv.ttl'])).get('adv.ttl')).toEqual([2]);
    ms = 60_000;
    expect((await cache.advisorDepartments(corpId, ['adv.ttl'])).get('adv.ttl')).toEqual([6]);
    cache.close();
  });
});
