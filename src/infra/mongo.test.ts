import mongoose from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { testMongoUri } from '../testing/env.js';
import { createLogger } from './logger.js';
import { connectMongo, disconnectMongo } from './mongo.js';

afterAll(async () => {
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await disconnectMongo();
});

describe('MongoDB connection', () => {
  it('writes with majority write concern, retries writes and reads, reads from the primary', async () => {
    await connectMongo({
      uri: testMongoUri(),
      serverSelectionTimeoutMs: 3000,
      logger: createLogger({ level: 'silent', name: 'test' }),
    });
    const options = mongoose.connection.getClient().options;
    expect(options.writeConcern?.w).toBe('majority');
    expect(options.retryWrites).toBe(true);
    expect(options.retryReads).toBe(true);
    expect(options.readPreference.mode).toBe('primary');
    const probes = mongoose.connection.collection('write_concern_probe');
    await probes.insertOne({ corpId: 'ww1', n: 1 });
    expect(await probes.countDocuments({ corpId: 'ww1' })).toBe(1);
  });
});
