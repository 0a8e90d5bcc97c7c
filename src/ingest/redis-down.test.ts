import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCallbackEnvelope } from '../wecom/callback-crypto.js';
import { makeCorp, startCallbackApp, type CallbackApp } from '../testing/callback-app.js';
import { startPrivateRedis, type PrivateRedis } from '../testing/redis-server.js';
import { waitFor } from '../testing/wait.js';

const corp = makeCorp();
let redis: PrivateRedis;
const apps: CallbackApp[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis({ appendOnly: true });
});
afterAll(async () => {
  for (const app of apps) await app.stop().catch(() => undefined);
  await redis?.stop();
});

const inner = (ext: string) =>
  `<xml><ToUserName><![CDATA[${corp.corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[sales.alice]]></UserID><ExternalUserID><![CDATA[${ext}]]></ExternalUserID></xml>`;
const envelope = (ext: string) =>
  buildCallbackEnvelope({
    token: corp.callback.token,
    encodingAesKey: corp.callback.encodingAesKey,
    receiveId: corp.corpId,
    innerXml: inner(ext),
  });

async function deliver(app: CallbackApp, env: ReturnType<typeof envelope>): Promise<number | 'closed'> {
  try {
    const res = await fetch(`${app.url}/wecom/callback/${corp.corpId}?${new URLSearchParams(env.query)}`, {
      method: 'POST',
      body: env.body,
      signal: AbortSignal.timeout(5000),
    });
    return res.status;
  } catch {
    return 'closed';
  }
}

describe('Redis down', () => {
  it('answers 200 from the spool and turns every spooled callback into exactly one job when Redis returns', async () => {
    const app = await startCallbackApp({
      corps: [corp],
      env: { REDIS_URL: redis.url, CALLBACK_ENQUEUE_TIMEOUT_MS: '300' },
    });
    apps.push(app);
    expect(await deliver(app, envelope('wmBEFORE'))).toBe(200);
    expect(await app.jobCount()).toBe(1);

    await redis.kill();
    const during = ['wmDOWN1', 'wmDOWN2', 'wmDOWN3', 'wmDOWN4'].map(envelope);
    for (const env of during) expect(await deliver(app, env)).toBe(200);
    expect(await deliver(app, during[0] as ReturnType<typeof envelope>)).toBe(200); // a WeCom retry while Redis is down
    expect(app.ingest.spool.depth).toBe(5);
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      dependencies: { ingest: { state: 'up', redis: false, spoolWritable: true, spoolDepth: 5 } },
    });

    await redis.restart();
    await waitFor(
      async () => app.ingest.spool.depth === 0 && (await app.jobCount()) === 5,
      'spool drained into the queue',
      { timeoutMs: 20_000 },
    );
    expect(await app.jobCount()).toBe(5); // 1 before + 4 distinct during; the retry was de-duplicated
    expect(await deliver(app, during[1] as ReturnType<typeof envelope>)).toBe(200); // late WeCom retry after the drain
    expect(await app.jobCount()).toBe(5);
    const metrics = await app.metrics.registry.metrics();
    expect(metrics).toContain('outcome="spooled"} 5');
    expect(metrics).toMatch(/scrm_spool_depth 0/);
  }, 60_000);

  it('spools within the enqueue timeout when Redis is connected but does not answer, and still makes one job of each callback', async () => {
    const app = await startCallbackApp({
      corps: [corp],
      env: { REDIS_URL: redis.url, CALLBACK_ENQUEUE_TIMEOUT_MS: '300' },
    });
    apps.push(app);
    const before = await app.jobCount();
    const admin = new Redis(redis.url);
    const waitingBefore = await admin.llen(`${app.config.redis.queuePrefix}:wecom-inbound:wait`);
    try {
      // Scripts wait while writes are paused; the producer connection stays 'ready' throughout.
      await admin.client('PAUSE', 10_000, 'WRITE');
      const statuses = await Promise.all(
        ['wmSTALL1', 'wmSTALL2', 'wmSTALL3'].map((ext) => deliver(app, envelope(ext))),
      );
      // Answered while writes were still paused, so from the spool: the batcher gave up after 300 ms.
      expect(statuses).toEqual([200, 200, 200]);
      expect(app.ingest.spool.depth).toBe(3);
      expect(await admin.llen(`${app.config.redis.queuePrefix}:wecom-inbound:wait`)).toBe(waitingBefore); // plain reads are not paused
    } finally {
      await admin.client('UNPAUSE');
      admin.disconnect();
    }
    // The timed-out script call runs once writes resume, and the relay's re-adds meet its marks.
    await waitFor(async () => app.ingest.spool.depth === 0 && (await app.jobCount()) === before + 3, 'spool drained', {
      timeoutMs: 20_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await app.jobCount()).toBe(before + 3);
    expect(await app.metrics.registry.metrics()).toContain('outcome="spooled"} 3');
  }, 60_000);

  it('closes the connection without an answer when the spool is unwritable too; the retry after Redis returns succeeds', async () => {
    const blocker = join(mkdtempSync(join(tmpdir(), 'scrm-block-')), 'file');
    writeFileSync(blocker, 'not a directory');
    const app = await startCallbackApp({
      corps: [corp],
      env: { REDIS_URL: redis.url, CALLBACK_ENQUEUE_TIMEOUT_MS: '300', SPOOL_PATH: join(blocker, 'spool') },
    });
    apps.push(app);
    const before = await app.jobCount();
    await redis.kill();
    const env = envelope('wmNOSPOOL');
    expect(await deliver(app, env)).toBe('closed');
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(503);
    await redis.restart();
    // WeCom retries after a connection failure (docs/wecom.md §1.6): the same request, later.
    const status = await waitFor(async () => ((await deliver(app, env)) === 200 ? 200 : undefined), 'retry accepted', {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    expect(status).toBe(200);
    expect(await app.jobCount()).toBe(before + 1);
  }, 60_000);
});
