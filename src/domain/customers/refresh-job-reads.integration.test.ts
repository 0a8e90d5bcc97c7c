/**
 * A refresh hands the rows it wrote to the job's later consumers (src/infra/job-reads.ts,
 * docs/scale.md §4): inside one `withJobReads` the owner tags, the rule context, a rule's tag
 * action and lead matching read no relationship, customer or vehicle row again, and what they are
 * handed equals what is stored. The erasure check after the fetch keeps an erased contact out.
 */
import type { Types } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetJobReads, withJobReads } from '../../infra/job-reads.js';
import { QueueName } from '../../queues/queue-names.js';
import { suppressContact } from '../privacy/suppression.js';
import { ErasedContactModel } from '../privacy/erased-contact.model.js';
import { loadCustomerContext } from '../rules/customer-context.js';
import type { EngineDeps } from '../rules/engine/engine-deps.js';
import { applyTagAction } from '../rules/engine/tag.action.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { CorpTagGroupModel } from './corp-tag.model.js';
import type { CustomerDeps } from './customer-deps.js';
import {
  customerRowOf,
  keptRelationshipRows,
  relationshipOfPair,
  relationshipRowsOf,
  vehicleRowsOf,
} from './customer-rows.js';
import { startCustomerHarness, type CustomerHarness } from './customer.test-support.js';
import { applyContactSnapshot, refreshCustomerFromWecom } from './customer-refresh.service.js';
import { CustomerModel } from './customer.model.js';
import { becomeOwner } from './owner.service.js';
import { RelationshipModel } from './relationship.model.js';
import { defaultRetentionSettings } from './retention-settings.js';

let h: CustomerHarness;
let deps: CustomerDeps;
let corpId: string;
const EXT = 'wmCustomerJobReads01';

const seed = {
  corps: [
    {
      name: '读取共享4S店',
      departments: [{ id: 1, name: '总部' }],
      members: [
        { userid: 'zhangwei', name: '张伟', department: [1] },
        { userid: 'wangfang', name: '王芳', department: [1] },
      ],
      tagGroups: [{ group_name: '购车意向', tags: [{ name: '试驾' }] }],
      customers: [
        {
          external_userid: EXT,
          name: '测试客户乙',
          follows: [
            {
              userid: 'zhangwei',
              remark: '乙先生',
              remark_mobiles: ['13800000202'],
              state: 'delivery_qr2',
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
  h = await startCustomerHarness('refreshreads');
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  [corpId] = h.sandbox.world.seed(seed).corpIds as [string];
  deps = h.depsFor(corpId);
  await Promise.all([
    CustomerModel.deleteMany({}),
    RelationshipModel.deleteMany({}),
    CorpTagGroupModel.deleteMany({}),
    ErasedContactModel.deleteMany({}),
    h.queues.get(QueueName.domainEvents).obliterate({ force: true }),
  ]);
  h.sandbox.context.calls.clear();
});

const add = (sourceId: string) => ({
  externalUserId: EXT,
  sourceId,
  eventAt: h.clock.now(),
  addedBy: 'zhangwei',
  retention: defaultRetentionSettings,
});

/** A row without the fields only MongoDB's write sets (timestamps, version). */
function comparable<T extends object>(row: T | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row ?? {}))
    if (v !== undefined && !['createdAt', 'updatedAt', '__v'].includes(k)) out[k] = v;
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

const byUserid = <T extends { userid: string }>(rows: readonly T[]) =>
  [...rows].sort((a, b) => a.userid.localeCompare(b.userid)).map(comparable);

/** The rows the job hands out equal the stored ones (read outside the job's memo). */
async function expectKeptEqualsStored(customerId: Types.ObjectId): Promise<void> {
  const [kept, keptCustomer] = await Promise.all([
    relationshipRowsOf(corpId, customerId),
    customerRowOf(corpId, customerId),
  ]);
  const stored = await RelationshipModel.find({ corpId, customerId }).lean();
  expect(byUserid(kept)).toEqual(byUserid(stored));
  const storedCustomer = await CustomerModel.findOne(
    { _id: customerId, corpId },
    { externalUserId: 1, type: 1, lifecycle: 1, optOut: 1, responsibleUserid: 1, birthdayEnc: 1 },
  ).lean();
  expect(comparable(keptCustomer)).toEqual(comparable(storedCustomer));
}

describe('a refresh inside the job reads', () => {
  it('hands its rows to the owner tags, the rule context, a tag action and lead matching: none reads them again', async () => {
    await withJobReads(async () => {
      const result = await refreshCustomerFromWecom(deps, add('inbound-1'));
      expect(result.createdCustomer).toBe(true);
      const customerId = result.customerId as Types.ObjectId;
      const reads = [
        vi.spyOn(RelationshipModel, 'find'),
        vi.spyOn(RelationshipModel, 'findOne'),
        vi.spyOn(CustomerModel, 'findOne'),
        vi.spyOn(VehicleModel, 'find'),
      ];
      try {
        // The `customer.added` consumers in their order: owner step, rule context + tag action, lead matching.
        const owner = await becomeOwner(deps, defaultRetentionSettings, {
          customerId,
          reason: 'delivery_channel',
          sourceId: 'customer.added-inbound-1',
          at: h.clock.now(),
          maybeOwnerAlready: true,
        });
        expect(owner).toEqual({ changed: false, tagged: 2 });
        const ctx = await loadCustomerContext(corpId, customerId, { pd: h.pd, advisorUserid: 'zhangwei' });
        expect(ctx).toMatchObject({ lifecycle: 'owner', responsibleUserid: 'wangfang', vehicles: [] });
        const tagged = await applyTagAction(deps as unknown as EngineDeps, ctx!, {
          type: 'tag',
          add: [{ group: '客户阶段', name: '新车主' }],
          remove: [],
        });
        expect(tagged).toEqual({ relationships: 2 });
        const pair = await relationshipOfPair(corpId, customerId, EXT, 'zhangwei');
        expect(pair?.remarkMobileHashes).toEqual([h.pd.hash('mobile', '13800000202')]);
        expect(await vehicleRowsOf(corpId, customerId)).toEqual([]);
        for (const spy of reads) expect(spy).not.toHaveBeenCalled();
      } finally {
        for (const spy of reads) spy.mockRestore();
      }
      // The owner tag and the rule's tag on both relationships (zhangwei also keeps 试驾).
      const stored = await RelationshipModel.find({ corpId, customerId }).lean();
      expect(Object.fromEntries(stored.map((rel) => [rel.userid, rel.tagIds.length]))).toEqual({
        zhangwei: 3,
        wangfang: 2,
      });
      await expectKeptEqualsStored(customerId);
    });
  });

  it('hands back what a refresh of a stored customer left, ended relationships included', async () => {
    const first = await refreshCustomerFromWecom(deps, add('inbound-1'));
    const customerId = first.customerId as Types.ObjectId;
    // WeCom no longer lists wangfang; zhangwei's remark changed.
    const world = h.sandbox.world.corp(corpId)!;
    world.follows = world.follows.filter((f) => !(f.external_userid === EXT && f.userid === 'wangfang'));
    const zhang = world.follows.find((f) => f.external_userid === EXT && f.userid === 'zhangwei')!;
    zhang.remark = '乙总';
    h.clock.advance(60_000);
    await withJobReads(async () => {
      const again = await refreshCustomerFromWecom(deps, { ...add('inbound-2'), addedBy: undefined });
      expect(again).toMatchObject({ createdCustomer: false, vanishedUserids: ['wangfang'] });
      const find = vi.spyOn(RelationshipModel, 'find');
      try {
        const rows = await relationshipRowsOf(corpId, customerId);
        expect(rows.find((r) => r.userid === 'wangfang')?.status).toBe('deleted_by_advisor');
        expect(find).not.toHaveBeenCalled();
      } finally {
        find.mockRestore();
      }
      await expectKeptEqualsStored(customerId);
      expect((await customerRowOf(corpId, customerId))?.responsibleUserid).toBe('zhangwei');
    });
  });

  it('a write outside the refresh after it makes the consumers read again', async () => {
    await withJobReads(async () => {
      const { customerId } = await refreshCustomerFromWecom(deps, add('inbound-1'));
      await RelationshipModel.updateOne(
        { corpId, customerId, userid: 'wangfang' },
        { $set: { status: 'transferred' } },
      );
      const rows = await relationshipRowsOf(corpId, customerId as Types.ObjectId);
      expect(rows.find((r) => r.userid === 'wangfang')?.status).toBe('transferred');
    });
  });

  it('stores the responsible advisor with the insert (no second write) and the same one a recomputation gives', async () => {
    const update = vi.spyOn(CustomerModel, 'updateOne');
    try {
      const { customerId } = await refreshCustomerFromWecom(deps, add('inbound-1'));
      expect(update).not.toHaveBeenCalled();
      expect((await CustomerModel.findById(customerId).lean())?.responsibleUserid).toBe('wangfang');
    } finally {
      update.mockRestore();
    }
  });
});

describe('the rows a job holds', () => {
  it('are handed out only when kept: nothing is read, and a miss leaves nothing behind', async () => {
    const { customerId } = await refreshCustomerFromWecom(deps, add('inbound-1'));
    const id = customerId as Types.ObjectId;
    const find = vi.spyOn(RelationshipModel, 'find');
    try {
      expect(await keptRelationshipRows(corpId, id)).toBeUndefined(); // outside a job scope
      await withJobReads(async () => {
        expect(await keptRelationshipRows(corpId, id)).toBeUndefined();
        expect(find).not.toHaveBeenCalled();
        // The miss left no placeholder: the consumer reads the rows.
        expect((await relationshipRowsOf(corpId, id)).map((r) => r.userid).sort()).toEqual(['wangfang', 'zhangwei']);
        expect(find).toHaveBeenCalledTimes(1);
        expect(await keptRelationshipRows(corpId, id)).toHaveLength(2);
        expect(find).toHaveBeenCalledTimes(1);
      });
    } finally {
      find.mockRestore();
    }
  });
});

describe('an erased contact', () => {
  it('a callback stores and emits nothing; an add newer than the erasure collects them again', async () => {
    const erasedAt = h.clock.now();
    await suppressContact(h.pd.hasher, corpId, EXT, erasedAt);
    h.clock.advance(1_000);
    const edit = await refreshCustomerFromWecom(deps, {
      externalUserId: EXT,
      sourceId: 'inbound-1',
      eventAt: erasedAt,
    });
    expect(edit).toMatchObject({ visible: false, createdCustomer: false, added: [] });
    expect(await CustomerModel.countDocuments({ corpId })).toBe(0);
    expect(await RelationshipModel.countDocuments({ corpId })).toBe(0);
    expect(await h.queues.get(QueueName.domainEvents).getJobCounts('waiting')).toMatchObject({ waiting: 0 });

    const back = await refreshCustomerFromWecom(deps, { ...add('inbound-2'), eventAt: h.clock.now() });
    expect(back.createdCustomer).toBe(true);
    expect(await ErasedContactModel.countDocuments({ corpId })).toBe(0);
  });

  it('an erasure landing while WeCom answers keeps the fetched contact out', async () => {
    // The snapshot was fetched before the erasure was recorded: the check after the fetch sees it.
    const page = await deps.api.getExternalContact(EXT);
    await suppressContact(h.pd.hasher, corpId, EXT, h.clock.now());
    forgetJobReads();
    const result = await applyContactSnapshot(
      deps,
      { contact: page.external_contact!, followUsers: page.follow_user ?? [] },
      { externalUserId: EXT, sourceId: 'inbound-1', eventAt: h.clock.now() },
    );
    expect(result).toMatchObject({ visible: false, createdCustomer: false });
    expect(await CustomerModel.countDocuments({ corpId })).toBe(0);
  });
});
