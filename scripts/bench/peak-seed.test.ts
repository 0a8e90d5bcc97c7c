import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdvisorModel } from '../../src/domain/customers/advisor.model.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { ScheduleModel } from '../../src/domain/schedules/schedule.model.js';
import { TaskModel } from '../../src/domain/tasks/task.model.js';
import { DataCipher } from '../../src/infra/data-crypto.js';
import { useTestDatabase } from '../../src/testing/mongo.js';
import { peakCorpId, peakSandboxCorps, peakSizes, rearmPeak, seedPeakMongo } from './peak-seed.js';

// The seeding of `npm run bench:peak` at a tiny size: what the bench measures is only as good as
// the world it builds (docs/scale.md §4, "The 10:00 peak, measured").
let db: Awaited<ReturnType<typeof useTestDatabase>>;
beforeAll(async () => {
  db = await useTestDatabase('peak-seed');
});
afterAll(async () => {
  await db.drop();
});

describe('bench:peak seeding', () => {
  it('scales the full size down and refuses a scale outside (0, 1]', () => {
    expect(peakSizes(1)).toEqual({ corps: 200, advisorsPerCorp: 25, customers: 500_000, due: 100_000 });
    expect(peakSizes(0.01)).toEqual({ corps: 2, advisorsPerCorp: 25, customers: 5_000, due: 1_000 });
    expect(() => peakSizes(0)).toThrow(/scale/);
    expect(() => peakSizes(2)).toThrow(/scale/);
  });

  it('seeds corps, advisors, customers and due follow-ups spread over corps and advisors, and re-arms them', async () => {
    const sizes = { corps: 3, advisorsPerCorp: 4, customers: 50, due: 10 };
    const dueAt = new Date('2026-12-08T02:00:00Z');
    const cipher = new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1');
    const seeded = await seedPeakMongo(sizes, { cipher, prefix: 'peak-test', dueAt });
    expect(seeded).toEqual({ corpIds: [0, 1, 2].map(peakCorpId), customers: 50, due: 10 });
    expect(peakSandboxCorps(sizes, 'http://127.0.0.1:1').map((c) => c.members?.length)).toEqual([4, 4, 4]);
    expect(await AdvisorModel.countDocuments({ corpId: peakCorpId(1) })).toBe(4);
    expect(await CustomerModel.countDocuments({ corpId: peakCorpId(0) })).toBe(17);
    const schedules = await ScheduleModel.find({ corpId: { $in: seeded.corpIds } }).lean();
    expect(schedules).toHaveLength(10);
    expect(new Set(schedules.map((s) => s.corpId)).size).toBe(3);
    expect(new Set(schedules.map((s) => s.advisorUserid)).size).toBe(4);
    expect(schedules.every((s) => s.status === 'planned' && s.dueAt.getTime() === dueAt.getTime())).toBe(true);

    await ScheduleModel.updateMany({ corpId: { $in: seeded.corpIds } }, { $set: { status: 'fired' } });
    const next = new Date('2026-12-09T02:00:00Z');
    expect(await rearmPeak(seeded.corpIds, next)).toBe(10);
    expect(await ScheduleModel.countDocuments({ status: 'planned', dueAt: next })).toBe(10);
    expect(await TaskModel.countDocuments({ corpId: { $in: seeded.corpIds } })).toBe(0);
  });
});
