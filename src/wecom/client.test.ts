import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { ManualClock } from '../infra/clock.js';
import { startSandbox, type RunningSandbox } from '../../scripts/wecom-sandbox/index.js';
import { DEMO_CORP_ID, DEMO_SECRET, demoScenario } from '../../scripts/wecom-sandbox/world/demo-seed.js';
import {
  deleteByPrefix,
  pollUntil,
  randomPrefix,
  silentLogger,
  wecomTestRedisUrl,
} from '../../scripts/wecom-sandbox/sandbox.test-support.js';
import { createWecomClient, type CorpApi, type WecomClientOptions } from './client.js';
import { WecomApiError, WecomTransportError } from './errors.js';

const EXT = (n: number) => `wmSandboxDemoCustomer${String(n).padStart(11, '0')}`;
const HOUR = 3600_000;

let sandbox: RunningSandbox;
let redis: Redis;
let clock: ManualClock;
const prefix = randomPrefix('wecom-client');

function client(overrides: Partial<WecomClientOptions> = {}): CorpApi {
  return createWecomClient({
    apiBase: sandbox.url,
    redis,
    logger: silentLogger(),
    clock,
    keyPrefix: `${prefix}:${Math.random().toString(36).slice(2, 8)}`,
    timeoutMs: 2000,
    retry: { baseDelayMs: 20, maxDelayMs: 200, rateLimitDelayMs: 200 },
    ...overrides,
  }).forCorp({ corpId: DEMO_CORP_ID, secret: DEMO_SECRET, agentId: 1000002 });
}

const calls = (endpoint: string) => sandbox.context.calls.list({ endpoint });

beforeAll(async () => {
  redis = new Redis(wecomTestRedisUrl());
  clock = new ManualClock(Date.UTC(2025, 2, 3, 2, 0, 0));
  sandbox = await startSandbox({
    clock,
    logger: silentLogger(),
    delivery: { retries: 0, retryDelayMs: 0, timeoutMs: 500 },
    nodeEnv: 'test',
  });
});

beforeEach(() => {
  sandbox.context.limits.reset();
  sandbox.context.faults.clear();
  sandbox.context.calls.clear();
  sandbox.world.seed(demoScenario('http://127.0.0.1:9'));
});

afterAll(async () => {
  await sandbox.stop();
  await deleteByPrefix(redis, prefix);
  await redis.quit();
});

describe('WeCom client against the sandbox: every endpoint', () => {
  it('reads members, departments and customers', async () => {
    const api = client();
    expect((await api.getFollowUserList()).follow_user).toEqual(
      expect.arrayContaining(['zhangwei', 'lina', 'wangqiang']),
    );
    expect(await api.getUser('zhangwei')).toMatchObject({
      userid: 'zhangwei',
      department: [2],
      direct_leader: ['wangqiang'],
      status: 1,
    });
    expect((await api.listUsersSimple(2)).userlist.map((u) => u.userid)).toContain('lina');
    expect((await api.listDepartmentsSimple()).department_id.map((d) => d.id)).toEqual([1, 2, 3]);
    const contact = await api.getExternalContact(EXT(4));
    expect(contact.external_contact.external_userid).toBe(EXT(4));
    expect(contact.follow_user.map((f) => f.userid).sort()).toEqual(['chenjing', 'lina']);
    expect((await api.listExternalContacts('zhangwei')).external_userid).toEqual([EXT(1), EXT(2)]);

    const seen: string[] = [];
    let cursor = '';
    do {
      const page = await api.batchGetByUser({ userid_list: ['zhangwei', 'lina'], cursor, limit: 2 });
      seen.push(...page.external_contact_list.map((r) => r.external_contact.external_userid));
      expect(page.external_contact_list.every((r) => Array.isArray(r.follow_info.tag_id))).toBe(true);
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual([EXT(1), EXT(2), EXT(3), EXT(4)].sort());
    expect(calls('gettoken')).toHaveLength(1);
  });

  it('manages corp tags, marks and remarks', async () => {
    const api = client();
    const groups = (await api.getCorpTagList()).tag_group;
    const baoke = groups.flatMap((g) => g.tag).find((t) => t.name === '保客');
    expect(baoke).toBeDefined();
    const added = await api.addCorpTag({ group_name: '车主关怀', tag: [{ name: '首保已约' }, { name: '首保已约' }] });
    expect(added.tag_group.tag).toHaveLength(1);
    const newTag = added.tag_group.tag[0]!;
    await api.editCorpTag({ id: newTag.id, name: '首保已预约' });
    await api.markTag({ userid: 'zhangwei', external_userid: EXT(1), add_tag: [baoke!.id, newTag.id] });
    const after = await api.getExternalContact(EXT(1));
    expect(after.follow_user[0]?.tags.map((t) => t.tag_name)).toEqual(expect.arrayContaining(['保客', '首保已预约']));
    await api.remark({
      userid: 'zhangwei',
      external_userid: EXT(1),
      remark: '赵先生-已购',
      remark_mobiles: ['13800000199'],
    });
    await api.delCorpTag({ tag_id: [newTag.id] });
    const groupsAfter = (await api.getCorpTagList()).tag_group;
    expect(groupsAfter.some((g) => g.group_name === '车主关怀')).toBe(false);
    const vip = groupsAfter.flatMap((g) => g.tag).find((t) => t.name === 'VIP')!;
    await expect(api.delCorpTag({ tag_id: [vip.id] })).rejects.toMatchObject({ errcode: 60011, retryable: false });
    expect(calls('externalcontact/mark_tag').at(-1)?.body).toMatchObject({ add_tag: [baoke!.id, newTag.id] });
  });

  it('sends welcome messages within the 20 s window, once', async () => {
    const api = client();
    const media = await api.uploadMedia('image', new Uint8Array([1, 2, 3, 4]), 'car.png', 'image/png');
    const img = await api.uploadImage(new Uint8Array([5, 6, 7]), 'banner.png');
    expect(img.url).toMatch(/^http/);
    const { welcomeCode } = await sandbox.driver.addCustomer({
      corpId: DEMO_CORP_ID,
      userid: 'zhangwei',
      state: 'showroom_qr',
      customer: { name: '冯先生' },
    });
    await api.sendWelcomeMsg({
      welcome_code: welcomeCode!,
      text: { content: '您好，我是张伟' },
      attachments: [{ msgtype: 'image', image: { media_id: media.media_id } }],
    });
    await expect(api.sendWelcomeMsg({ welcome_code: welcomeCode!, text: { content: 'again' } })).rejects.toMatchObject({
      errcode: 41050,
      retryable: false,
    });
    const late = await sandbox.driver.addCustomer({
      corpId: DEMO_CORP_ID,
      userid: 'lina',
      customer: { name: '褚女士' },
    });
    clock.advance(21_000);
    await expect(
      api.sendWelcomeMsg({ welcome_code: late.welcomeCode!, text: { content: 'hi' } }),
    ).rejects.toMatchObject({ errcode: 41050 });
    expect(calls('externalcontact/send_welcome_msg').map((c) => c.errcode)).toEqual([0, 41050, 41050]);
  });

  it('runs an advisor-confirmed mass send with reminders and cancel', async () => {
    const api = client();
    const { msgid } = await api.addMsgTemplate({
      sender: 'zhangwei',
      external_userid: [EXT(2), EXT(3)],
      text: { content: '首保提醒' },
    });
    expect((await api.getGroupmsgTask({ msgid })).task_list).toEqual([{ userid: 'zhangwei', status: 0 }]);
    await api.remindGroupmsgSend(msgid);
    await sandbox.driver.confirmMassSend({ corpId: DEMO_CORP_ID, msgid, userid: 'zhangwei' });
    expect((await api.getGroupmsgTask({ msgid })).task_list[0]?.status).toBe(2);
    expect((await api.getGroupmsgSendResult({ msgid, userid: 'zhangwei' })).send_list).toEqual([
      expect.objectContaining({ external_userid: EXT(2), status: 1 }),
    ]);
    const other = await api.addMsgTemplate({ sender: 'lina', text: { content: '车展邀请' } });
    await api.cancelGroupmsgSend(other.msgid);
    await expect(api.remindGroupmsgSend(other.msgid)).rejects.toMatchObject({ errcode: 41093 });
  });

  it('sends messages and cards, and updates a card once within 72 h', async () => {
    const api = client();
    await api.sendMessage({ touser: 'zhangwei', msgtype: 'text', text: { content: '今日跟进 3 位客户' } });
    await api.sendMessage({ touser: 'zhangwei|nobody', msgtype: 'markdown', markdown: { content: '**保客** 提醒' } });
    const sent = await api.sendMessage({
      touser: 'zhangwei',
      msgtype: 'template_card',
      template_card: {
        card_type: 'button_interaction',
        task_id: 'task-1',
        main_title: { title: '首保回访' },
        button_list: [
          { text: '已完成', key: 'done' },
          { text: '稍后', key: 'snooze', style: 2 },
        ],
      },
    });
    expect(sent.response_code).toBeTruthy();
    await api.updateTemplateCard({
      userids: ['zhangwei'],
      response_code: sent.response_code!,
      button: { replace_name: '已完成' },
    });
    await expect(
      api.updateTemplateCard({ response_code: sent.response_code!, button: { replace_name: 'x' } }),
    ).rejects.toMatchObject({ errcode: 60140 });
    const click = await sandbox.driver.clickCardButton({
      corpId: DEMO_CORP_ID,
      userid: 'zhangwei',
      taskId: 'task-1',
      eventKey: 'done',
    });
    clock.advance(73 * HOUR);
    await expect(
      api.updateTemplateCard({ response_code: click.responseCode, button: { replace_name: 'late' } }),
    ).rejects.toMatchObject({ errcode: 60140 });
    await expect(api.sendMessage({ touser: 'nobody', msgtype: 'text', text: { content: 'x' } })).rejects.toMatchObject({
      errcode: 81013,
    });
  });

  it('signs a member in with a single-use OAuth code', async () => {
    const api = client();
    const page = await fetch(
      `${sandbox.url}/connect/oauth2/authorize?appid=${DEMO_CORP_ID}&redirect_uri=${encodeURIComponent('http://bot.local/cb')}&response_type=code&scope=snsapi_base&state=abc123&agentid=1000002`,
    );
    expect(await page.text()).toContain('张伟');
    const res = await fetch(
      `${sandbox.url}/wwlogin/sso/login?appid=${DEMO_CORP_ID}&redirect_uri=${encodeURIComponent('http://bot.local/cb')}&state=abc123&userid=lina`,
      { redirect: 'manual' },
    );
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.searchParams.get('state')).toBe('abc123');
    const code = location.searchParams.get('code')!;
    expect((await api.getUserInfoByCode(code)).userid).toBe('lina');
    await expect(api.getUserInfoByCode(code)).rejects.toMatchObject({ errcode: 40029 });
  });

  it('transfers customers in service and after resignation', async () => {
    const api = client();
    const started = await api.transferCustomer({
      handover_userid: 'zhangwei',
      takeover_userid: 'lina',
      external_userid: [EXT(1), EXT(5)],
    });
    expect(started.customer).toEqual([
      { external_userid: EXT(1), errcode: 0 },
      { external_userid: EXT(5), errcode: 40131 },
    ]);
    expect(
      (await api.transferResult({ handover_userid: 'zhangwei', takeover_userid: 'lina' })).customer[0]?.status,
    ).toBe(2);
    clock.advance(25 * HOUR);
    expect(
      (await api.transferResult({ handover_userid: 'zhangwei', takeover_userid: 'lina' })).customer[0]?.status,
    ).toBe(1);
    expect((await api.getExternalContact(EXT(1))).follow_user.map((f) => f.userid)).toEqual(['lina']);

    await expect(
      api.resignedTransferCustomer({ handover_userid: 'liuyang', takeover_userid: 'lina', external_userid: [EXT(5)] }),
    ).rejects.toMatchObject({ errcode: 40097 });
    await sandbox.driver.changeMember({ corpId: DEMO_CORP_ID, change: 'delete_user', userid: 'liuyang' });
    const unassigned = await api.getUnassignedList();
    expect(unassigned.info.map((i) => i.external_userid).sort()).toEqual([EXT(5), EXT(6)]);
    const resigned = await api.resignedTransferCustomer({
      handover_userid: 'liuyang',
      takeover_userid: 'lina',
      external_userid: [EXT(5)],
    });
    expect(resigned.customer[0]?.errcode).toBe(0);
    expect(
      (await api.resignedTransferResult({ handover_userid: 'liuyang', takeover_userid: 'lina' })).customer[0]?.status,
    ).toBe(2);
  });
});

describe('WeCom client rules', () => {
  it('does not retry 84061 or 40096', async () => {
    const api = client();
    await sandbox.driver.advisorDeletesCustomer({ corpId: DEMO_CORP_ID, userid: 'zhangwei', externalUserId: EXT(1) });
    const err = await api
      .markTag({ userid: 'zhangwei', external_userid: EXT(1), add_tag: ['x'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WecomApiError);
    expect(err).toMatchObject({ errcode: 84061, retryable: false, endpoint: 'externalcontact/mark_tag' });
    await expect(api.getExternalContact('wmUnknownUnknownUnknownUnknown00')).rejects.toMatchObject({ errcode: 40096 });
    expect(calls('externalcontact/mark_tag')).toHaveLength(1);
    expect(calls('externalcontact/get')).toHaveLength(1);
  });

  it('retries -1 at most 3 times', async () => {
    const api = client();
    await api.getFollowUserList();
    sandbox.context.faults.add({
      endpoint: 'externalcontact/get_follow_user_list',
      count: 10,
      kind: 'errcode',
      errcode: -1,
    });
    await expect(api.getFollowUserList()).rejects.toMatchObject({ errcode: -1, retryable: true });
    expect(calls('externalcontact/get_follow_user_list')).toHaveLength(1 + 4);
    sandbox.context.faults.clear();
    sandbox.context.faults.add({
      endpoint: 'externalcontact/get_follow_user_list',
      count: 2,
      kind: 'errcode',
      errcode: -1,
    });
    await expect(api.getFollowUserList()).resolves.toMatchObject({ errcode: 0 });
  });

  it('retries a 5xx and recovers', async () => {
    const api = client();
    sandbox.context.faults.add({ endpoint: 'user/get', count: 2, kind: 'http', status: 502 });
    await expect(api.getUser('lina')).resolves.toMatchObject({ userid: 'lina' });
    expect(calls('user/get').map((c) => c.httpStatus)).toEqual([502, 502, 200]);
  });

  it('times out a hung endpoint', async () => {
    const api = client({ timeoutMs: 300, retry: { maxRetries: 1, baseDelayMs: 10 } });
    sandbox.context.faults.add({ endpoint: 'user/get', count: 5, kind: 'hang' });
    const err = await api.getUser('lina').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WecomTransportError);
    expect(err).toMatchObject({ reason: 'timeout', endpoint: 'user/get' });
    expect(String((err as Error).message)).not.toContain('access_token');
  });

  it('does not retry a timed-out message/send (no duplicate messages)', async () => {
    const api = client({ timeoutMs: 200 });
    sandbox.context.faults.add({ endpoint: 'message/send', count: 5, kind: 'hang' });
    await expect(api.sendMessage({ touser: 'lina', msgtype: 'text', text: { content: 'x' } })).rejects.toMatchObject({
      reason: 'timeout',
    });
    await pollUntil(() => (calls('message/send').length > 0 ? true : undefined));
    expect(calls('message/send')).toHaveLength(1);
    expect(sandbox.context.faults.list()[0]?.remaining).toBe(4);
  });

  it('backs off on 45009 and recovers', async () => {
    const api = client({ retry: { baseDelayMs: 20, rateLimitDelayMs: 300, maxDelayMs: 1000 } });
    await api.getFollowUserList();
    sandbox.context.limits.apply({ perEndpoint: { 'user/get': 3 }, windowMs: 500 });
    const results = await Promise.all(Array.from({ length: 8 }, () => api.getUser('zhangwei')));
    expect(results.every((r) => r.userid === 'zhangwei')).toBe(true);
    const log = calls('user/get');
    expect(log.filter((c) => c.errcode === 45009).length).toBeGreaterThan(0);
    expect(log.filter((c) => c.errcode === 0)).toHaveLength(8);
  });

  it('with rateLimitRetries 0 (the worker) throws a 45009 at once for the worker runner to pause the queue', async () => {
    const api = client({ retry: { baseDelayMs: 20, rateLimitDelayMs: 300, maxDelayMs: 1000, rateLimitRetries: 0 } });
    await api.getFollowUserList();
    sandbox.context.limits.apply({ perEndpoint: { 'user/get': 1 }, windowMs: 60_000 });
    await api.getUser('zhangwei');
    await expect(api.getUser('zhangwei')).rejects.toMatchObject({ errcode: 45009 });
    expect(calls('user/get').map((c) => c.errcode)).toEqual([0, 45009]);
  });

  it('never triggers 45033 or 45035 under a burst of 50 concurrent mark_tag calls', async () => {
    const api = client();
    const tagId = (await api.getCorpTagList()).tag_group.flatMap((g) => g.tag).find((t) => t.name === '保客')!.id;
    sandbox.context.limits.apply({ latencyMs: { 'externalcontact/mark_tag': 15 } });
    // Sanity: the sandbox does enforce the cap when a caller ignores it.
    const token = (await fetch(`${sandbox.url}/cgi-bin/gettoken?corpid=${DEMO_CORP_ID}&corpsecret=${DEMO_SECRET}`).then(
      (r) => r.json(),
    )) as { access_token: string };
    const raw = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        fetch(`${sandbox.url}/cgi-bin/externalcontact/mark_tag?access_token=${token.access_token}`, {
          method: 'POST',
          body: JSON.stringify({ userid: 'zhangwei', external_userid: EXT(1 + (i % 2)), add_tag: [tagId] }),
        }).then((r) => r.json() as Promise<{ errcode: number }>),
      ),
    );
    expect(raw.some((r) => r.errcode === 45033 || r.errcode === 45035)).toBe(true);
    sandbox.context.calls.clear();

    const pairs = [
      ['zhangwei', EXT(1)],
      ['zhangwei', EXT(2)],
      ['lina', EXT(3)],
      ['lina', EXT(4)],
      ['liuyang', EXT(5)],
      ['liuyang', EXT(6)],
    ] as const;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const [userid, ext] = pairs[i % pairs.length]!;
        return api.markTag({ userid, external_userid: ext, add_tag: [tagId] });
      }),
    );
    const log = calls('externalcontact/mark_tag');
    expect(log).toHaveLength(50);
    expect(log.every((c) => c.errcode === 0)).toBe(true);
  });

  it('a mark_tag call takes its lock, slot and window in one Redis round trip and frees them in one more, all in one slot', async () => {
    const api = client();
    const tagId = (await api.getCorpTagList()).tag_group.flatMap((g) => g.tag).find((t) => t.name === '保客')!.id;
    const commands = ['eval', 'evalsha', 'set', 'zrem'] as const;
    const spies = commands.map((c) => vi.spyOn(redis, c));
    try {
      await api.markTag({ userid: 'zhangwei', external_userid: EXT(1), add_tag: [tagId] });
      const count = (c: (typeof commands)[number]) => spies[commands.indexOf(c)]!.mock.calls.length;
      // The lock (SET NX), semaphore (ZREM) and window scripts of before are gone: two EVALs.
      expect(commands.map((c) => [c, count(c)])).toEqual([
        ['eval', 2],
        ['evalsha', 0],
        ['set', 0],
        ['zrem', 0],
      ]);
      const evals = spies[0]!.mock.calls as unknown as Array<[string, number, ...unknown[]]>;
      for (const [, numKeys, ...args] of evals) {
        const keys = args.slice(0, numKeys).map(String);
        expect(keys.every((k) => k.includes(`{${DEMO_CORP_ID}:externalcontact/mark_tag}`))).toBe(true);
        expect(new Set(keys.map((k) => calculateSlot(k))).size).toBe(1);
      }
      expect(evals.map(([, n]) => n)).toEqual([4, 2]);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(calls('externalcontact/mark_tag').map((c) => c.errcode)).toEqual([0]);
  });

  it('refreshes an expired or invalidated token once and retries', async () => {
    const api = client();
    await api.getFollowUserList();
    clock.advance(2 * HOUR + 1000);
    await api.getFollowUserList();
    sandbox.context.tokens.invalidate();
    await api.getFollowUserList();
    expect(calls('gettoken')).toHaveLength(3);
    expect(calls('externalcontact/get_follow_user_list').map((c) => c.errcode)).toEqual([0, 0, 40014, 0]);
  });
});

describe('WeCom client misconfiguration', () => {
  it('calls gettoken once for a wrong secret, then fails fast', async () => {
    const api = createWecomClient({
      apiBase: sandbox.url,
      redis,
      logger: silentLogger(),
      clock,
      keyPrefix: `${prefix}:bad`,
    }).forCorp({ corpId: DEMO_CORP_ID, secret: 'wrong-secret-000' });
    await expect(api.getFollowUserList()).rejects.toMatchObject({ errcode: 40001, retryable: false });
    await expect(Promise.all([api.getUser('lina'), api.getUser('lina')])).rejects.toMatchObject({ errcode: 40001 });
    expect(calls('gettoken')).toHaveLength(1);
  });
});
