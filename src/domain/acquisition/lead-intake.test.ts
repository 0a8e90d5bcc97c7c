/**
 * Batched intake (docs/acquisition.md "Intake"): duplicates inside one batch merge like duplicates
 * of stored leads, bad items are rejected on their own while the others go in, and single-lead
 * calls arriving together are applied as batches with the same outcome as one by one. Real Redis
 * over TCP and the dev MongoDB server.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { DataCipher, LookupHasher } from '../../infra/data-crypto.js';
import { leadCardJob, leadCardsJob } from '../../queues/jobs/acquisition.jobs.js';
import { QueueName } from '../../queues/queue-names.js';
import { useTestStores, type TestStores } from '../../testing/stores.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import { PersonalData } from '../customers/personal-data.js';
import { OutboxEventModel } from '../events/outbox-event.model.js';
import { defaultTaskSettings } from '../tasks/task-settings.js';
import { acquisitionSettingsSchema, saveAcquisitionSettings } from './acquisition-settings.js';
import { leadCounts } from './lead-counters.js';
import { ingestLeads, type LeadIntakeDeps } from './lead-intake.js';
import { LeadModel } from './lead.model.js';

let stores: TestStores;
useTestStores('lead-intake', (s) => (stores = s));
afterAll(async () => {
  const keys = await stores.redis.keys(`${stores.queues.prefix}:{leads:*`);
  if (keys.length) await stores.redis.del(...keys);
});

const pd = new PersonalData(
  new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1'),
  new LookupHasher(randomBytes(32)),
);
const clock = new ManualClock(Date.parse('2026-06-01T03:00:00Z')); // Monday 11:00 in Shanghai
const deps = (): LeadIntakeDeps => ({
  pd,
  queues: stores.queues,
  clock,
  timeZone: 'Asia/Shanghai',
  workingHours: defaultTaskSettings.workingHours,
});

async function team(corpId: string, n: number): Promise<void> {
  await AdvisorModel.insertMany(
    Array.from({ length: n }, (_, i) => ({
      corpId,
      userid: `a${i}`,
      name: `a${i}`,
      departments: [3],
      status: 'active',
    })),
  );
  await saveAcquisitionSettings(
    corpId,
    acquisitionSettingsSchema.parse({ rules: [{ name: 'sales', departments: [3] }] }),
  );
}
/** The leads announced by card jobs: one job per lead (stored before), or per advisor and batch. */
const cardJobs = async (corpId: string) =>
  (await stores.queues.get(QueueName.scheduled).getJobs(['waiting', 'delayed']))
    .filter((j) => (j.data as { corpId: string }).corpId === corpId)
    .flatMap((j) =>
      j.name === leadCardJob.name
        ? [(j.data as { leadId: string }).leadId]
        : j.name === leadCardsJob.name
          ? (j.data as { leads: Array<{ leadId: string }> }).leads.map((l) => l.leadId)
          : [],
    );

describe('one batch', () => {
  it('merges duplicates inside the batch and into stored leads; bad items are rejected alone, in place', async () => {
    const corp = 'wwintakebatch00001';
    await team(corp, 3);
    const [stored] = await ingestLeads(deps(), corp, [{ source: 'dcc', sourceId: 'd-1', mobile: '13900000001' }], {
      actor: 'test',
    });
    expect(stored?.status).toBe('created');
    const storedId = stored?.status === 'created' ? stored.leadId : '';

    const results = await ingestLeads(
      deps(),
      corp,
      [
        { source: 'autohome', mobile: '13900000002', name: '甲' }, // 0 new
        { source: 'yiche', mobile: '+86 139-0000-0002', model: '星途瑶光' }, // 1 same mobile as 0
        { source: 'nowhere', mobile: '13900000003' }, // 2 bad source
        { source: 'dcc', sourceId: 'd-1', mobile: '13900000099' }, // 3 stored platform id
        { source: 'dongchedi', sourceId: 'dd-7', budget: '15万' }, // 4 new, no mobile
        { source: 'dongchedi', sourceId: 'dd-7', mobile: '13900000004' }, // 5 same platform id as 4
        { source: 'walk_in' }, // 6 neither mobile nor id
        { source: 'short_video', mobile: '13900000001' }, // 7 stored mobile
        { source: 'yiche', mobile: '13900000002' }, // 8 third of 0
      ],
      { actor: 'test', pointer: (i) => `/leads/${i}` },
    );
    expect(results.map((r) => [r.index, r.status])).toEqual([
      [0, 'created'],
      [1, 'merged'],
      [2, 'rejected'],
      [3, 'merged'],
      [4, 'created'],
      [5, 'merged'],
      [6, 'rejected'],
      [7, 'merged'],
      [8, 'merged'],
    ]);
    const r = results;
    const idOf = (i: number) => {
      const x = r[i];
      return x && x.status !== 'rejected' ? x.leadId : '';
    };
    expect(idOf(1)).toBe(idOf(0));
    expect(idOf(8)).toBe(idOf(0));
    expect(idOf(5)).toBe(idOf(4));
    expect(idOf(3)).toBe(storedId);
    expect(idOf(7)).toBe(storedId);
    expect(r[2]).toMatchObject({ problems: [expect.objectContaining({ path: '/leads/2/source' })] });
    expect(r[6]).toMatchObject({ problems: [expect.objectContaining({ path: '/leads/6/mobile' })] });
    expect([r[1], r[8], r[3], r[7], r[5]].map((x) => (x?.status === 'merged' ? x.repeatCount : 0))).toEqual([
      1, 2, 1, 2, 1,
    ]);

    expect(await LeadModel.countDocuments({ corpId: corp })).toBe(3);
    const first = await LeadModel.findById(idOf(0)).lean();
    expect(first).toMatchObject({ repeatCount: 2, model: '星途瑶光', stage: 'new' });
    expect(first?.history.map((h) => h.action)).toEqual(['created', 'assigned', 'repeat_interest', 'repeat_interest']);
    const byPlatform = await LeadModel.findById(idOf(4)).lean();
    expect(byPlatform).toMatchObject({ repeatCount: 1, budget: '15万' });
    const old = await LeadModel.findById(storedId).lean();
    expect(old).toMatchObject({ repeatCount: 2 });
    expect(old?.history.filter((h) => h.action === 'repeat_interest')).toHaveLength(2);

    // Exactly one card job and one lead.created event per new lead; the counters match MongoDB.
    expect((await cardJobs(corp)).sort()).toEqual([storedId, idOf(0), idOf(4)].sort());
    const events = await OutboxEventModel.find({ corpId: corp, type: 'lead.created' }).lean();
    expect(events).toHaveLength(3);
    const counts = [...(await leadCounts(stores.queues, corp)).values()];
    expect(counts.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('single-lead calls made together form batches with the outcome of one by one', async () => {
    const corp = 'wwintakebatch00002';
    await team(corp, 4);
    const calls = Array.from({ length: 40 }, (_, i) =>
      ingestLeads(deps(), corp, [{ source: 'autohome', mobile: `1380000${String(1000 + (i % 20))}` }], {
        actor: `test-${i}`,
      }),
    );
    const results = (await Promise.all(calls)).flat();
    expect(results.filter((x) => x.status === 'created')).toHaveLength(20);
    expect(results.filter((x) => x.status === 'merged')).toHaveLength(20);
    expect(await LeadModel.countDocuments({ corpId: corp })).toBe(20);
    const per = await LeadModel.aggregate<{ _id: string; n: number }>([
      { $match: { corpId: corp } },
      { $group: { _id: '$advisorUserid', n: { $sum: 1 } } },
    ]);
    expect(per.map((p) => p.n)).toEqual([5, 5, 5, 5]);
    expect(await cardJobs(corp)).toHaveLength(20);
  });
});
