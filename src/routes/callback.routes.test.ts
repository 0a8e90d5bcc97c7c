import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCallbackEnvelope, encryptCallback, signCallback } from '../wecom/callback-crypto.js';
import type { Corp } from '../domain/corps/corp.types.js';
import { openInboundXml } from '../ingest/inbound-seal.js';
import { QueueName } from '../queues/queue-names.js';
import { welcomeJobId } from '../queues/welcome.producer.js';
import { makeCorp, startCallbackApp, type CallbackApp } from '../testing/callback-app.js';

const corp = makeCorp();
const disabled = makeCorp({ enabled: false });
const noSync = makeCorp({ contactSync: undefined });
let app: CallbackApp;

beforeAll(async () => {
  app = await startCallbackApp({ corps: [corp, disabled, noSync] });
});
afterAll(async () => {
  await app?.stop();
});

export function addEventXml(corpId: string, externalUserId: string, createTime: number): string {
  return `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[sales.alice]]></UserID><ExternalUserID><![CDATA[${externalUserId}]]></ExternalUserID><State><![CDATA[qr7]]></State><WelcomeCode><![CDATA[wc-${externalUserId}]]></WelcomeCode></xml>`;
}

function post(path: string, envelope: { body: string; query: Record<string, string> }): Promise<Response> {
  return fetch(`${app.url}${path}?${new URLSearchParams(envelope.query)}`, {
    method: 'POST',
    body: envelope.body,
    headers: { 'Content-Type': 'text/xml' },
  });
}

function signed(c: Corp, innerXml: string, creds = c.callback, extra: { timestamp?: string; receiveId?: string } = {}) {
  return buildCallbackEnvelope({
    token: creds.token,
    encodingAesKey: creds.encodingAesKey,
    receiveId: extra.receiveId ?? c.corpId,
    innerXml,
    timestamp: extra.timestamp,
  });
}

describe('GET URL verification', () => {
  it('answers exactly the decrypted echostr as text/plain', async () => {
    const plaintext = '1234567890123456789';
    const echostr = encryptCallback(corp.callback.encodingAesKey, plaintext, corp.corpId);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = '8812';
    const msgSignature = signCallback(corp.callback.token, timestamp, nonce, echostr);
    // echostr percent-encoded once, as WeCom sends it; '+' must survive.
    const res = await fetch(
      `${app.url}/wecom/callback/${corp.corpId}?msg_signature=${msgSignature}&timestamp=${timestamp}&nonce=${nonce}&echostr=${encodeURIComponent(echostr)}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from(plaintext));
  });

  it('refuses a wrong signature with 401 and an unknown corp with 404', async () => {
    const echostr = encryptCallback(corp.callback.encodingAesKey, 'x', corp.corpId);
    const bad = await fetch(
      `${app.url}/wecom/callback/${corp.corpId}?msg_signature=${'0'.repeat(40)}&timestamp=1&nonce=2&echostr=${encodeURIComponent(echostr)}`,
    );
    expect(bad.status).toBe(401);
    expect(
      (await fetch(`${app.url}/wecom/callback/wwnobody?msg_signature=x&timestamp=1&nonce=2&echostr=abc`)).status,
    ).toBe(404);
  });
});

describe('POST events', () => {
  it('enqueues exactly one job carrying corp id, receive time and the XML sealed to the job; retries add nothing', async () => {
    const xml = addEventXml(corp.corpId, 'wmRETRY0001', Math.floor(Date.now() / 1000));
    const before = await app.jobCount();
    for (let attempt = 0; attempt < 4; attempt++) {
      const res = await post(`/wecom/callback/${corp.corpId}`, signed(corp, xml));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
    }
    expect(await app.jobCount()).toBe(before + 1);
    const jobs = await app.queue.getJobs(['waiting']);
    const job = jobs.find((j) => j.data.xmlSealed && openInboundXml(app.cipher, String(j.id), j.data) === xml);
    expect(job?.data).toEqual({
      corpId: corp.corpId,
      receivedAt: expect.any(Number),
      xmlSealed: expect.stringMatching(/^v2\./),
      // An add with a WelcomeCode: its welcome job was written just before (src/ingest/welcome-lane.ts).
      welcomeEnqueued: true,
    });
    expect(JSON.stringify(job?.data)).not.toContain('wmRETRY0001');
    expect(job?.id).not.toContain(':');
    expect(job?.opts.removeOnComplete).toEqual({ age: 86_400 });
  });

  it('enqueues the welcome of an add straight from the callback, once however often WeCom retries', async () => {
    const welcomeQueue = app.queues.get(QueueName.wecomWelcome);
    const xml = addEventXml(corp.corpId, 'wmWELCOMELANE1', Math.floor(Date.now() / 1000));
    for (let attempt = 0; attempt < 3; attempt++)
      expect((await post(`/wecom/callback/${corp.corpId}`, signed(corp, xml))).status).toBe(200);
    const welcomes = (await welcomeQueue.getJobs(['waiting'])).filter(
      (j) => j.data.externalUserId === 'wmWELCOMELANE1',
    );
    expect(welcomes).toHaveLength(1);
    expect(welcomes[0]?.data).toEqual({
      corpId: corp.corpId,
      userid: 'sales.alice',
      externalUserId: 'wmWELCOMELANE1',
      state: 'qr7',
      welcomeCode: 'wc-wmWELCOMELANE1',
      receivedAt: expect.any(Number),
      eventTime: expect.any(Number),
    });
    // Written by the lane's script, read by BullMQ like its own: the code-derived id and the queue's options.
    expect(welcomes[0]?.id).toBe(welcomeJobId(corp.corpId, 'wc-wmWELCOMELANE1'));
    expect(welcomes[0]?.name).toBe('welcome');
    expect(welcomes[0]?.opts).toMatchObject({ attempts: 4, removeOnComplete: { age: 86_400 } });
    // Not an add: no welcome job.
    const edit = xml
      .replace('add_external_contact', 'edit_external_contact')
      .replace(/<WelcomeCode>.*<\/WelcomeCode>/, '')
      .replace('wmWELCOMELANE1', 'wmWELCOMELANE2');
    expect((await post(`/wecom/callback/${corp.corpId}`, signed(corp, edit))).status).toBe(200);
    expect(
      (await welcomeQueue.getJobs(['waiting'])).filter((j) => j.data.externalUserId === 'wmWELCOMELANE2'),
    ).toHaveLength(0);
  });

  it('keeps two customers added by one advisor in the same second apart', async () => {
    const second = Math.floor(Date.now() / 1000);
    const before = await app.jobCount();
    for (const id of ['wmSAME0001', 'wmSAME0002']) {
      expect(
        (await post(`/wecom/callback/${corp.corpId}`, signed(corp, addEventXml(corp.corpId, id, second)))).status,
      ).toBe(200);
    }
    expect(await app.jobCount()).toBe(before + 2);
  });

  it('de-duplicates member messages on MsgId (kept as a string beyond 2^53)', async () => {
    const base = `<xml><ToUserName><![CDATA[${corp.corpId}]]></ToUserName><FromUserName><![CDATA[sales.bob]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[tasks]]></Content><MsgId>7300000000000000123</MsgId><AgentID>1000002</AgentID></xml>`;
    const before = await app.jobCount();
    expect((await post(`/wecom/callback/${corp.corpId}`, signed(corp, base))).status).toBe(200);
    expect((await post(`/wecom/callback/${corp.corpId}`, signed(corp, base.replace('tasks', 'tasks ')))).status).toBe(
      200,
    );
    expect(await app.jobCount()).toBe(before + 1);
    expect(await app.queue.getJob(`${corp.corpId}-m7300000000000000123`)).toBeDefined();
  });

  it('verifies contact-sync callbacks with their own credentials and refuses the app credentials there', async () => {
    const xml = `<xml><ToUserName><![CDATA[${corp.corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event><ChangeType><![CDATA[update_user]]></ChangeType><UserID><![CDATA[sales.alice]]></UserID><Department><![CDATA[1,2]]></Department></xml>`;
    const sync = corp.contactSync as NonNullable<Corp['contactSync']>;
    expect((await post(`/wecom/contact-sync/${corp.corpId}`, signed(corp, xml, sync))).status).toBe(200);
    expect((await post(`/wecom/contact-sync/${corp.corpId}`, signed(corp, xml, corp.callback))).status).toBe(401);
    expect((await post(`/wecom/callback/${corp.corpId}`, signed(corp, xml, sync))).status).toBe(401);
    expect((await post(`/wecom/contact-sync/${noSync.corpId}`, signed(noSync, xml, noSync.callback))).status).toBe(404);
  });

  it("refuses disabled corps, stale timestamps and another corp's receive id without enqueueing", async () => {
    const xml = addEventXml(corp.corpId, 'wmREFUSED01', Math.floor(Date.now() / 1000));
    const before = await app.jobCount();
    expect((await post(`/wecom/callback/${disabled.corpId}`, signed(disabled, xml))).status).toBe(404);
    expect(
      (
        await post(
          `/wecom/callback/${corp.corpId}`,
          signed(corp, xml, corp.callback, { timestamp: String(Math.floor(Date.now() / 1000) - 3600) }),
        )
      ).status,
    ).toBe(401);
    expect(
      (await post(`/wecom/callback/${corp.corpId}`, signed(corp, xml, corp.callback, { receiveId: 'wwsomeoneelse' })))
        .status,
    ).toBe(401);
    expect(await app.jobCount()).toBe(before);
    const metrics = await app.metrics.registry.metrics();
    expect(metrics).toMatch(/scrm_callbacks_total\{corp="[^"]+",endpoint="callback",outcome="stale_timestamp"\} 1/);
    expect(metrics).toMatch(/scrm_callbacks_total\{corp="[^"]+",endpoint="callback",outcome="accepted"\} \d+/);
  });
});
