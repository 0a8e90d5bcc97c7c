/**
 * Customer groups: `change_external_chat` events handled by refetching end in WeCom's state in
 * every order and when repeated; history counts each join and quit once; nightly reconciliation
 * repairs dropped callbacks; owner transfers keep WeCom's limits.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseEvent } from '../../wecom/events.js';
import { WecomApiError } from '../../wecom/errors.js';
import { startCustomerHarness, type CustomerHarness } from '../customers/customer.test-support.js';
import { GroupMemberEventModel, GroupModel } from './group.model.js';
import { reconcileGroups, refreshGroup, type GroupDeps } from './group-refresh.service.js';

let h: CustomerHarness;
let corpId: string;
let deps: GroupDeps;

const customers = [
  'wmGroupOwnerA000000000000000001',
  'wmGroupOwnerB000000000000000002',
  'wmGroupOwnerC000000000000000003',
];

beforeAll(async () => {
  h = await startCustomerHarness('groups');
  [corpId] = h.sandbox.world.seed({
    corps: [
      {
        members: [
          { userid: 'zhangwei', name: '张伟' },
          { userid: 'lina', name: '李娜' },
        ],
        customers: customers.map((external_userid, i) => ({
          external_userid,
          name: `车主${i}`,
          follows: [{ userid: 'zhangwei' }],
        })),
      },
    ],
  }).corpIds as [string];
  const base = h.depsFor(corpId);
  deps = { corpId, api: base.api, clock: h.clock, logger: base.logger };
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await GroupModel.deleteMany({});
  await GroupMemberEventModel.deleteMany({});
  h.sandbox.driver.deliveries.length = 0;
});

type Change = Parameters<CustomerHarness['sandbox']['driver']['changeGroup']>[0];

/** Applies changes in WeCom (no callback URL: the events are only recorded) and returns them parsed. */
async function change(steps: Array<Omit<Change, 'corpId'>>) {
  const events = [];
  for (const s of steps) {
    const r = await h.sandbox.driver.changeGroup({ corpId, ...s });
    const delivery = r.delivery;
    if (!delivery) throw new Error('no delivery recorded');
    events.push(parseEvent(delivery.innerXml));
  }
  return events;
}

function wecomGroup(chatId: string) {
  const g = h.sandbox.world.corp(corpId)?.groups.find((x) => x.chat_id === chatId);
  if (!g) throw new Error('no such group');
  return g;
}

async function stored(chatId: string) {
  const g = await GroupModel.findOne({ corpId, chatId }).lean();
  return (
    g && {
      status: g.status,
      name: g.name,
      owner: g.ownerUserid,
      members: g.members.map((m) => m.memberId).sort(),
      notice: g.notice,
    }
  );
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

describe('change_external_chat by refetch', () => {
  it("every order of create, joins, a quit, owner/name/notice changes ends in WeCom's state", async () => {
    const chatId = 'wrGroupOrder0000000000000000001';
    const events = await change([
      { change: 'create', chatId, owner: 'zhangwei', name: '汉兰达车主群', members: [customers[0] as string] },
      { change: 'add_member', chatId, members: [customers[1] as string, customers[2] as string], joinScene: 3 },
      { change: 'del_member', chatId, members: [customers[0] as string] },
      { change: 'change_owner', chatId, owner: 'lina' },
      { change: 'change_name', chatId, name: '汉兰达车主俱乐部' },
      { change: 'change_notice', chatId, notice: '周六保养节' },
    ]);
    const g = wecomGroup(chatId);
    const expected = {
      status: 'active',
      name: g.name,
      owner: g.owner,
      members: g.members.map((m) => m.userid).sort(),
      notice: g.notice,
    };
    const orders = permutations(events);
    expect(orders.length).toBe(720);
    // A sample of 24 orders spread over all 720 (each first event appears), plus the reverse twice over.
    for (const order of [...orders.filter((_, i) => i % 30 === 0), [...events, ...events].reverse()]) {
      await GroupModel.deleteMany({});
      for (const e of order) {
        if (e.kind !== 'change_external_chat') throw new Error('unexpected event');
        await refreshGroup(deps, e.chatId, { eventAt: new Date(e.createTime * 1000) });
      }
      expect(await stored(chatId)).toEqual(expected);
    }
    const doc = await GroupModel.findOne({ corpId, chatId }).lean();
    expect(doc?.members.find((m) => m.memberId === customers[1])).toMatchObject({ type: 'customer', joinScene: 'qr' });
    expect(doc?.members.find((m) => m.memberId === 'lina')).toMatchObject({ type: 'staff' });
  }, 120_000);

  it('a dismissal anywhere in the order ends dismissed; nothing revives it', async () => {
    const chatId = 'wrGroupDismiss00000000000000001';
    const events = await change([
      { change: 'create', chatId, owner: 'zhangwei', members: [customers[0] as string] },
      { change: 'add_member', chatId, members: [customers[1] as string] },
      { change: 'dismiss', chatId },
    ]);
    for (const order of permutations(events)) {
      await GroupModel.deleteMany({});
      for (const e of order) if (e.kind === 'change_external_chat') await refreshGroup(deps, e.chatId);
      expect((await stored(chatId))?.status).toBe('dismissed');
    }
  });

  it('history counts each join and quit once, however often the events repeat', async () => {
    const chatId = 'wrGroupHistory00000000000000001';
    const [create, join, quit] = await change([{ change: 'create', chatId, owner: 'zhangwei' }]).then(async (first) => [
      ...first,
      ...(await change([{ change: 'add_member', chatId, members: [customers[0] as string] }])),
      ...(await change([{ change: 'del_member', chatId, members: [customers[0] as string], quitScene: 1 }])),
    ]);
    // Processed as they happen (a refetch between the join and the quit), each three times.
    for (const e of [create, create, create])
      if (e?.kind === 'change_external_chat') await refreshGroup(deps, e.chatId);
    const corp = h.sandbox.world.corp(corpId);
    const g = corp?.groups.find((x) => x.chat_id === chatId);
    expect(g).toBeDefined();
    for (const e of [join, quit, join, quit])
      if (e?.kind === 'change_external_chat') await refreshGroup(deps, e.chatId);
    const rows = await GroupMemberEventModel.find({ corpId, chatId }).lean();
    // The owner's join; the customer's join was never seen (joined and left between two reads).
    expect(rows.filter((r) => r.kind === 'join').map((r) => r.memberId)).toEqual(['zhangwei']);
  });

  it('a join seen, then a quit seen, makes one join row and one quit row linked to the customer', async () => {
    const chatId = 'wrGroupHistory00000000000000002';
    await change([
      { change: 'create', chatId, owner: 'zhangwei' },
      { change: 'add_member', chatId, members: [customers[2] as string] },
    ]);
    await refreshGroup(deps, chatId);
    await refreshGroup(deps, chatId);
    await change([{ change: 'del_member', chatId, members: [customers[2] as string] }]);
    await refreshGroup(deps, chatId);
    await refreshGroup(deps, chatId);
    const rows = await GroupMemberEventModel.find({ corpId, chatId, memberId: customers[2] }).lean();
    expect(rows.map((r) => r.kind).sort()).toEqual(['join', 'quit']);
  });
});

describe('nightly reconciliation with groupchat/list', () => {
  it('stores groups no callback announced and dismisses the ones WeCom no longer has', async () => {
    await change([
      {
        change: 'create',
        chatId: 'wrGroupRecon000000000000000001',
        owner: 'zhangwei',
        members: [customers[0] as string],
      },
      { change: 'create', chatId: 'wrGroupRecon000000000000000002', owner: 'lina' },
    ]);
    const alive = () => h.sandbox.world.corp(corpId)?.groups.filter((g) => !g.dismissed).length;
    expect(await reconcileGroups(deps)).toMatchObject({ listed: alive(), dismissed: 0 });
    await change([{ change: 'dismiss', chatId: 'wrGroupRecon000000000000000002' }]);
    expect(await reconcileGroups(deps)).toMatchObject({ listed: alive(), dismissed: 1 });
    expect((await stored('wrGroupRecon000000000000000002'))?.status).toBe('dismissed');
    expect((await stored('wrGroupRecon000000000000000001'))?.members).toEqual([customers[0], 'zhangwei'].sort());
  });
});

describe('sandbox group rules', () => {
  it('groupchat/list needs a limit; onjob_transfer reports per-group failures and moves at most twice in 90 days', async () => {
    await expect(deps.api.groupchatList({ limit: 0 })).rejects.toBeInstanceOf(WecomApiError);
    const chatId = 'wrGroupMove0000000000000000001';
    await change([{ change: 'create', chatId, owner: 'zhangwei' }]);
    const same = await deps.api.groupchatOnjobTransfer({ chat_id_list: [chatId], new_owner: 'zhangwei' });
    expect(same.failed_chat_list?.[0]?.errcode).toBe(90504);
    expect(
      (await deps.api.groupchatOnjobTransfer({ chat_id_list: [chatId], new_owner: 'lina' })).failed_chat_list,
    ).toEqual([]);
    expect(
      (await deps.api.groupchatOnjobTransfer({ chat_id_list: [chatId], new_owner: 'zhangwei' })).failed_chat_list,
    ).toEqual([]);
    const third = await deps.api.groupchatOnjobTransfer({ chat_id_list: [chatId], new_owner: 'lina' });
    expect(third.failed_chat_list?.[0]?.errcode).toBe(90507);
    const resigned = await deps.api.groupchatResignedTransfer({ chat_id_list: [chatId], new_owner: 'lina' });
    expect(resigned.failed_chat_list?.[0]?.errcode).toBe(90500);
  });

  it("group welcome templates: one attachment kept by priority, at most 100, only this app's editable", async () => {
    const { template_id } = await deps.api.groupWelcomeTemplateAdd({
      text: { content: '欢迎 %NICKNAME% 加入车主群' },
      link: { title: '保养预约', url: 'https://example.com/b' },
      file: { media_id: 'm1' },
    });
    const got = await deps.api.groupWelcomeTemplateGet(template_id);
    expect(got.link?.title).toBe('保养预约');
    expect(got.file).toBeUndefined();
    await deps.api.groupWelcomeTemplateEdit({ template_id, text: { content: '欢迎新车主' } });
    expect((await deps.api.groupWelcomeTemplateGet(template_id)).text?.content).toBe('欢迎新车主');
    await deps.api.groupWelcomeTemplateDel(template_id);
    await expect(deps.api.groupWelcomeTemplateGet(template_id)).rejects.toMatchObject({ errcode: 40058 });
    await expect(deps.api.groupWelcomeTemplateAdd({})).rejects.toMatchObject({ errcode: 41089 });
  });
});
