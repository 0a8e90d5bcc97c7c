import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultJobOptions, QueueName } from '../queues/queue-names.js';
import { startPrivateRedis, type PrivateRedis } from '../testing/redis-server.js';
import { WELCOME_JOB_NAME } from '../queues/welcome.producer.js';
import { DedupJobBatcher } from './dedup-job-batcher.js';
import { DedupJobWriter, writeDedupJobs, type InboundJobInput } from './dedup-job-writer.js';
import { INBOUND_JOB_NAME } from './inbound.producer.js';

const TTL_MS = 3_600_000;
let redis: PrivateRedis;
let conn: Redis;

beforeAll(async () => {
  redis = await startPrivateRedis();
  conn = new Redis(redis.url);
});
afterAll(async () => {
  conn?.disconnect();
  await redis?.stop();
});

function queueWithPrefix(prefix: string, name: QueueName = QueueName.wecomInbound): Queue {
  return new Queue(name, { connection: conn as never, prefix, defaultJobOptions: defaultJobOptions[name] });
}

/** The event-stream entries the writer leaves out by design (inbound-add.script.ts): a new job's announcements. */
const ANNOUNCEMENTS = new Set(['added', 'waiting']);

/**
 * Every key of a prefix with its content, job timestamps and stream ids normalised; `announced`
 * false drops "added"/"waiting" entries from event streams (the writer's documented difference).
 */
async function snapshot(prefix: string, announced = true): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of (await conn.keys(`${prefix}:*`)).sort()) {
    const name = key.slice(prefix.length);
    const type = await conn.type(key);
    if (type === 'hash') out[name] = normaliseHash(name, await conn.hgetall(key));
    else if (type === 'list') out[name] = await conn.lrange(key, 0, -1);
    else if (type === 'zset') out[name] = await conn.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'stream')
      out[name] = (await conn.xrange(key, '-', '+'))
        .map(([, fields]) => fields)
        .filter((fields) => announced || !ANNOUNCEMENTS.has(fields[1] ?? ''));
    else if (type === 'string')
      out[name] = { value: await conn.get(key), ttl: (await conn.pttl(key)) > TTL_MS - 60_000 };
  }
  // BullMQ's auto-id counters: they only number jobs without a custom id
  delete out[':wecom-inbound:id'];
  delete out[':wecom-welcome:id'];
  return out;
}

/** Job hashes: the timestamp differs by run; opts is compared as JSON (Lua's cjson orders keys its own way). */
function normaliseHash(name: string, hash: Record<string, string>): Record<string, unknown> {
  if (name.endsWith(':meta')) return hash;
  return { ...hash, timestamp: 'T', opts: JSON.parse(hash.opts ?? 'null') as unknown };
}

/** What one queue's writer adds: one flag per job, true added, false already known. */
const addTo = (writer: DedupJobWriter, jobs: InboundJobInput[]) => writeDedupJobs([{ writer, jobs }]);

describe('DedupJobWriter', () => {
  it('writes exactly what BullMQ add() writes but the added/waiting events, including the duplicate and de-duplicated paths', async () => {
    const viaBull = queueWithPrefix('bull1');
    const viaWriter = queueWithPrefix('wrt1');
    const writer = new DedupJobWriter(viaWriter, INBOUND_JOB_NAME, TTL_MS);
    const data = (n: number) => ({
      corpId: 'ww1',
      receivedAt: 1_700_000_000_000 + n,
      xml: `<xml><n>${n}</n><q>"\\é</q></xml>`,
    });
    const add = (id: string, n: number) =>
      viaBull.add(INBOUND_JOB_NAME, data(n), { jobId: id, deduplication: { id, ttl: TTL_MS } });

    await add('ww1-m1', 1);
    await add('ww1-hAbC_-', 2);
    await add('ww1-m1', 3); // same id while the job exists: "duplicated"
    await conn.del('bull1:wecom-inbound:ww1-hAbC_-');
    await add('ww1-hAbC_-', 4); // job gone but the mark lives: "deduplicated"

    expect(
      await addTo(writer, [
        { id: 'ww1-m1', data: data(1) },
        { id: 'ww1-hAbC_-', data: data(2) },
        { id: 'ww1-m1', data: data(3) },
      ]),
    ).toEqual([true, true, false]);
    await conn.del('wrt1:wecom-inbound:ww1-hAbC_-');
    expect(await addTo(writer, [{ id: 'ww1-hAbC_-', data: data(4) }])).toEqual([false]);

    const expected = await snapshot('bull1', false);
    expect(Object.keys(expected).length).toBeGreaterThan(5);
    expect(expected[':wecom-inbound:events']).toEqual([
      ['event', 'duplicated', 'jobId', 'ww1-m1'],
      expect.arrayContaining(['deduplicated']),
    ]);
    expect(await snapshot('wrt1')).toEqual(expected);
    await Promise.all([viaBull.close(), viaWriter.close()]);
  });

  it('writes the jobs of two queues in one call as separate BullMQ adds to each queue would (but the added/waiting events), with and without a mark', async () => {
    const inboundViaBull = queueWithPrefix('bull4');
    const welcomeViaBull = queueWithPrefix('bull4', QueueName.wecomWelcome);
    const inbound = new DedupJobWriter(queueWithPrefix('wrt4'), INBOUND_JOB_NAME, TTL_MS);
    // Welcome jobs carry no de-duplication mark (WelcomeLane): their writer takes no TTL, BullMQ's add only the id.
    const welcome = new DedupJobWriter(queueWithPrefix('wrt4', QueueName.wecomWelcome), WELCOME_JOB_NAME);
    const event = (n: number) => ({
      corpId: 'ww4',
      receivedAt: 1_700_000_000_000 + n,
      xml: `<xml><WelcomeCode>wc${n}</WelcomeCode></xml>`,
    });
    const greeting = (n: number) => ({
      corpId: 'ww4',
      userid: 'sales.alice',
      externalUserId: `wm${n}`,
      welcomeCode: `wc${n}`,
      receivedAt: n,
      eventTime: n,
    });
    const viaBull = async (queue: Queue, name: string, id: string, data: unknown) =>
      queue.add(
        name,
        data,
        name === WELCOME_JOB_NAME ? { jobId: id } : { jobId: id, deduplication: { id, ttl: TTL_MS } },
      );

    // Both paths see a new pair, a pair whose jobs exist ("duplicated") and one whose marks outlive the jobs ("deduplicated").
    await viaBull(inboundViaBull, INBOUND_JOB_NAME, 'ww4-h2', event(2));
    await viaBull(welcomeViaBull, WELCOME_JOB_NAME, 'welcome-2', greeting(2));
    await writeDedupJobs([
      { writer: inbound, jobs: [{ id: 'ww4-h2', data: event(2) }] },
      { writer: welcome, jobs: [{ id: 'welcome-2', data: greeting(2) }] },
    ]);
    await viaBull(inboundViaBull, INBOUND_JOB_NAME, 'ww4-h3', event(3));
    await addTo(inbound, [{ id: 'ww4-h3', data: event(3) }]);
    for (const prefix of ['bull4', 'wrt4']) await conn.del(`${prefix}:wecom-inbound:ww4-h3`);

    await viaBull(inboundViaBull, INBOUND_JOB_NAME, 'ww4-h1', event(1));
    await viaBull(welcomeViaBull, WELCOME_JOB_NAME, 'welcome-1', greeting(1));
    await viaBull(inboundViaBull, INBOUND_JOB_NAME, 'ww4-h2', event(2));
    await viaBull(welcomeViaBull, WELCOME_JOB_NAME, 'welcome-2', greeting(2));
    await viaBull(inboundViaBull, INBOUND_JOB_NAME, 'ww4-h3', event(3));
    const flags = await writeDedupJobs([
      {
        writer: inbound,
        jobs: [
          { id: 'ww4-h1', data: event(1) },
          { id: 'ww4-h2', data: event(2) },
          { id: 'ww4-h3', data: event(3) },
        ],
      },
      {
        writer: welcome,
        jobs: [
          { id: 'welcome-1', data: greeting(1) },
          { id: 'welcome-2', data: greeting(2) },
        ],
      },
    ]);
    expect(flags).toEqual([true, false, false, true, false]);

    const expected = await snapshot('bull4', false);
    expect(Object.keys(expected).filter((key) => key.startsWith(':wecom-welcome:')).length).toBeGreaterThan(3);
    expect(Object.keys(expected).filter((key) => key.startsWith(':wecom-welcome:de:'))).toEqual([]);
    expect(expected[':wecom-welcome:welcome-1']).not.toHaveProperty('deid');
    expect(await snapshot('wrt4')).toEqual(expected);
    await Promise.all([inboundViaBull.close(), welcomeViaBull.close()]);
  });

  it('sends what two queues submit in one turn as one script call', async () => {
    const inbound = new DedupJobWriter(queueWithPrefix('wrt5'), INBOUND_JOB_NAME, TTL_MS);
    const welcome = new DedupJobWriter(queueWithPrefix('wrt5', QueueName.wecomWelcome), WELCOME_JOB_NAME, TTL_MS);
    const batcher = new DedupJobBatcher();
    const monitor = await conn.monitor();
    const scripts: string[] = [];
    const sawPing = new Promise<void>((resolve) => {
      monitor.on('monitor', (_time: string, args: string[]) => {
        const name = args[0]?.toLowerCase() ?? '';
        if (name.startsWith('eval')) scripts.push(args[2] ?? '');
        if (name === 'ping') resolve();
      });
    });
    await Promise.all([
      batcher.submit(inbound, { id: 'ww5-h1', data: { n: 1 } }),
      batcher.submit(welcome, { id: 'welcome-1', data: { n: 1 } }),
      batcher.submit(inbound, { id: 'ww5-h2', data: { n: 2 } }),
    ]);
    await conn.ping();
    await sawPing; // MONITOR reports in execution order: the script call came before this PING
    monitor.disconnect();
    expect(scripts).toEqual(['10']); // one call, 5 keys for each of the two queues
    expect(await conn.lrange('wrt5:wecom-inbound:wait', 0, -1)).toEqual(['ww5-h2', 'ww5-h1']);
    expect(await conn.lrange('wrt5:wecom-welcome:wait', 0, -1)).toEqual(['welcome-1']);
  });

  it('submitAfter stores a job only after its lead: a lead the queue refuses keeps the job out, in one call and over two connections', async () => {
    const other = new Redis(redis.url);
    try {
      for (const [prefix, welcomeConn] of [
        ['wrt6', conn],
        ['wrt7', other],
      ] as Array<[string, Redis]>) {
        const inbound = new DedupJobWriter(queueWithPrefix(prefix), INBOUND_JOB_NAME, TTL_MS);
        const welcomeQueue = new Queue(QueueName.wecomWelcome, {
          connection: welcomeConn as never,
          prefix,
          defaultJobOptions: defaultJobOptions[QueueName.wecomWelcome],
        });
        const welcome = new DedupJobWriter(welcomeQueue, WELCOME_JOB_NAME);
        const batcher = new DedupJobBatcher();
        // Submitted after a plain job of the same queue: the lead still goes first.
        await Promise.all([
          batcher.submit(inbound, { id: `${prefix}-a`, data: { n: 0 } }),
          batcher.submitAfter({ writer: welcome, job: { id: 'welcome-1', data: {} } }, inbound, {
            id: `${prefix}-b`,
            data: { n: 1 },
          }),
        ]);
        expect(await conn.lrange(`${prefix}:wecom-welcome:wait`, 0, -1)).toEqual(['welcome-1']);
        expect(await conn.lrange(`${prefix}:wecom-inbound:wait`, 0, -1)).toEqual([`${prefix}-b`, `${prefix}-a`]);
        // The welcome queue's meta key of the wrong type fails every write to it.
        await conn.del(`${prefix}:wecom-welcome:meta`);
        await conn.set(`${prefix}:wecom-welcome:meta`, 'not a hash');
        await expect(
          batcher.submitAfter({ writer: welcome, job: { id: 'welcome-2', data: {} } }, inbound, {
            id: `${prefix}-c`,
            data: { n: 2 },
          }),
        ).rejects.toThrow(/WRONGTYPE/);
        expect(await conn.exists(`${prefix}:wecom-inbound:${prefix}-c`)).toBe(0);
        await welcomeQueue.close();
      }
    } finally {
      other.disconnect();
    }
  });

  it('writes jobs BullMQ reads back like its own, and skips the marker while the queue is paused', async () => {
    const queue = queueWithPrefix('wrt2');
    const writer = new DedupJobWriter(queue, INBOUND_JOB_NAME, TTL_MS);
    await queue.pause();
    await addTo(writer, [{ id: 'ww2-m7', data: { corpId: 'ww2', receivedAt: 7, xml: '<xml/>' } }]);
    expect(await conn.exists('wrt2:wecom-inbound:marker')).toBe(0);
    const job = await queue.getJob('ww2-m7');
    expect(job?.name).toBe(INBOUND_JOB_NAME);
    expect(job?.data).toEqual({ corpId: 'ww2', receivedAt: 7, xml: '<xml/>' });
    expect(job?.opts).toMatchObject({ attempts: 10, jobId: 'ww2-m7', deduplication: { id: 'ww2-m7', ttl: TTL_MS } });
    expect(await queue.getJobState('ww2-m7')).toBe('waiting');
    await queue.close();
  });

  it('refuses default options it cannot write (delayed or prioritised jobs)', () => {
    const queue = new Queue('other', { connection: conn as never, prefix: 'wrt3', defaultJobOptions: { priority: 3 } });
    expect(() => new DedupJobWriter(queue, 'x', TTL_MS)).toThrow(/priority/);
    void queue.close();
  });
});
