import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { useTestStores } from '../../../testing/stores.js';
import { ExecutionModel } from './execution.model.js';
import { claimExecution, finishExecution } from './execution.service.js';

/**
 * The execution record through the driver (docs/scale.md §4): stored as the model would store it,
 * claimed once per occurrence, finished with the actions' outcomes; every command names the corp.
 */
useTestStores('executions', () => undefined);

const info = (corpId: string) => ({
  corpId,
  ruleVersion: 3,
  trigger: 'customer.added',
  triggerAt: new Date('2026-06-01T02:00:00Z'),
  actions: [
    { type: 'tag', add: [{ group: '客户阶段', name: '保客' }], remove: [] },
    { type: 'follow_up', title: '回访', dueIn: '1d' },
  ] as never,
});

describe('rule executions', () => {
  it('a first claim creates the record as the model would; a second finds it, unchanged', async () => {
    const key = { ruleId: String(new Types.ObjectId()), subject: String(new Types.ObjectId()), occurrenceId: 'occ-1' };
    const first = await claimExecution(key, info('wwExec'));
    expect(first).toMatchObject({ ruleVersion: 3, open: [0, 1], fresh: true });
    const raw = await ExecutionModel.collection.findOne({ _id: new Types.ObjectId(first.id) });
    expect(raw).toMatchObject({
      corpId: 'wwExec',
      ruleId: new Types.ObjectId(key.ruleId),
      status: 'running',
      trigger: 'customer.added',
      actions: [
        { index: 0, type: 'tag', status: 'pending', attempts: 0 },
        { index: 1, type: 'follow_up', status: 'pending', attempts: 0 },
      ],
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    await expect(new ExecutionModel(raw).validate()).resolves.toBeUndefined();

    const again = await claimExecution(key, { ...info('wwExec'), ruleVersion: 4 });
    expect(again).toEqual({ ...first, fresh: false });
    expect(await ExecutionModel.collection.findOne({ _id: new Types.ObjectId(first.id) })).toEqual(raw);

    await finishExecution('wwExec', first.id, 'done', undefined, [
      { index: 0, status: 'done', at: new Date('2026-06-01T02:00:01Z'), refs: { relationships: 2 } },
      { index: 1, status: 'scheduled', at: new Date('2026-06-01T02:00:01Z') },
    ]);
    // A finished execution has nothing open: a replay does nothing.
    expect((await claimExecution(key, info('wwExec'))).open).toEqual([]);
    const done = await ExecutionModel.findById(first.id).lean();
    expect(done?.actions.map((a) => `${a.status}/${a.attempts}`)).toEqual(['done/1', 'scheduled/1']);
  });

  it('a finish names the corp: another corp cannot close the record', async () => {
    const key = { ruleId: String(new Types.ObjectId()), subject: String(new Types.ObjectId()), occurrenceId: 'occ-2' };
    const claim = await claimExecution(key, info('wwExec'));
    await finishExecution('wwOther', claim.id, 'skipped', 'conditions');
    expect((await ExecutionModel.findById(claim.id).lean())?.status).toBe('running');
  });
});
