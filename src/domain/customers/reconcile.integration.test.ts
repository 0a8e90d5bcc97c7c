/**
 * Reconciliation: with the bot not receiving callbacks, the sandbox world changes
 * (adds, deletions, tag edits); a reconciliation run makes MongoDB equal WeCom, emits events
 * for what changed only, and resumes from its checkpoint after a crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName } from '../../queues/queue-names.js';
import type { CustomerDeps } from './customer-deps.js';
import { startCustomerHarness, type CustomerHarness } from './customer.test-support.js';
import { reconcileCheckpointKey, reconcileCorp } from './reconcile.service.js';
import { RelationshipModel } from './relationship.model.js';

let h: CustomerHarness;
let clock: CustomerHarness['clock'];
let redis: CustomerHarness['redis'];
let prefix: string;
let queues: CustomerHarness['queues'];
let sandbox: CustomerHarness['sandbox'];
let deps: CustomerDeps;
let corpId: string;

const customers = Array.from({ length: 30 }, (_, i) => ({
  external_userid: `wmReconcile${String(i).padStart(8, '0')}`,
  name: `测试客户${i}`,
  follows: [
    {
      userid: i % 3 === 0 ? 'lina' : 'zhangwei',
      remark: `客户${i}`,
      createtime: 1767225600 + i,
      tags: i % 2 ? ['试驾'] : [],
    },
  ],
}));

beforeAll(async () => {
  h = await startCustomerHarness('reconcile');
  ({ clock, redis, prefix, queues, sandbox } = h);
  [corpId] = sandbox.world.seed({
    corps: [
      {
        members: [
          { userid: 'zhangwei', name: '张伟' },
          { userid: 'lina', name: '李娜' },
        ],
        tagGroups: [{ group_name: '购车意向', tags: [{ name: '已购车' }, { name: '试驾' }] }],
        customers,
      },
    ],
  }).corpIds as [string];
  deps = h.depsFor(corpId);
});
afterAll(async () => {
  await h?.close();
});

/** Active relationships with their corp tags, as WeCom and as MongoDB see them. */
function wecomState(): string[] {
  const corp = sandbox.world.corp(corpId);
  return (corp?.follows ?? [])
    .filter((f) => f.status === 'active')
    .map((f) => `${f.userid}|${f.external_userid}|${[...f.tagIds].sort().join(',')}`)
    .sort();
}
async function storedState(): Promise<string[]> {
  const rels = await RelationshipModel.find({ corpId, status: 'active' }).lean();
  return rels.map((r) => `${r.userid}|${r.externalUserId}|${[...r.tagIds].sort().join(',')}`).sort();
}
const eventCount = async () => (await queues.get(QueueName.domainEvents).getJobCounts('waiting')).waiting ?? 0;

describe('reconciliation', () => {
  it('imports a corp, then repairs what callbacks missed, emitting only for changes', async () => {
    const first = await reconcileCorp(deps, { runId: 'r1' });
    expect(first).toMatchObject({ members: 2, advisors: 2, relationshipsSeen: 30, added: 30 });
    expect(await storedState()).toEqual(wecomState());
    expect(await eventCount()).toBe(30);

    // Unchanged world: nothing changes, nothing is emitted.
    const idle = await reconcileCorp(deps, { runId: 'r2' });
    expect(idle).toMatchObject({ added: 0, tagChanges: 0, ended: 0 });
    expect(await eventCount()).toBe(30);

    // The bot misses callbacks: a new customer, an advisor deleting one, a tag edit.
    await sandbox.driver.addCustomer({ corpId, userid: 'lina', customer: { name: '新客户' }, state: 'delivery_qr1' });
    await sandbox.driver.advisorDeletesCustomer({ corpId, userid: 'zhangwei', externalUserId: 'wmReconcile00000001' });
    await sandbox.driver.editRelationship({
      corpId,
      userid: 'zhangwei',
      externalUserId: 'wmReconcile00000002',
      addTags: ['已购车'],
    });
    clock.advance(60_000);
    const repair = await reconcileCorp(deps, { runId: 'r3' });
    expect(repair).toMatchObject({ added: 1, tagChanges: 1, ended: 1 });
    expect(await storedState()).toEqual(wecomState());
    const ended = await RelationshipModel.findOne({ corpId, externalUserId: 'wmReconcile00000001' }).lean();
    expect(ended).toMatchObject({ status: 'deleted_by_advisor', statusCause: 'not_in_wecom' });
    expect(await eventCount()).toBe(32); // one customer.added, one tag_added
  });

  it('resumes from its cursor checkpoint after a crash', async () => {
    const checkpoint = { redis, key: reconcileCheckpointKey(prefix, corpId) };
    await redis.set(checkpoint.key, JSON.stringify({ runId: 'crashed', chunk: 0, cursor: 'not-a-cursor' }));
    // A checkpoint the API refuses (a stale cursor) fails loudly instead of silently skipping.
    await expect(reconcileCorp(deps, { runId: 'r4', checkpoint })).rejects.toThrow();
    await redis.set(checkpoint.key, JSON.stringify({ runId: 'crashed', chunk: 1, cursor: '' }));
    const resumed = await reconcileCorp(deps, { runId: 'r5', checkpoint });
    expect(resumed.resumed).toBe(true);
    expect(resumed.members).toBe(0); // directory and tags were done before the crash
    expect(await redis.exists(checkpoint.key)).toBe(0);
    expect(await storedState()).toEqual(wecomState());
  });
});
