import { randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import { beforeEach, describe, expect, it } from 'vitest';
import { DataCipher, LookupHasher } from '../../infra/data-crypto.js';
import type { Queues } from '../../queues/queue-factory.js';
import { useTestStores } from '../../testing/stores.js';
import { CustomerModel } from '../customers/customer.model.js';
import { PersonalData } from '../customers/personal-data.js';
import { OutboxEventModel } from '../events/outbox-event.model.js';
import { TaskModel } from '../tasks/task.model.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { AttributionModel } from './attribution.model.js';
import { attributeOutcomes, recomputeAttributions } from './attribution.service.js';
import { ingestOutcomeItems } from './outcome-batch.js';
import { OutcomeModel } from './outcome.model.js';

const pd = new PersonalData(
  new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1'),
  new LookupHasher(randomBytes(32)),
);
let queues: Queues;
useTestStores('outcome-batch', (stores) => (queues = stores.queues));
const CORP = 'wwdealer0001';
const deps = {
  corpId: CORP,
  timeZone: 'Asia/Shanghai',
  pd,
  get queues() {
    return queues;
  },
  now: () => new Date('2026-06-01T02:00:00Z'),
};
const VIN = 'LSVAB2180E2100001';
const OTHER_VIN = 'LSVAB2180E2100002';
let customerId: Types.ObjectId;

beforeEach(async () => {
  await Promise.all(
    [OutcomeModel, AttributionModel, VehicleModel, CustomerModel, TaskModel, OutboxEventModel].map((m) =>
      (m as typeof OutcomeModel).deleteMany({}),
    ),
  );
  customerId = (await CustomerModel.create({ corpId: CORP, externalUserId: 'wmOwner1' }))._id;
  await VehicleModel.create({
    corpId: CORP,
    vin: VIN,
    customerId,
    externalUserId: 'wmOwner1',
    source: 'import',
    lastServiceDate: new Date('2025-11-01T16:00:00Z'),
    mileageKm: 5000,
  });
});

const ro = (over: Record<string, unknown> = {}) => ({
  externalId: 'RO-1',
  version: 1,
  type: 'repair_order',
  occurredAt: '2026-05-09',
  vin: VIN,
  roType: 'maintenance',
  labourAmount: 300,
  partsAmount: 480.5,
  mileageKm: 10100,
  ...over,
});
const ingest = (items: unknown[]) =>
  ingestOutcomeItems(
    deps,
    items.map((raw, i) => ({ pointer: `/outcomes/${i}`, raw })),
    'api',
  );
const anchorEvents = async () =>
  (await OutboxEventModel.find({}).lean())
    .map((e) => (e as unknown as { event: { type: string; data: { field?: string } } }).event)
    .filter((e) => e.type === 'customer.anchor_changed')
    .map((e) => e.data.field);

describe('a batch of outcomes', () => {
  it('answers a mixed batch in delivery order: new, replay, older after newer, cancellation, unmatched, rejected', async () => {
    await ingest([ro({ externalId: 'RO-old', occurredAt: '2026-04-01', mileageKm: 9000 })]);
    const answer = await ingest([
      ro(), // new
      ro(), // the same again in the batch: a replay
      ro({ externalId: 'RO-2', version: 2, labourAmount: 1 }), // newer first ...
      ro({ externalId: 'RO-2', version: 1 }), // ... then the older one
      ro({ externalId: 'RO-old', version: 2, occurredAt: '2026-04-01', mileageKm: 9000, status: 'cancelled' }),
      ro({ externalId: 'RO-x', vin: 'LSVAB2180E2199999' }), // unknown VIN
      { externalId: 'bad', version: 'one' },
    ]);
    expect(answer.results.map((r) => r.status)).toEqual([
      'created',
      'unchanged',
      'created',
      'stale',
      'updated',
      'created',
      'rejected',
    ]);
    expect(answer.summary).toEqual({ created: 3, updated: 1, unchanged: 1, stale: 1, rejected: 1 });
    expect(answer.results[5]).toMatchObject({ matchedBy: 'none' });
    expect(answer.results[3]).toMatchObject({ version: 2 });
    expect(await OutcomeModel.findOne({ externalId: 'RO-2' }).lean()).toMatchObject({ version: 2, revenue: 481.5 });
    expect(await OutcomeModel.countDocuments({})).toBe(4);
    // Credit: RO-1 and RO-2 (matched, active); none for the cancelled and the unmatched one.
    const credited = await AttributionModel.find({}).lean();
    const ids = (await OutcomeModel.find({ externalId: { $in: ['RO-1', 'RO-2'] } }, { _id: 1 }).lean()).map((o) =>
      String(o._id),
    );
    expect(credited.map((a) => String(a.outcomeId)).sort()).toEqual(ids.sort());
    // A replay of the whole batch changes nothing and answers unchanged/stale.
    const replay = await ingest([ro(), ro({ externalId: 'RO-2', version: 1 })]);
    expect(replay.results.map((r) => r.status)).toEqual(['unchanged', 'stale']);
  });

  it('the same VIN twice in one batch moves the vehicle once, to the newest service date and the highest mileage', async () => {
    const answer = await ingest([
      ro({ externalId: 'RO-a', occurredAt: '2026-05-20', mileageKm: 12000 }),
      ro({ externalId: 'RO-b', occurredAt: '2026-05-09', mileageKm: 15000, roType: 'repair' }),
      ro({ externalId: 'RO-c', vin: OTHER_VIN }),
    ]);
    expect(answer.summary.created).toBe(3);
    const v = await VehicleModel.findOne({ vin: VIN }).lean();
    expect(v?.lastServiceDate?.toISOString()).toBe('2026-05-19T16:00:00.000Z');
    expect(v?.mileageKm).toBe(15000);
    expect(v?.mileageAt?.toISOString()).toBe('2026-05-08T16:00:00.000Z');
    expect(await anchorEvents()).toEqual(['lastServiceDate']);
    // Delivered again: nothing moves, no new event.
    await ingest([ro({ externalId: 'RO-a', occurredAt: '2026-05-20', mileageKm: 12000 })]);
    expect(await anchorEvents()).toEqual(['lastServiceDate']);
  });

  it('cancelling the repair order that set the service date hands it back to the newest remaining one', async () => {
    await ingest([ro({ externalId: 'RO-a', occurredAt: '2026-03-01' }), ro({ externalId: 'RO-b' })]);
    expect((await VehicleModel.findOne({ vin: VIN }).lean())?.lastServiceDate?.toISOString()).toBe(
      '2026-05-08T16:00:00.000Z',
    );
    await ingest([ro({ externalId: 'RO-b', version: 2, status: 'cancelled' })]);
    expect((await VehicleModel.findOne({ vin: VIN }).lean())?.lastServiceDate?.toISOString()).toBe(
      '2026-02-28T16:00:00.000Z',
    );
    expect(await anchorEvents()).toHaveLength(2);
  });

  it('two concurrent deliveries of one outcome end with the higher version, whichever is written first', async () => {
    // allSettled: a failing delivery must not leave the other one writing into the next test.
    const settled = await Promise.allSettled([
      ingest([ro({ version: 2, labourAmount: 2 })]),
      ingest([ro({ version: 1 })]),
    ]);
    const [a, b] = settled.map((s) => {
      if (s.status === 'rejected') throw s.reason;
      return s.value;
    });
    expect(await OutcomeModel.findOne({ externalId: 'RO-1' }).lean()).toMatchObject({ version: 2 });
    expect(a?.results[0]?.status).toMatch(/created|updated/);
    expect(b?.results[0]?.status).toMatch(/created|stale/);
    expect(await AttributionModel.countDocuments({})).toBe(1);
  });

  it('an attribution written concurrently for a just-inserted outcome is replaced, never doubled', async () => {
    await ingest([ro()]);
    const outcome = await OutcomeModel.findOne({ externalId: 'RO-1' }).lean();
    await AttributionModel.updateOne({ outcomeId: outcome?._id }, { $set: { revenue: 1 } });
    // The caller believes the outcome fresh (no record to delete): the insert is refused and becomes a replace.
    await attributeOutcomes(deps, [outcome!], undefined, new Set([String(outcome?._id)]));
    const records = await AttributionModel.find({}).lean();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ revenue: 780.5, organic: true });
  });

  it('a recomputation credits a touch recorded after the arrival, and running it again changes nothing', async () => {
    await ingest([ro(), ro({ externalId: 'RO-2', vin: OTHER_VIN })]);
    expect(await AttributionModel.findOne({}).lean()).toMatchObject({ organic: true });
    await TaskModel.create({
      corpId: CORP,
      customerId,
      title: '保养邀约',
      dueAt: new Date('2026-05-01T00:00:00Z'),
      slaMs: 1,
      ladder: { escalateAfterMs: 1, flagAfterMs: 2 },
      remindAt: new Date('2026-05-01T00:00:00Z'),
      status: 'done',
      category: 'maintenance',
      advisorUserid: 'zhangwei',
      outcome: 'appointment_booked',
      completedAt: new Date('2026-05-02T03:00:00Z'),
    });
    const range = [new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z')] as const;
    expect(await recomputeAttributions(deps, ...range)).toBe(2);
    await recomputeAttributions(deps, ...range);
    const records = await AttributionModel.find({}).lean();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ organic: false, predicted: true, touches: 1, touch: { kind: 'task' } });
  });
});
