import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../infra/logger.js';
import { QueueName } from '../queues/queue-names.js';
import { makeCorp, startCallbackApp, type CallbackApp } from '../testing/callback-app.js';
import { buildCallbackEnvelope } from '../wecom/callback-crypto.js';
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
});
