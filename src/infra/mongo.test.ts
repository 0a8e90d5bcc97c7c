import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testMongoUri } from '../testing/env.js';
import { createLogger } from './logger.js';
import { connectMongo, disconnectMongo } from './mongo.js';
// Compiled at import, after this module turned command buffering off and before the connection
// exists, as in every process of the bot.
import { DomainEventRecordModel } from '../domain/events/domain-event-record.model.js';

beforeAll(async () => {
  await connectMongo({
    uri: testMongoUri(),
    serverSelectionTimeoutMs: 3000,
    logger: createLogger({ level: 'silent', name: 'test' }),
  });
});

afterAll(async () => {
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await disconnectMongo();
});

describe('MongoDB connection', () => {
  it('writes with majority write concern, retries writes and reads, reads from the primary', async () => {
    const options = mongoose.connection.getClient().options;
    expect(options.writeConcern?.w).toBe('majority');
    expect(options.retryWrites).toBe(true);
    expect(options.retryReads).toBe(true);
    expect(options.readPreference.mode).toBe('primary');
    const probes = mongoose.connection.collection('write_concern_probe');
    await probes.insertOne({ corpId: 'ww1', n: 1 });
    expect(await probes.countDocuments({ corpId: 'ww1' })).toBe(1);
  });

  it('builds the indexes of models compiled before it connected (the unique keys retries rely on)', async () => {
    const indexes = await DomainEventRecordModel.collection.indexes();
    const eventId = indexes.find((index) => JSON.stringify(index.key) === JSON.stringify({ eventId: 1 }));
    expect(eventId?.unique).toBe(true);
    await DomainEventRecordModel.collection.insertOne({ eventId: 'ev-1', corpId: 'ww1' });
    await expect(DomainEventRecordModel.collection.insertOne({ eventId: 'ev-1', corpId: 'ww1' })).rejects.toMatchObject(
      {
        code: 11000,
      },
    );
  });
});
