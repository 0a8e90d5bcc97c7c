/**
 * Routing at speed (docs/acquisition.md "Routing"): open-lead counters in Redis, picked atomically,
 * rebuilt from MongoDB. Two workers are two producer connections on the same keys, as two
 * processes would be; real Redis over TCP and the dev MongoDB server.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { DataCipher, LookupHasher } from '../../infra/data-crypto.js';
import { Queues } from '../../queues/queue-factory.js';
import { testRedisUrl } from '../../testing/env.js';
import { useTestStores, type TestStores } from '../../testing/stores.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import { PersonalData } from '../customers/personal-data.js';
import { defaultTaskSettings } from '../tasks/task-settings.js';
import { acquisitionSettingsSchema, saveAcquisitionSettings } from './acquisition-settings.js';
import { advanceLead } from './lead-actions.js';
import { leadCounts, pickAdvisors, rebuildLeadCounters } from './lead-counters.js';
import { ingestLeads, type LeadIntakeDeps } from './lead-intake.js';
import { LeadModel } from './lead.model.js';

let stores: TestStores;
useTestStores('lead-routing', (s) => (stores = s));

let otherConnection: Redis;
/** The second worker: its own connection to the same Redis and keys. */
let workerB: Queues;
beforeAll(() => {
  otherConnection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  workerB = new Queues(otherConnection, stores.queues.prefix);
});
afterAll(async () => {
  const keys = await stores.redis.keys(`${stores.queues.prefix}:{leads:*`);
  if (keys.length) await stores.redis.del(...keys);
  await workerB.close();
  otherConnection.disconnect();
});

const advisors = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);
const tally = (picks: string[]) => {
  const per = new Map<string, number>();
  for (const u of picks) per.set(u, (per.get(u) ?? 0) + 1);
  return per;
};

describe('the atomic pick', () => {
  it('two workers picking at once never pass a cap: exactly the places there are, full to the cap', async () => {
    const corp = 'wwroutecap00000001';
    const pool = advisors(10, 'cap').map((userid) => ({ userid, cap: 30 }));
    const picks = await Promise.all(
      Array.from({ length: 400 }, (_, i) => pickAdvisors(i % 2 ? stores.queues : workerB, corp, pool, 1 + (i % 3))),
    );
    const per = tally(picks.flat());
    expect(picks.flat()).toHaveLength(300);
    expect([...per.values()]).toEqual(Array(10).fill(30));
    expect(await leadCounts(stores.queues, corp)).toEqual(per);
  });

  it('two workers under the cap split evenly (least open leads first, then the longest wait)', async () => {
    const corp = 'wwroutefair0000001';
    const pool = advisors(7, 'fair').map((userid) => ({ userid, cap: 10_000 }));
    const picks = await Promise.all(
      Array.from({ length: 100 }, (_, i) => pickAdvisors(i % 2 ? stores.queues : workerB, corp, pool, 7)),
    );
    expect([...tally(picks.flat()).values()]).toEqual(Array(7).fill(100));
    // One lead at a time goes round: nobody gets a second before everyone had one.
    const round = await pickAdvisors(stores.queues, corp, pool, 7);
    expect(new Set(round).size).toBe(7);
  });
});

describe('intake from two workers', () => {
  const corp = 'wwrouteintake00001';
  const pd = new PersonalData(
    new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1'),
    new LookupHasher(randomBytes(32)),
  );
  const clock = new ManualClock(Date.parse('2026-06-01T03:00:00Z')); // Monday 11:00 in Shanghai
  const depsOf = (queues: Queues): LeadIntakeDeps => ({
    pd,
    queues,
    clock,
    timeZone: 'Asia/Shanghai',
    workingHours: defaultTaskSettings.workingHours,
  });

  it('routes to caps and no further, MongoDB and the counters agree, a closed lead frees its place', async () => {
    const team = advisors(3, 'in');
    await AdvisorModel.insertMany(
      team.map((userid) => ({ corpId: corp, userid, name: userid, departments: [7], status: 'active' })),
    );
    await saveAcquisitionSettings(
      corp,
      acquisitionSettingsSchema.parse({ defaultLeadCap: 15, rules: [{ name: 'sales', departments: [7] }] }),
    );
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        ingestLeads(
          depsOf(i % 2 ? stores.queues : workerB),
          corp,
          [{ source: 'autohome', mobile: `1390000${String(1000 + i)}` }],
          { actor: 'test' },
        ),
      ),
    );
    const created = results.flat();
    expect(created.every((r) => r.status === 'created')).toBe(true);
    const assigned = created.filter((r) => r.status === 'created' && r.advisorUserid);
    expect(assigned).toHaveLength(45);
    const inMongo = await LeadModel.aggregate<{ _id: string; n: number }>([
      { $match: { corpId: corp, advisorUserid: { $exists: true } } },
      { $group: { _id: '$advisorUserid', n: { $sum: 1 } } },
    ]);
    expect(Object.fromEntries(inMongo.map((r) => [r._id, r.n]))).toEqual({ in00: 15, in01: 15, in02: 15 });
    expect(Object.fromEntries(await leadCounts(stores.queues, corp))).toEqual({ in00: 15, in01: 15, in02: 15 });

    const first = assigned[0];
    if (first?.status !== 'created' || !first.advisorUserid) throw new Error('no assigned lead');
    await advanceLead({ corpId: corp, clock, queues: stores.queues }, first.leadId, 'lost', 'test', {
      lostReason: 'bought elsewhere',
    });
    expect((await leadCounts(stores.queues, corp)).get(first.advisorUserid)).toBe(14);
    const [next] = await ingestLeads(depsOf(workerB), corp, [{ source: 'dcc', mobile: '13900009999' }], {
      actor: 'test',
    });
    expect(next).toMatchObject({ status: 'created', advisorUserid: first.advisorUserid });
  });

  it('a rebuild puts counters that drifted back to what MongoDB holds', async () => {
    await stores.redis.hset(`${stores.queues.prefix}:{leads:${corp}}:open`, 'in00', 2, 'ghost', 5);
    const drift = await rebuildLeadCounters(stores.queues, corp);
    expect(drift).toBe(13 + 5);
    expect(Object.fromEntries(await leadCounts(stores.queues, corp))).toEqual({
      in00: 15,
      in01: 15,
      in02: 15,
      ghost: 0,
    });
  });
});
