import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { sealInboundJob } from '../../ingest/inbound-seal.js';
import { DataCipher } from '../../infra/data-crypto.js';
import { Queues } from '../../queues/queue-factory.js';
import { QueueName } from '../../queues/queue-names.js';
import { testRedisUrl, uniqueName } from '../../testing/env.js';
import { purgeJobsMentioning } from './job-purge.js';

const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
const queues = new Queues(redis, uniqueName('purge'));
const cipher = new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1');

afterAll(async () => {
  await queues.get(QueueName.wecomInbound).obliterate({ force: true });
  await queues.close();
  redis.disconnect();
});

describe('purgeJobsMentioning', () => {
  it('finds a customer inside sealed inbound payloads, and only there where it is named', async () => {
    const queue = queues.get(QueueName.wecomInbound);
    const xml = (ext: string) => `<xml><ExternalUserID><![CDATA[${ext}]]></ExternalUserID></xml>`;
    await queue.add('callback.received', sealInboundJob(cipher, 'wwpurge-h1', 'wwpurge', 1, xml('wmERASEME0001')), {
      jobId: 'wwpurge-h1',
    });
    await queue.add('callback.received', sealInboundJob(cipher, 'wwpurge-h2', 'wwpurge', 2, xml('wmKEEPME00002')), {
      jobId: 'wwpurge-h2',
    });
    expect(await purgeJobsMentioning(queues, undefined, ['wmERASEME0001'])).toBe(0); // sealed: invisible without the key
    expect(await purgeJobsMentioning(queues, cipher, ['wmERASEME0001'])).toBe(1);
    expect((await queue.getJobs(['waiting'])).map((j) => j.id)).toEqual(['wwpurge-h2']);
  });
});
