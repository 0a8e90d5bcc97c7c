import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { countingCommands } from '../../../testing/mongo-commands.js';
import { useTestStores } from '../../../testing/stores.js';
import { ExecutionModel } from './execution.model.js';
import { claimExecution, finishExecution, recordExecution } from './execution.service.js';

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

  it('a run without a claim stores, in one command, the record a claim and a finish store', async () => {
    const key = () => ({
      ruleId: String(new Types.ObjectId()),
      subject: String(new Types.ObjectId()),
      occurrenceId: 'o',
    });
    const at = new Date('2026-06-01T02:00:01Z');
    const records = [
      { index: 0, status: 'done' as const, at, refs: { relationships: 2 } },
      { index: 1, status: 'scheduled' as const, at, refs: { scheduleId: '$notAPath' } },
    ];
    const claimed = key();
    const claim = await claimExecution(claimed, info('wwExec'));
    await finishExecution('wwExec', claim.id, 'done', undefined, records);
    const direct = key();
    const sent = await countingCommands(() => recordExecution(direct, info('wwExec'), { status: 'done', records }));
    expect(sent.result).toBeUndefined();
    expect(sent.commands).toEqual(['rule_executions findOneAndUpdate']);
    const [a, b] = await Promise.all(
      [claimed, direct].map((k) => ExecutionModel.collection.findOne({ ruleId: new Types.ObjectId(k.ruleId) })),
    );
    const comparable = (d: Record<string, unknown> | null | undefined, k: typeof claimed) => {
      const { _id, createdAt, updatedAt, ...rest } = d ?? {};
      expect([_id, createdAt, updatedAt]).toEqual([expect.any(Types.ObjectId), expect.any(Date), expect.any(Date)]);
      return { ...rest, ruleId: 'r', subject: rest.subject === k.subject ? 's' : 'other' };
    };
    expect(comparable(b, direct)).toEqual(comparable(a, claimed));
    // Same fields in the same order, as the readers and the model see them.
    expect(Object.keys(b ?? {})).toEqual(Object.keys(a ?? {}));
    await expect(new ExecutionModel(b).validate()).resolves.toBeUndefined();

    // A replay (actions repeated) leaves the finished record as it is.
    const replay = await recordExecution(direct, info('wwExec'), {
      status: 'done',
      records: [{ index: 0, status: 'done', at: new Date() }],
    });
    expect(replay).toBe('done');
    expect(await ExecutionModel.collection.findOne({ _id: b?._id })).toEqual(b);
    expect(await ExecutionModel.countDocuments({ ruleId: new Types.ObjectId(direct.ruleId) })).toBe(1);
  });

  it('a failed run without a claim leaves the record running with what finished; the retry finishes it', async () => {
    const key = { ruleId: String(new Types.ObjectId()), subject: String(new Types.ObjectId()), occurrenceId: 'f' };
    const at = new Date('2026-06-01T02:00:01Z');
    await recordExecution(key, info('wwExec'), { status: 'running', records: [{ index: 0, status: 'done', at }] });
    const failed = await ExecutionModel.findOne({ ruleId: key.ruleId }).lean();
    expect(failed?.status).toBe('running');
    expect(failed?.actions.map((x) => `${x.status}/${x.attempts}`)).toEqual(['done/1', 'pending/0']);
    // A skip by conditions does not close a running record (the claimed path resumes it).
    expect(await recordExecution(key, info('wwExec'), { status: 'skipped', reason: 'c', insertOnly: true })).toBe(
      'running',
    );
    const before = await recordExecution(key, info('wwExec'), {
      status: 'done',
      records: [
        { index: 0, status: 'done', at },
        { index: 1, status: 'scheduled', at },
      ],
    });
    expect(before).toBe('running');
    const done = await ExecutionModel.findOne({ ruleId: key.ruleId }).lean();
    expect(done?.status).toBe('done');
    expect(done?.reason).toBeUndefined();
    expect(done?.actions.map((x) => `${x.status}/${x.attempts}`)).toEqual(['done/2', 'scheduled/1']);
  });
});
