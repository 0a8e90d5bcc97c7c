import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { DataCipher, LookupHasher } from '../../infra/data-crypto.js';
import { Queues } from '../../queues/queue-factory.js';
import { QueueName } from '../../queues/queue-names.js';
import { useTestStores } from '../../testing/stores.js';
import { CustomerModel } from '../customers/customer.model.js';
import { PersonalData } from '../customers/personal-data.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { vehicleInputSchema } from './vehicle-input.js';
import { upsertVehicle, type VehicleDeps } from './vehicle.service.js';
import { VehicleModel } from './vehicle.model.js';

const pd = new PersonalData(
  new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1'),
  new LookupHasher(randomBytes(32)),
);
let queues: Queues;
useTestStores('vehicles', (stores) => (queues = stores.queues));
const deps: VehicleDeps = {
  corpId: 'wwdealer0001',
  timeZone: 'Asia/Shanghai',
  pd,
  get queues() {
    return queues;
  },
  now: () => new Date('2026-05-01T02:00:00Z'),
};

beforeEach(async () => {
  await Promise.all([
    VehicleModel.deleteMany({}),
    CustomerModel.deleteMany({}),
    RelationshipModel.deleteMany({}),
    queues.get(QueueName.domainEvents).obliterate({ force: true }),
  ]);
});

async function customerWithMobile(externalUserId: string, mobile: string, userid = 'zhangwei') {
  const customer = await CustomerModel.create({ corpId: deps.corpId, externalUserId });
  await RelationshipModel.create({
    corpId: deps.corpId,
    userid,
    externalUserId,
    customerId: customer._id,
    remarkMobilesEnc: [pd.cipher.encrypt(mobile)],
    remarkMobileHashes: [pd.hash('mobile', mobile)],
  });
  return customer;
}

async function emitted() {
  const jobs = await queues.get(QueueName.domainEvents).getJobs(['waiting', 'delayed', 'prioritized']);
  return jobs.map((j) => `${j.name}${j.data.data?.field ? `:${j.data.data.field}` : ''}`).sort();
}

const input = (raw: Record<string, unknown>) => vehicleInputSchema.parse(raw);

describe('vehicles', () => {
  it('links by normalised mobile, stores local dates, and a re-import changes nothing', async () => {
    const customer = await customerWithMobile('wmCust1', '13800000011');
    const row = input({
      vin: 'lsvab2180e2000001',
      model: '星越L',
      deliveryDate: '2026-04-30',
      mobile: '+86 138 0000 0011',
      salesUserid: 'zhangwei',
    });
    const first = await upsertVehicle(deps, row, 'import');
    expect(first).toMatchObject({ status: 'created', vin: 'LSVAB2180E2000001', linked: true });
    const stored = await VehicleModel.findOne({ vin: 'LSVAB2180E2000001' }).lean();
    expect(String(stored?.customerId)).toBe(String(customer._id));
    expect(stored?.deliveryDate?.toISOString()).toBe('2026-04-29T16:00:00.000Z'); // 00:00 in Shanghai
    expect(await emitted()).toEqual(['vehicle.linked']);

    expect(await upsertVehicle(deps, row, 'import')).toMatchObject({ status: 'unchanged' });
    expect(await emitted()).toEqual(['vehicle.linked']);
  });

  it("emits anchor_changed when a linked vehicle's delivery or insurance date moves", async () => {
    await customerWithMobile('wmCust2', '13800000012');
    await upsertVehicle(
      deps,
      input({ vin: 'LSVAB2180E2000002', deliveryDate: '2026-04-01', externalUserId: 'wmCust2' }),
      'api',
    );
    await upsertVehicle(
      deps,
      input({ vin: 'LSVAB2180E2000002', deliveryDate: '2026-04-03', insuranceExpiry: '2027-04-02' }),
      'api',
    );
    expect(await emitted()).toEqual([
      'customer.anchor_changed:deliveryDate',
      'customer.anchor_changed:insuranceExpiry',
      'vehicle.linked',
    ]);
  });

  it('refuses ambiguous mobiles and unknown external ids with a pointer and reason', async () => {
    await customerWithMobile('wmA', '13800000013', 'zhangwei');
    await customerWithMobile('wmB', '13800000013', 'lina');
    const ambiguous = await upsertVehicle(deps, input({ vin: 'LSVAB2180E2000003', mobile: '13800000013' }), 'api');
    expect(ambiguous).toEqual({
      status: 'rejected',
      vin: 'LSVAB2180E2000003',
      problems: [{ path: '/mobile', message: expect.stringMatching(/^2 customers have this mobile/) }],
    });
    const unknown = await upsertVehicle(deps, input({ vin: 'LSVAB2180E2000003', externalUserId: 'wmNobody' }), 'api');
    expect(unknown).toMatchObject({ status: 'rejected', problems: [{ path: '/externalUserId' }] });
    expect(await VehicleModel.countDocuments({})).toBe(0);
  });

  it('validates VINs, dates and mileage with messages a person can act on', () => {
    const result = vehicleInputSchema.safeParse({
      vin: 'LSVAB2180E200000O',
      deliveryDate: '2026-02-30',
      mileageKm: -5,
      colour: 'red',
    });
    expect(result.success).toBe(false);
    const messages = result.error?.issues.map((i) => `${i.path.join('.') || i.code}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'vin: a VIN has 17 letters and digits (no I, O or Q)',
        'deliveryDate: is not a real calendar date',
        'mileageKm: cannot be negative',
      ]),
    );
    expect(messages?.some((m) => m.includes('colour'))).toBe(true);
  });
});
