/**
 * Customer services against the WeCom sandbox over HTTP, real Redis and the dev MongoDB server:
 * refresh from externalcontact/get, owner tagging on every active relationship, ending
 * relationships out of order, and the directory refresh.
 */
import { Types } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QueueName } from '../../queues/queue-names.js';
import { AdvisorModel } from './advisor.model.js';
import { refreshDirectory } from './advisor-directory.service.js';
import { CorpTagGroupModel } from './corp-tag.model.js';
import type { CustomerDeps } from './customer-deps.js';
import { startCustomerHarness, type CustomerHarness } from './customer.test-support.js';
import { refreshCustomerFromWecom } from './customer-refresh.service.js';
import { CustomerModel } from './customer.model.js';
import { becomeOwner } from './owner.service.js';
import { customerCtx } from './personal-data.js';
import { endRelationship } from './relationship-status.service.js';
import { RelationshipModel } from './relationship.model.js';
import { defaultRetentionSettings } from './retention-settings.js';

let h: CustomerHarness;
let clock: CustomerHarness['clock'];
let queues: CustomerHarness['queues'];
let pd: CustomerHarness['pd'];
let sandbox: CustomerHarness['sandbox'];
let deps: CustomerDeps;
let corpId: string;

const seed = {
  corps: [
    {
      name: '测试4S店',
      departments: [
        { id: 1, name: '总部' },
        { id: 2, name: '销售一部', parentid: 1 },
      ],
      members: [
        { userid: 'manager.li', name: '李经理', department: [2], isLeaderInDept: [1] },
        { userid: 'zhangwei', name: '张伟', department: [2], directLeader: ['manager.li'] },
        { userid: 'wangfang', name: '王芳', department: [2], directLeader: ['manager.li'] },
      ],
      tagGroups: [{ group_name: '购车意向', tags: [{ name: '已购车' }, { name: '试驾' }] }],
      customers: [
        {
          external_userid: 'wmCustomerAlpha0001',
          name: '测试客户甲',
          follows: [
            {
              userid: 'zhangwei',
              remark: '甲先生',
              remark_mobiles: ['13800000101'],
              state: 'delivery_qr1',
              createtime: 1767225600,
              tags: ['试驾'],
            },
            { userid: 'wangfang', remark: '', createtime: 1767312000 },
          ],
        },
      ],
    },
  ],
};

beforeAll(async () => {
  h = await startCustomerHarness('customers');
  ({ clock, queues, pd, sandbox } = h);
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  [corpId] = sandbox.world.seed(seed).corpIds as [string];
  deps = h.depsFor(corpId);
  await Promise.all([
    CustomerModel.deleteMany({}),
    RelationshipModel.deleteMany({}),
    AdvisorModel.deleteMany({}),
    CorpTagGroupModel.deleteMany({}),
    queues.get(QueueName.domainEvents).obliterate({ force: true }),
  ]);
  sandbox.context.calls.clear();
});

async function emittedNames(): Promise<string[]> {
  const jobs = await queues.get(QueueName.domainEvents).getJobs(['waiting', 'prioritized', 'delayed']);
  return jobs.map((j) => `${j.name}:${j.data.userid ?? ''}`).sort();
}

describe('customer refresh from WeCom', () => {
  it('stores the customer sealed, one relationship per advisor, and emits each add once', async () => {
    const opts = {
      externalUserId: 'wmCustomerAlpha0001',
      sourceId: 'inbound-1',
      eventAt: clock.now(),
      addedBy: 'zhangwei',
    };
    const first = await refreshCustomerFromWecom(deps, opts);
    expect(first.createdCustomer).toBe(true);
    expect(first.added.map((a) => a.userid).sort()).toEqual(['wangfang', 'zhangwei']);
    const again = await refreshCustomerFromWecom(deps, opts);
    expect(again.added).toEqual([]);
    expect(await emittedNames()).toEqual(['customer.added:wangfang', 'customer.added:zhangwei']);

    const customer = await CustomerModel.findOne({ corpId, externalUserId: 'wmCustomerAlpha0001' }).lean();
    expect(
      pd.openFor(customerCtx({ corpId, externalUserId: 'wmCustomerAlpha0001' }, 'nameEnc'), customer?.nameEnc),
    ).toBe('测试客户甲');
    expect(customer?.nameEnc?.startsWith('v2.')).toBe(true);
    expect(customer?.responsibleUserid).toBe('wangfang'); // most recent relationship
    const rel = await RelationshipModel.findOne({ corpId, userid: 'zhangwei' }).lean();
    expect(rel).toMatchObject({ state: 'delivery_qr1', status: 'active' });
    expect(rel?.remarkMobileHashes).toEqual([pd.hash('mobile', '13800000101')]);
    expect(rel?.tagIds).toHaveLength(1);
    // Nothing personal in clear anywhere in MongoDB.
    const dump = JSON.stringify(await Promise.all([CustomerModel.find().lean(), RelationshipModel.find().lean()]));
    for (const plain of ['测试客户甲', '甲先生', '13800000101']) expect(dump).not.toContain(plain);
  });

  it('reports tag changes by diffing against the last known state', async () => {
    await refreshCustomerFromWecom(deps, {
      externalUserId: 'wmCustomerAlpha0001',
      sourceId: 'inbound-1',
      eventAt: clock.now(),
    });
    await sandbox.driver
      .editRelationship({
        corpId,
        userid: 'zhangwei',
        externalUserId: 'wmCustomerAlpha0001',
        addTags: ['已购车'],
        removeTags: ['试驾'],
      })
      .catch(() => undefined);
    const result = await refreshCustomerFromWecom(deps, {
      externalUserId: 'wmCustomerAlpha0001',
      sourceId: 'inbound-2',
      eventAt: clock.now(),
    });
    expect(result.tagChanges).toHaveLength(1);
    expect(result.tagChanges[0]).toMatchObject({
      userid: 'zhangwei',
      added: [expect.any(String)],
      removed: [expect.any(String)],
    });
    expect((await emittedNames()).filter((n) => n.startsWith('customer.tag'))).toEqual([
      'customer.tag_added:zhangwei',
      'customer.tag_removed:zhangwei',
    ]);
  });
});

describe('out of order', () => {
  it('an edit processed before its add stores the customer once; the late add changes and emits nothing more', async () => {
    const edit = await refreshCustomerFromWecom(deps, {
      externalUserId: 'wmCustomerAlpha0001',
      sourceId: 'edit-1',
      eventAt: new Date(clock.nowMs() + 1000),
    });
    const add = await refreshCustomerFromWecom(deps, {
      externalUserId: 'wmCustomerAlpha0001',
      sourceId: 'add-1',
      eventAt: clock.now(),
      addedBy: 'zhangwei',
    });
    expect(edit.added.map((a) => a.userid).sort()).toEqual(['wangfang', 'zhangwei']);
    expect(add.added).toEqual([]);
    expect(await CustomerModel.countDocuments({ corpId, externalUserId: 'wmCustomerAlpha0001' })).toBe(1);
    expect(
      await RelationshipModel.countDocuments({ corpId, externalUserId: 'wmCustomerAlpha0001', status: 'active' }),
    ).toBe(2);
    expect(await emittedNames()).toEqual(['customer.added:wangfang', 'customer.added:zhangwei']);
  });
});

describe('retained customers', () => {
  it('becomes owner once and tags every active relationship with 保客, creating the tag', async () => {
    const { customerId } = await refreshCustomerFromWecom(deps, {
      externalUserId: 'wmCustomerAlpha0001',
      sourceId: 'inbound-1',
      eventAt: clock.now(),
    });
    const input = {
      customerId: customerId as Types.ObjectId,
      reason: 'delivery_channel' as const,
      sourceId: 'src-1',
      at: clock.now(),
    };
    const first = await becomeOwner(deps, defaultRetentionSettings, input);
    const second = await becomeOwner(deps, defaultRetentionSettings, input);
    expect(first).toEqual({ changed: true, tagged: 2 });
    expect(second).toEqual({ changed: false, tagged: 0 });

    const marks = sandbox.context.calls.list({ endpoint: 'externalcontact/mark_tag' });
    expect(marks.map((m) => (m.body as { userid: string }).userid).sort()).toEqual(['wangfang', 'zhangwei']);
    const ownerTag = sandbox.world.corp(corpId)?.tags.find((t) => t.name === '保客');
    expect(ownerTag).toBeDefined();
    const follows =
      sandbox.world.corp(corpId)?.follows.filter((f) => f.external_userid === 'wmCustomerAlpha0001') ?? [];
    expect(follows).toHaveLength(2);
    for (const follow of follows) expect(follow.tagIds).toContain(ownerTag?.id);
    const customer = await CustomerModel.findById(customerId).lean();
    expect(customer?.lifecycle).toMatchObject({ stage: 'owner', reason: 'delivery_channel' });
    expect(await emittedNames()).toContain('customer.became_owner:');
  });
});

describe('an add through a delivery channel', () => {
  const add = (sourceId: string) => ({
    externalUserId: 'wmCustomerAlpha0001',
    sourceId,
    eventAt: clock.now(),
    addedBy: 'zhangwei',
    retention: defaultRetentionSettings,
  });

  it('makes the owner in the refresh itself, with its event; the consumer then only tags', async () => {
    const { customerId, createdCustomer } = await refreshCustomerFromWecom(deps, add('inbound-1'));
    expect(createdCustomer).toBe(true);
    // Both events were written by the refresh's transaction and relayed with it.
    expect(await emittedNames()).toEqual([
      'customer.added:wangfang',
      'customer.added:zhangwei',
      'customer.became_owner:',
    ]);
    const stored = await CustomerModel.findById(customerId).lean();
    expect(stored?.lifecycle).toMatchObject({ stage: 'owner', reason: 'delivery_channel' });
    expect(stored?.lifecycleHistory.map((h) => `${h.stage}/${h.reason}`)).toEqual([
      'prospect/added',
      'owner/delivery_channel',
    ]);

    // The `customer.added` consumer's owner step finds the owner: no change, no second event, tags.
    const consumer = await becomeOwner(deps, defaultRetentionSettings, {
      customerId: customerId as Types.ObjectId,
      reason: 'delivery_channel',
      sourceId: 'customer.added-inbound-1',
      at: clock.now(),
      maybeOwnerAlready: true,
    });
    expect(consumer).toEqual({ changed: false, tagged: 2 });
    expect((await emittedNames()).filter((n) => n.startsWith('customer.became_owner'))).toHaveLength(1);

    // A replay of the same add changes and emits nothing more.
    await refreshCustomerFromWecom(deps, add('inbound-1'));
    expect(await emittedNames()).toHaveLength(3);
    expect((await CustomerModel.findById(customerId).lean())?.lifecycleHistory).toHaveLength(2);
  });

  it('makes an existing prospect an owner when the add re-establishes a relationship', async () => {
    const { customerId } = await refreshCustomerFromWecom(deps, { ...add('inbound-1'), retention: undefined });
    expect((await CustomerModel.findById(customerId).lean())?.lifecycle?.stage).toBe('prospect');
    await endRelationship(deps, {
      externalUserId: 'wmCustomerAlpha0001',
      userid: 'zhangwei',
      status: 'deleted_by_advisor',
      eventAt: clock.now(),
      sourceId: 'inbound-2',
      cause: 'del_external_contact',
    });
    clock.advance(60_000);
    await queues.get(QueueName.domainEvents).obliterate({ force: true });
    await refreshCustomerFromWecom(deps, add('inbound-3'));
    const stored = await CustomerModel.findById(customerId).lean();
    expect(stored?.lifecycle).toMatchObject({ stage: 'owner', reason: 'delivery_channel' });
    expect(await emittedNames()).toEqual(['customer.added:zhangwei', 'customer.became_owner:']);
  });
});

describe('ended relationships', () => {
  it('a deletion delivered before its add is not undone by the late add', async () => {
    const eventAt = clock.now();
    const deleted = await endRelationship(deps, {
      externalUserId: 'wmCustomerAlpha0001',
      userid: 'zhangwei',
      status: 'deleted_by_customer',
      eventAt,
      sourceId: 'del-1',
      cause: 'del_follow_user',
    });
    expect(deleted.changed).toBe(true);
    const replay = await endRelationship(deps, {
      externalUserId: 'wmCustomerAlpha0001',
      userid: 'zhangwei',
      status: 'deleted_by_customer',
      eventAt,
      sourceId: 'del-1',
      cause: 'del_follow_user',
    });
    expect(replay.changed).toBe(false);
    // The add happened earlier than the deletion.
    await refreshCustomerFromWecom(deps, {
      externalUserId: 'wmCustomerAlpha0001',
      sourceId: 'add-1',
      eventAt: new Date(eventAt.getTime() - 60_000),
      addedBy: 'zhangwei',
    });
    const rel = await RelationshipModel.findOne({ corpId, userid: 'zhangwei' }).lean();
    expect(rel?.status).toBe('deleted_by_customer');
    const other = await RelationshipModel.findOne({ corpId, userid: 'wangfang' }).lean();
    expect(other?.status).toBe('active');
    const customer = await CustomerModel.findOne({ corpId, externalUserId: 'wmCustomerAlpha0001' }).lean();
    expect(customer?.responsibleUserid).toBe('wangfang');
  });

  it('the customer becomes lost when the last advisor is deleted, and customer.lost is emitted once', async () => {
    await refreshCustomerFromWecom(deps, {
      externalUserId: 'wmCustomerAlpha0001',
      sourceId: 'add-1',
      eventAt: clock.now(),
    });
    const at = new Date(clock.nowMs() + 1000);
    const a = await endRelationship(deps, {
      externalUserId: 'wmCustomerAlpha0001',
      userid: 'zhangwei',
      status: 'deleted_by_customer',
      eventAt: at,
      sourceId: 'del-a',
      cause: 'del_follow_user',
    });
    const b = await endRelationship(deps, {
      externalUserId: 'wmCustomerAlpha0001',
      userid: 'wangfang',
      status: 'deleted_by_customer',
      eventAt: at,
      sourceId: 'del-b',
      cause: 'del_follow_user',
    });
    expect([a.becameLost, b.becameLost]).toEqual([false, true]);
    const customer = await CustomerModel.findOne({ corpId, externalUserId: 'wmCustomerAlpha0001' }).lean();
    expect(customer?.lifecycle?.stage).toBe('lost');
    expect(customer?.responsibleUserid).toBeUndefined();
    expect((await emittedNames()).filter((n) => n.startsWith('customer.lost'))).toEqual(['customer.lost:wangfang']);
  });
});

describe('directory', () => {
  it('syncs members with departments and leaders, and marks a member who left', async () => {
    const result = await refreshDirectory(deps);
    expect(result.members).toBe(3);
    const zhang = await AdvisorModel.findOne({ corpId, userid: 'zhangwei' }).lean();
    expect(zhang).toMatchObject({ name: '张伟', departments: [2], directLeaders: ['manager.li'], status: 'active' });
    const li = await AdvisorModel.findOne({ corpId, userid: 'manager.li' }).lean();
    expect(li?.leadsDepartments).toEqual([2]);
    await AdvisorModel.create({ corpId, userid: 'gone.member', name: '已离职', status: 'active' });
    expect((await refreshDirectory(deps)).left).toBe(1);
    expect((await AdvisorModel.findOne({ corpId, userid: 'gone.member' }).lean())?.status).toBe('left');
  });
});
