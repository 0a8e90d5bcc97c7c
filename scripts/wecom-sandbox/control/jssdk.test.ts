import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ManualClock } from '../../../src/infra/clock.js';
import { createWecomClient } from '../../../src/wecom/client.js';
import { signJsapi } from '../../../src/wecom/jsapi-signature.js';
import { startSandbox, type RunningSandbox } from '../index.js';
import { DEMO_CORP_ID, DEMO_SECRET, demoScenario } from '../world/demo-seed.js';
import { deleteByPrefix, randomPrefix, silentLogger, wecomTestRedisUrl } from '../sandbox.test-support.js';

let sandbox: RunningSandbox;
let redis: Redis;
const prefix = randomPrefix('jssdk');
const url = 'http://127.0.0.1:3000/console/sidebar?sandboxChat=x';

beforeAll(async () => {
  redis = new Redis(wecomTestRedisUrl());
  sandbox = await startSandbox({ logger: silentLogger(), seed: demoScenario('http://127.0.0.1:9'), nodeEnv: 'test' });
});
afterAll(async () => {
  await sandbox.stop();
  await deleteByPrefix(redis, prefix);
  await redis.quit();
});

const post = async (path: string, body: unknown) =>
  (
    await fetch(`${sandbox.url}/__sandbox/jssdk/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
  ).json() as Promise<Record<string, unknown>>;
const get = async (path: string, q: Record<string, string>) =>
  (await fetch(`${sandbox.url}/__sandbox/jssdk/${path}?${new URLSearchParams(q)}`)).json() as Promise<
    Record<string, unknown>
  >;

describe('sandbox JS-SDK stand-in', () => {
  it('checks register signatures with the tickets it issued, like WeCom, then answers the chat calls', async () => {
    const clock = new ManualClock(Date.now());
    const client = createWecomClient({ apiBase: sandbox.url, redis, logger: silentLogger(), clock, keyPrefix: prefix });
    const creds = { corpId: DEMO_CORP_ID, secret: DEMO_SECRET };
    const [corpTicket, agentTicket] = [
      await client.jsapiTicket(creds, 'corp'),
      await client.jsapiTicket(creds, 'agent'),
    ];
    const corp = sandbox.context.world.corp(DEMO_CORP_ID)!;
    const follow = corp.follows.find((f) => f.status === 'active')!;
    const who = { corpId: DEMO_CORP_ID, userid: follow.userid };

    // Nothing works before a successful register.
    expect(await get('context', who)).toMatchObject({ errcode: 40093 });
    // The corp ticket used for agentConfig (a classic mistake) fails like WeCom: 40093.
    const wrong = await post('register', {
      ...who,
      agentId: corp.agentId,
      url,
      config: signJsapi(corpTicket, url, clock.nowMs()),
      agentConfig: signJsapi(corpTicket, url, clock.nowMs()),
    });
    expect(wrong).toMatchObject({ errcode: 40093, errMsg: 'agentConfig:fail invalid signature' });
    // Signed for another URL: fails too.
    const otherUrl = await post('register', {
      ...who,
      agentId: corp.agentId,
      url,
      config: signJsapi(corpTicket, `${url}&x=1`, clock.nowMs()),
      agentConfig: signJsapi(agentTicket, url, clock.nowMs()),
    });
    expect(otherUrl).toMatchObject({ errcode: 40093 });
    const ok = await post('register', {
      ...who,
      agentId: corp.agentId,
      url: `${url}#frag`,
      config: signJsapi(corpTicket, url, clock.nowMs()),
      agentConfig: signJsapi(agentTicket, url, clock.nowMs()),
    });
    expect(ok).toMatchObject({ errcode: 0 });

    expect(await get('context', who)).toMatchObject({ entry: 'normal' });
    expect(await post('send', { ...who, message: { msgtype: 'text', text: { content: 'hi' } } })).toMatchObject({
      errcode: -1,
    });
    const chats = (await get('chats', who)) as { customers: Array<{ externalUserId: string }> };
    expect(chats.customers.map((c) => c.externalUserId)).toContain(follow.external_userid);
    await post('select', { ...who, entry: 'single_chat_tools', externalUserId: follow.external_userid });
    expect(await get('context', who)).toMatchObject({
      entry: 'single_chat_tools',
      externalUserId: follow.external_userid,
    });
    expect(await post('send', { ...who, message: { msgtype: 'text', text: { content: '您好' } } })).toMatchObject({
      errcode: 0,
    });
    const sent = (await (await fetch(`${sandbox.url}/__sandbox/jssdk/sent`)).json()) as {
      messages: Array<Record<string, unknown>>;
    };
    expect(sent.messages).toEqual([
      expect.objectContaining({ userid: follow.userid, externalUserId: follow.external_userid, msgtype: 'text' }),
    ]);
  });
});
