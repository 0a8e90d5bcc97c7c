import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../../testing/env.js';
import { type EngineHarness, useEngineHarness } from '../rules/engine/engine.test-support.js';
import { DEFAULT_TUNING } from '../tuning.js';
import { runLadder } from './escalation.js';
import { pollTransfer } from './transfer.service.js';
import { TransferModel } from './transfer.model.js';
import type { TaskDeps } from './task-deps.js';
import { defaultTaskSettings } from './task-settings.js';
import { TaskModel } from './task.model.js';

/**
 * The SLA ladder and transfer polling (docs/tasks.md) directly: the minute tick over
 * `nextCheckpointAt`, one step per checkpoint; a transfer WeCom keeps waiting on. Against the WeCom
 * sandbox's demo corp, real Redis and the dev MongoDB server.
 */
let h: EngineHarness;
let deps: TaskDeps;
useEngineHarness('escalation', (harness) => {
  h = harness;
  deps = {
    corpId: h.deps.corpId,
    timeZone: 'Asia/Shanghai',
    settings: { ...defaultTaskSettings, workingHours: { start: '00:00', end: '23:59' } },
    api: h.deps.api,
    clock: h.clock,
    queues: h.deps.queues,
    redis: h.redis,
    keyPrefix: uniqueName('ladder'),
    logger: h.deps.logger,
    pd: h.deps.pd,
    publicBaseUrl: 'http://console.test',
    tuning: DEFAULT_TUNING,
  };
});

const HOUR = 3_600_000;

describe('the SLA ladder', () => {
  it('takes one step per passed checkpoint, never two in one tick, and stops at a closed task', async () => {
    const now = h.clock.now();
    const overdue = await TaskModel.create({
      corpId: deps.corpId,
      customerId: new Types.ObjectId(),
      advisorUserid: 'zhangwei',
      title: '首保邀约',
      dueAt: new Date(now.getTime() - 3 * HOUR),
      slaMs: HOUR,
      remindAt: new Date(now.getTime() - 3 * HOUR),
      ladder: { escalateAfterMs: 24 * HOUR, flagAfterMs: 72 * HOUR },
      nextCheckpointAt: new Date(now.getTime() - 60_000),
    });
    const closed = await TaskModel.create({
      corpId: deps.corpId,
      customerId: new Types.ObjectId(),
      advisorUserid: 'lina',
      title: '回访',
      status: 'done',
      dueAt: new Date(now.getTime() - 3 * HOUR),
      slaMs: HOUR,
      remindAt: now,
      ladder: { escalateAfterMs: 24 * HOUR, flagAfterMs: 72 * HOUR },
      nextCheckpointAt: new Date(now.getTime() - 60_000),
    });

    const first = await runLadder(deps);
    expect(first.steps).toBe(1);
    const after = await TaskModel.findById(overdue._id).lean();
    expect(after?.escalationLevel).toBe(1);
    expect(after?.history.at(-1)).toMatchObject({ actor: 'system', action: 'reminded' });
    expect(after?.nextCheckpointAt?.getTime()).toBeGreaterThan(now.getTime());
    expect((await TaskModel.findById(closed._id).lean())?.escalationLevel).toBe(0);

    // The same tick again finds nothing due: the next checkpoint lies ahead.
    await expect(runLadder(deps)).resolves.toEqual({ steps: 0, deferred: 0 });

    // Past the next checkpoint: the leader is told (level 2).
    h.clock.set(after?.nextCheckpointAt?.getTime() ?? 0);
    await expect(runLadder(deps)).resolves.toMatchObject({ steps: 1 });
    const escalated = await TaskModel.findById(overdue._id).lean();
    expect(escalated?.escalationLevel).toBe(2);
    expect(escalated?.history.at(-1)).toMatchObject({ action: 'escalated' });
  });
});

describe('transfer polling', () => {
  async function waitingTransfer(ageMs: number): Promise<string> {
    const createdAt = new Date(h.clock.nowMs() - ageMs);
    const { insertedId } = await TransferModel.collection.insertOne({
      corpId: deps.corpId,
      kind: 'in_service',
      handoverUserid: 'liuyang',
      takeoverUserid: 'lina',
      requestedBy: 'api:boss',
      status: 'polling',
      customers: [{ externalUserId: 'wmNotInWeCom01', startErrcode: 0, explanation: 'started', result: 'waiting' }],
      polls: 0,
      createdAt,
      updatedAt: createdAt,
    });
    return String(insertedId);
  }

  it('keeps polling a customer WeCom still reports nothing for, at the configured interval', async () => {
    const id = await waitingTransfer(HOUR);
    const out = await pollTransfer({ ...deps, tuning: { ...DEFAULT_TUNING, transferPollEveryMs: 5 * 60_000 } }, id);
    expect(out).toEqual({ status: 'polling', succeeded: 0, failed: 0, waiting: 1 });
    expect((await TransferModel.findById(id).lean())?.nextPollAt).toEqual(new Date(h.clock.nowMs() + 5 * 60_000));
  });

  it('gives a customer up as expired once the transfer is older than the give-up setting', async () => {
    const id = await waitingTransfer(3 * HOUR);
    const out = await pollTransfer({ ...deps, tuning: { ...DEFAULT_TUNING, transferGiveUpAfterMs: 2 * HOUR } }, id);
    expect(out).toMatchObject({ status: 'finished', waiting: 0, failed: 1 });
    expect((await TransferModel.findById(id).lean())?.customers[0]?.result).toBe('expired');
  });
});
