import { createHash } from 'node:crypto';
import mongoose, { Schema } from 'mongoose';
import { MongoBulkWriteError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useMongooseTarget } from './conformance.test-support.js';

/**
 * End-to-end scenario over models shaped like the product's (defined here until the real
 * models exist): customers with encrypted fields + lookup hashes, schedules with a
 * {corpId,status,dueAt} index, tasks with a unique scheduleId.
 */
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const fakeEncrypt = (s: string): string => Buffer.from(s).toString('base64');

const customerSchema = new Schema(
  {
    corpId: { type: String, required: true },
    externalUserId: { type: String, required: true },
    nameEnc: String,
    phoneEnc: String,
    phoneHash: String,
    tags: [String],
    vehicles: [{ vin: String, model: String, boughtAt: Date }],
  },
  { timestamps: true },
);
customerSchema.index({ corpId: 1, externalUserId: 1 }, { unique: true });
customerSchema.index(
  { corpId: 1, phoneHash: 1 },
  { unique: true, partialFilterExpression: { phoneHash: { $type: 'string' } } },
);

const scheduleSchema = new Schema(
  {
    corpId: String,
    customerId: { type: Schema.Types.ObjectId, ref: 'Customer' },
    status: { type: String, enum: ['pending', 'done', 'cancelled'], default: 'pending' },
    dueAt: Date,
    kind: String,
  },
  { timestamps: true },
);
scheduleSchema.index({ corpId: 1, status: 1, dueAt: 1 });

const taskSchema = new Schema(
  { scheduleId: { type: Schema.Types.ObjectId, unique: true }, corpId: String, state: String },
  { timestamps: true },
);

let conn: mongoose.Connection;
useMongooseTarget('e2e', (_target, connection) => (conn = connection));

describe('K. mongoose end to end', () => {
  it('customers, schedules and tasks: indexes, CRUD, upserts, positional updates, E11000, bulk, aggregation, cursors, transactions', async () => {
    const Customer = conn.model('Customer', customerSchema);
    const Schedule = conn.model('Schedule', scheduleSchema);
    const Task = conn.model('Task', taskSchema);
    await Promise.all([Customer.init(), Schedule.init(), Task.init()]);
    await Customer.syncIndexes();
    expect((await Schedule.listIndexes()).map((i) => i.name)).toContain('corpId_1_status_1_dueAt_1');

    const phone = '+8613800000000';
    const c1 = await Customer.create({
      corpId: 'corp1',
      externalUserId: 'wm1',
      nameEnc: fakeEncrypt('Zhang'),
      phoneEnc: fakeEncrypt(phone),
      phoneHash: sha(phone),
      tags: ['lead'],
      vehicles: [
        { vin: 'V1', model: 'A' },
        { vin: 'V2', model: 'B' },
      ],
    });
    await Customer.create({ corpId: 'corp1', externalUserId: 'wm2' });
    await Customer.create({ corpId: 'corp1', externalUserId: 'wm3' }); // no phoneHash: partial index allows it
    await expect(
      Customer.create({ corpId: 'corp1', externalUserId: 'wm4', phoneHash: sha(phone) }),
    ).rejects.toMatchObject({ code: 11000, keyPattern: { corpId: 1, phoneHash: 1 } });

    const up = await Customer.findOneAndUpdate(
      { corpId: 'corp1', externalUserId: 'wm9' },
      { $set: { tags: ['new'] }, $setOnInsert: { nameEnc: fakeEncrypt('Li') } },
      { upsert: true, returnDocument: 'after' },
    ).lean();
    expect(up).toMatchObject({ corpId: 'corp1', externalUserId: 'wm9', tags: ['new'] });
    expect(up?.createdAt).toBeInstanceOf(Date);
    await Customer.updateOne({ _id: c1._id, 'vehicles.vin': 'V2' }, { $set: { 'vehicles.$.model': 'B2' } });
    await Customer.updateOne(
      { _id: c1._id },
      { $set: { 'vehicles.$[v].boughtAt': new Date('2023-05-01') } },
      { arrayFilters: [{ 'v.vin': 'V1' }] },
    );
    const fresh = await Customer.findById(c1._id).lean();
    expect(fresh?.vehicles.map((v) => [v.vin, v.model, v.boughtAt?.toISOString() ?? null])).toEqual([
      ['V1', 'A', '2023-05-01T00:00:00.000Z'],
      ['V2', 'B2', null],
    ]);
    expect(
      await Customer.findOne({ corpId: 'corp1', phoneHash: sha(phone) })
        .select('externalUserId')
        .lean(),
    ).toMatchObject({ externalUserId: 'wm1' });

    const base = Date.UTC(2025, 0, 1);
    const schedules = await Schedule.insertMany(
      Array.from({ length: 150 }, (_, i) => ({
        corpId: i % 2 ? 'corp1' : 'corp2',
        customerId: c1._id,
        status: i % 5 === 0 ? 'done' : 'pending',
        dueAt: new Date(base + i * 3_600_000),
        kind: 'follow-up',
      })),
    );
    const due = await Schedule.find({
      corpId: 'corp1',
      status: 'pending',
      dueAt: { $lte: new Date(base + 50 * 3_600_000) },
    })
      .sort({ dueAt: 1 })
      .lean();
    expect(due.map((s) => s.dueAt?.getTime())).toEqual(
      Array.from({ length: 51 }, (_, i) => i)
        .filter((i) => i % 2 === 1 && i % 5 !== 0)
        .map((i) => base + i * 3_600_000),
    );

    const first = schedules[1];
    await Task.create({ scheduleId: first?._id, corpId: 'corp1', state: 'open' });
    await expect(Task.create({ scheduleId: first?._id, corpId: 'corp1', state: 'dup' })).rejects.toBeInstanceOf(
      MongoServerError,
    );
    const bulk = await Task.bulkWrite(
      [
        { insertOne: { document: { scheduleId: schedules[3]?._id, state: 'open' } } },
        { insertOne: { document: { scheduleId: first?._id, state: 'dup' } } },
        { insertOne: { document: { scheduleId: schedules[7]?._id, state: 'open' } } },
      ],
      { ordered: false },
    ).catch((e: unknown) => e);
    expect(bulk).toBeInstanceOf(MongoBulkWriteError);
    expect(await Task.countDocuments()).toBe(3);

    const perCorp = await Schedule.aggregate<{ _id: string; n: number; pending: number }>([
      {
        $group: {
          _id: '$corpId',
          n: { $sum: 1 },
          pending: { $sum: { $cond: [{ $eq: ['$status', 'pending'] }, 1, 0] } },
        },
      },
      { $sort: { _id: 1 } },
    ]);
    expect(perCorp).toEqual([
      { _id: 'corp1', n: 75, pending: 60 },
      { _id: 'corp2', n: 75, pending: 60 },
    ]);
    const joined = await Task.aggregate([
      { $lookup: { from: 'schedules', localField: 'scheduleId', foreignField: '_id', as: 'schedule' } },
      {
        $facet: {
          total: [{ $count: 'n' }],
          withSchedule: [{ $match: { 'schedule.0': { $exists: true } } }, { $count: 'n' }],
        },
      },
    ]);
    expect(joined).toEqual([{ total: [{ n: 3 }], withSchedule: [{ n: 3 }] }]);

    let streamed = 0;
    for await (const _s of Schedule.find({ kind: 'follow-up' }).batchSize(40).cursor()) streamed++;
    expect(streamed).toBe(150);

    await conn.transaction(async (session) => {
      await Schedule.updateOne({ _id: first?._id }, { $set: { status: 'done' } }, { session });
      await Task.updateOne({ scheduleId: first?._id }, { $set: { state: 'closed' } }, { session });
    });
    expect((await Task.findOne({ scheduleId: first?._id }).lean())?.state).toBe('closed');
    await expect(
      conn.transaction(async (session) => {
        await Schedule.deleteMany({ corpId: 'corp2' }, { session });
        throw new Error('abort on purpose');
      }),
    ).rejects.toThrow('abort on purpose');
    expect(await Schedule.countDocuments({ corpId: 'corp2' })).toBe(75);
  });
});
