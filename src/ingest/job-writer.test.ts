import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../infra/logger.js';
import { QueueName } from '../queues/queue-names.js';
import { makeCorp, startCallbackApp, type CallbackApp } from '../testing/callback-app.js';
import { waitFor } from '../testing/wait.js';
import { buildCallbackEnvelope } from '../wecom/callback-crypto.js';
import { openInboundXml } from './inbound-seal.js';
import { SCRIPT_VERIFIED_BULLMQ_VERSION } from './inbound-add.script.js';
import { installedBullmqVersion, luaJobWriter, selectJobWriter, stockJobWriter, type JobWriter } from './job-writer.js';

function recordingLogger() {
  const warn = vi.fn();
  return { logger: { warn } as unknown as Logger, warn };
}

describe('selectJobWriter', () => {
  it('reads the installed BullMQ version from bullmq/package.json', () => {
    const path = createRequire(import.meta.url).resolve('bullmq/package.json');
    expect(installedBullmqVersion()).toBe((JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version);
  });

  it('uses the Lua writer for the version its script was verified against, silently', () => {
    const { logger, warn } = recordingLogger();
    expect(selectJobWriter({ logger, installedVersion: SCRIPT_VERIFIED_BULLMQ_VERSION })).toBe(luaJobWriter);
    expect(warn).not.toHaveBeenCalled();
  });

  it('falls back to the stock addBulk writer with a warning naming both versions when the installed BullMQ differs', () => {
    const { logger, warn } = recordingLogger();
    const writer = selectJobWriter({ logger, installedVersion: '99.0.0' });
    expect(writer).toBe(stockJobWriter);
    expect(writer.kind).toBe('stock');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toEqual({
      installed: '99.0.0',
      verified: SCRIPT_VERIFIED_BULLMQ_VERSION,
      jobWriter: 'stock',
    });
  });
});

/** The same duplicated callbacks through the real endpoint with each writer: the same jobs come out. */
describe.each([
  ['lua', luaJobWriter],
  ['stock', stockJobWriter],
] as Array<[string, JobWriter]>)('callbacks written by the %s writer', (kind, jobWriter) => {
  const corp = makeCorp();
  let app: CallbackApp;
  beforeAll(async () => {
    app = await startCallbackApp({ corps: [corp], jobWriter });
  });
  afterAll(async () => {
    await app?.stop();
  });

  const addXml = (n: number) =>
    `<xml><ToUserName><![CDATA[${corp.corpId}]]></ToUserName><CreateTime>${1_700_000_000 + n}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[sales.demo]]></UserID><ExternalUserID><![CDATA[wmWRITER${n}]]></ExternalUserID><State><![CDATA[s]]></State><WelcomeCode><![CDATA[wc-writer-${n}]]></WelcomeCode></xml>`;
  const post = (xml: string) => {
    const envelope = buildCallbackEnvelope({
      token: corp.callback.token,
      encodingAesKey: corp.callback.encodingAesKey,
      receiveId: corp.corpId,
      innerXml: xml,
    });
    return fetch(`${app.url}/wecom/callback/${corp.corpId}?${new URLSearchParams(envelope.query)}`, {
      method: 'POST',
      body: envelope.body,
    });
  };

  it(`reports the ${kind} writer on readiness and metrics`, async () => {
    expect(app.ingest.jobWriter).toBe(kind);
    expect(await app.ingest.health.check()).toMatchObject({ detail: { jobWriter: kind } });
    expect(await app.metrics.registry.getSingleMetricAsString('scrm_ingest_job_writer')).toContain(
      `scrm_ingest_job_writer{writer="${kind}"} 1`,
    );
  });

  it('makes exactly one inbound job and one welcome job per event, however the duplicates arrive', async () => {
    // Concurrent duplicates (one batch), sequential retries (later batches), and a retry after the job is gone (the mark holds).
    const statuses = await Promise.all([1, 1, 1, 2, 2, 3].map((n) => post(addXml(n)).then((res) => res.status)));
    for (const n of [1, 2, 3]) statuses.push((await post(addXml(n))).status);
    expect(statuses.every((status) => status === 200)).toBe(true);
    const inbound = await app.queue.getJobs(['waiting']);
    expect(inbound).toHaveLength(3);
    await inbound[0]?.remove();
    expect((await post(addXml(1))).status).toBe(200);
    expect((await post(addXml(2))).status).toBe(200);
    expect(await app.jobCount()).toBe(2);
    const welcomes = await app.queues.get(QueueName.wecomWelcome).getJobs(['waiting']);
    expect(welcomes.map((job) => job.data.externalUserId).sort()).toEqual(['wmWRITER1', 'wmWRITER2', 'wmWRITER3']);
    for (const job of inbound.slice(1))
      expect(job.opts).toMatchObject({ jobId: job.id, deduplication: { id: job.id } });
  });

  it("marks an add event's inbound job welcomeEnqueued only once its welcome job is stored; when the welcome write fails the callback is spooled and its job goes unmarked", async () => {
    const welcomeQueue = app.queues.get(QueueName.wecomWelcome);
    const inboundOf = async (ext: string) =>
      (await app.queue.getJobs(['waiting'])).find((job) =>
        openInboundXml(app.cipher, String(job.id), job.data).includes(ext),
      );
    const welcomesOf = async (ext: string) =>
      (await welcomeQueue.getJobs(['waiting'])).filter((job) => job.data.externalUserId === ext);

    expect((await post(addXml(10))).status).toBe(200);
    expect((await inboundOf('wmWRITER10'))?.data.welcomeEnqueued).toBe(true);
    expect(await welcomesOf('wmWRITER10')).toHaveLength(1);
    // An add without a WelcomeCode has no welcome job: its inbound job is not marked.
    const noCode = addXml(12).replace(/<WelcomeCode>.*<\/WelcomeCode>/, '');
    expect((await post(noCode)).status).toBe(200);
    expect((await inboundOf('wmWRITER12'))?.data).not.toHaveProperty('welcomeEnqueued');

    // The welcome queue refuses every write (its meta key of the wrong type fails the add scripts):
    // the inbound job written with it must not be stored marked.
    const conn = (await welcomeQueue.getBackend().client) as unknown as Redis;
    const meta = welcomeQueue.keys.meta as string;
    const saved = (await conn.exists(meta)) === 1;
    if (saved) await conn.rename(meta, `${meta}.saved`);
    await conn.set(meta, 'not a hash');
    try {
      expect((await post(addXml(11))).status).toBe(200);
    } finally {
      await conn.del(meta);
      if (saved) await conn.rename(`${meta}.saved`, meta);
    }
    expect(await app.metrics.registry.metrics()).toMatch(/outcome="spooled"} 1/);
    // The spool relay moves it to the queue, unmarked: the worker enqueues its welcome.
    const drained = await waitFor(
      async () => (app.ingest.spool.depth === 0 ? await inboundOf('wmWRITER11') : undefined),
      'the spooled callback in the queue',
      { timeoutMs: 5000, intervalMs: 20 },
    );
    expect(drained.data).not.toHaveProperty('welcomeEnqueued');
    expect(await welcomesOf('wmWRITER11')).toHaveLength(0);
  });
});
