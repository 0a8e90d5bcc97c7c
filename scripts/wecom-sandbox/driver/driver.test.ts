import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decrypt, getSignature } from '@wecom/crypto';
import { XMLParser } from 'fast-xml-parser';
import { ManualClock } from '../../../src/infra/clock.js';
import { startSandbox, type RunningSandbox } from '../index.js';
import { DEMO_CALLBACK, DEMO_CONTACT_SYNC, DEMO_CORP_ID, demoScenario } from '../world/demo-seed.js';
import { silentLogger } from '../sandbox.test-support.js';

interface Received {
  path: string;
  query: URLSearchParams;
  body: string;
}

/** A tiny receiver: records each POST and answers after `delayMs`. */
async function startReceiver(): Promise<{ url: string; received: Received[]; delayMs: number; server: Server }> {
  const state = { received: [] as Received[], delayMs: 0 };
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      state.received.push({ path: url.pathname, query: url.searchParams, body });
      setTimeout(() => {
        if (!res.destroyed) res.end('');
      }, state.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, { url: `http://127.0.0.1:${port}`, server });
}

/** Opens an envelope with Tencent's own library, as an independent check. */
function open(
  r: Received,
  token: string,
  aesKey: string,
): { inner: Record<string, unknown>; receiveId: string; outer: Record<string, unknown> } {
  const parser = new XMLParser({ processEntities: false, parseTagValue: false });
  const outer = (parser.parse(r.body) as { xml: Record<string, unknown> }).xml;
  const encrypted = String(outer.Encrypt);
  const sig = getSignature(token, r.query.get('timestamp') ?? '', r.query.get('nonce') ?? '', encrypted);
  expect(r.query.get('msg_signature')).toBe(sig);
  const { message, id } = decrypt(aesKey, encrypted);
  return { inner: (parser.parse(message) as { xml: Record<string, unknown> }).xml, receiveId: id, outer };
}

let sandbox: RunningSandbox;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const clock = new ManualClock(Date.UTC(2025, 5, 1, 1, 0, 0));

beforeAll(async () => {
  receiver = await startReceiver();
  sandbox = await startSandbox({ clock, logger: silentLogger(), nodeEnv: 'test', delivery: { retryDelayMs: 0 } });
});

beforeEach(() => {
  receiver.received.length = 0;
  receiver.delayMs = 0;
  sandbox.world.seed(demoScenario(receiver.url));
});

afterAll(async () => {
  await sandbox.stop();
  receiver.server.closeAllConnections();
  await new Promise((resolve) => receiver.server.close(resolve));
});

describe('callback driver', () => {
  it('delivers add_external_contact encrypted and signed like WeCom', async () => {
    const result = await sandbox.driver.addCustomer({
      corpId: DEMO_CORP_ID,
      userid: 'zhangwei',
      state: 'spring_qr7',
      customer: { name: '冯先生' },
    });
    expect(result.delivery?.ok).toBe(true);
    expect(receiver.received).toHaveLength(1);
    const r = receiver.received[0]!;
    expect(r.path).toBe(`/wecom/callback/${DEMO_CORP_ID}`);
    const { inner, receiveId, outer } = open(r, DEMO_CALLBACK.token, DEMO_CALLBACK.encodingAesKey);
    expect(receiveId).toBe(DEMO_CORP_ID);
    expect(outer.ToUserName).toBe(DEMO_CORP_ID);
    expect(inner).toMatchObject({
      ToUserName: DEMO_CORP_ID,
      FromUserName: 'sys',
      MsgType: 'event',
      Event: 'change_external_contact',
      ChangeType: 'add_external_contact',
      UserID: 'zhangwei',
      ExternalUserID: result.externalUserId,
      State: 'spring_qr7',
      WelcomeCode: result.welcomeCode,
      CreateTime: String(Math.floor(clock.nowMs() / 1000)),
    });
    expect(r.query.get('timestamp')).toBe(String(Math.floor(clock.nowMs() / 1000)));
  });

  it('delivers card clicks and member texts with AgentID, and the other customer events', async () => {
    const ext = 'wmSandboxDemoCustomer00000000002';
    sandbox.world.corp(DEMO_CORP_ID)!.messages.push({
      msgid: 'm1',
      atMs: clock.nowMs(),
      msgtype: 'template_card',
      touser: ['zhangwei'],
      body: { template_card: { card_type: 'button_interaction' } },
      taskId: 'task-9',
    });
    const click = await sandbox.driver.clickCardButton({
      corpId: DEMO_CORP_ID,
      userid: 'zhangwei',
      taskId: 'task-9',
      eventKey: 'done',
      selectedItems: [{ questionKey: 'q', optionIds: ['a'] }],
    });
    await sandbox.driver.memberTextsApp({ corpId: DEMO_CORP_ID, userid: 'zhangwei', content: '/tasks' });
    await sandbox.driver.editRelationship({
      corpId: DEMO_CORP_ID,
      userid: 'zhangwei',
      externalUserId: ext,
      addTags: ['VIP'],
    });
    await sandbox.driver.customerDeletesAdvisor({ corpId: DEMO_CORP_ID, userid: 'zhangwei', externalUserId: ext });
    await sandbox.driver.advisorDeletesCustomer({ corpId: DEMO_CORP_ID, userid: 'zhangwei', externalUserId: ext });
    await sandbox.driver.transferFails({
      corpId: DEMO_CORP_ID,
      userid: 'lina',
      externalUserId: ext,
      reason: 'customer_limit_exceed',
    });
    const tag = await sandbox.driver.changeTags({
      corpId: DEMO_CORP_ID,
      change: 'create',
      groupName: '客户阶段',
      name: '流失',
    });
    const opened = receiver.received.map((r) => open(r, DEMO_CALLBACK.token, DEMO_CALLBACK.encodingAesKey));
    expect(opened.map((o) => o.inner.ChangeType ?? o.inner.Event ?? o.inner.MsgType)).toEqual([
      'template_card_event',
      'text',
      'edit_external_contact',
      'del_follow_user',
      'del_external_contact',
      'transfer_fail',
      'create',
    ]);
    expect(opened[0]!.outer.AgentID).toBe('1000002');
    expect(opened[0]!.inner).toMatchObject({
      EventKey: 'done',
      TaskId: 'task-9',
      ResponseCode: click.responseCode,
      CardType: 'button_interaction',
      AgentID: '1000002',
    });
    expect(opened[1]!.inner).toMatchObject({ MsgType: 'text', Content: '/tasks', FromUserName: 'zhangwei' });
    expect(String(opened[1]!.inner.MsgId)).toMatch(/^\d{19}$/);
    expect(opened[5]!.inner.FailReason).toBe('customer_limit_exceed');
    expect(opened[6]!.inner).toMatchObject({ Event: 'change_external_tag', Id: tag.id, TagType: 'tag' });
  });

  it('sends member changes to the contact-sync URL with its own key and reduced payloads', async () => {
    await sandbox.driver.changeMember({
      corpId: DEMO_CORP_ID,
      change: 'create_user',
      userid: 'sunli',
      name: '孙丽',
      department: [2],
    });
    const renameOnly = await sandbox.driver.changeMember({
      corpId: DEMO_CORP_ID,
      change: 'update_user',
      userid: 'sunli',
      name: '孙丽丽',
    });
    expect(renameOnly.delivery).toBeUndefined();
    await sandbox.driver.changeMember({
      corpId: DEMO_CORP_ID,
      change: 'update_user',
      userid: 'sunli',
      department: [3],
    });
    expect(receiver.received.map((r) => r.path)).toEqual([
      `/wecom/contact-sync/${DEMO_CORP_ID}`,
      `/wecom/contact-sync/${DEMO_CORP_ID}`,
    ]);
    const [created, updated] = receiver.received.map(
      (r) => open(r, DEMO_CONTACT_SYNC.token, DEMO_CONTACT_SYNC.encodingAesKey).inner,
    );
    expect(created).toMatchObject({
      Event: 'change_contact',
      ChangeType: 'create_user',
      UserID: 'sunli',
      Department: '2',
    });
    expect(created).not.toHaveProperty('Name');
    expect(updated).toMatchObject({ ChangeType: 'update_user', UserID: 'sunli', Department: '3' });
    expect(() => open(receiver.received[0]!, DEMO_CALLBACK.token, DEMO_CALLBACK.encodingAesKey)).toThrow();
  });

  it('retries 3 times when the receiver answers after 6 s (WeCom waits 5 s)', async () => {
    receiver.delayMs = 6000;
    const result = await sandbox.driver.memberTextsApp({ corpId: DEMO_CORP_ID, userid: 'lina', content: '慢一点' });
    expect(result.delivery?.ok).toBe(false);
    expect(result.delivery?.attempts.map((a) => a.error)).toEqual(['timeout', 'timeout', 'timeout', 'timeout']);
    expect(receiver.received).toHaveLength(4);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    expect(new Set(receiver.received.map((r) => r.query.toString())).size).toBe(1);
  }, 40_000);
});

describe('control API', () => {
  it('seeds, inspects, injects faults and runs actions over HTTP', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${sandbox.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    expect(
      (await post('/__sandbox/seed', { corps: [{ name: 'x', callback: { encodingAesKey: 'short' } }] })).status,
    ).toBe(400);
    expect(
      (await post('/__sandbox/faults', { endpoint: 'user/get', kind: 'errcode', errcode: 45009, count: 1 })).status,
    ).toBe(200);
    const tok = (await (
      await fetch(
        `${sandbox.url}/cgi-bin/gettoken?corpid=${DEMO_CORP_ID}&corpsecret=${demoScenario().corps[0]!.secret}`,
      )
    ).json()) as { access_token: string };
    const first = (await (
      await fetch(`${sandbox.url}/cgi-bin/user/get?access_token=${tok.access_token}&userid=lina`)
    ).json()) as { errcode: number };
    expect(first.errcode).toBe(45009);
    const action = await post('/__sandbox/actions/addCustomer', { corpId: DEMO_CORP_ID, userid: 'lina', state: 'web' });
    expect(action.status).toBe(200);
    expect(((await action.json()) as { welcomeCode?: string }).welcomeCode).toBeTruthy();
    expect((await post('/__sandbox/actions/nope', {})).status).toBe(404);
    expect((await post('/__sandbox/actions/addCustomer', { corpId: DEMO_CORP_ID })).status).toBe(400);
    const log = (await (await fetch(`${sandbox.url}/__sandbox/calls?endpoint=user/get`)).json()) as {
      calls: Array<{ errcode: number; query: Record<string, string> }>;
    };
    expect(log.calls).toEqual([expect.objectContaining({ errcode: 45009, query: { userid: 'lina' } })]);
    const world = (await (await fetch(`${sandbox.url}/__sandbox/world`)).json()) as {
      corps: Array<{ welcomeCodes: unknown[] }>;
    };
    expect(world.corps[0]!.welcomeCodes).toHaveLength(1);
    expect((await post('/__sandbox/tokens/invalidate', {})).status).toBe(200);
    const after = (await (
      await fetch(`${sandbox.url}/cgi-bin/user/get?access_token=${tok.access_token}&userid=lina`)
    ).json()) as { errcode: number };
    expect(after.errcode).toBe(40014);
  });

  it('refuses to start in production', async () => {
    await expect(startSandbox({ nodeEnv: 'production', logger: silentLogger() })).rejects.toThrow(/production/);
  });
});
