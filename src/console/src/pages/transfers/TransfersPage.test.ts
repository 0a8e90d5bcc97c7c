import { flushPromises, type VueWrapper } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Plugin } from 'vue';
import type { Me, Transfer } from '../../lib/api-types.js';
import { useSession } from '../../lib/session.js';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import type { TransferPoll } from './transfer-poll.js';
import TransfersPage from './TransfersPage.vue';

const CORP = 'wwtransferpage';
const manager: Me = {
  role: 'manager',
  corps: [CORP],
  userid: 'wangqiang',
  departments: [2],
  via: 'wecom',
  corpId: CORP,
  csrfToken: 'csrf-transfer',
};
const signedIn = (me: Me): Plugin => ({ install: () => useSession().set(me) });
const advisors = {
  advisors: [
    { corpId: CORP, userid: 'liuyang', name: '刘洋', departments: [2], status: 'active' },
    { corpId: CORP, userid: 'zhangwei', name: '张伟', departments: [2], status: 'active' },
  ],
};
const customers = {
  customers: [
    {
      id: 'c1',
      corpId: CORP,
      externalUserId: 'wmOne',
      displayName: '赵总',
      lifecycle: 'owner',
      responsibleUserid: 'liuyang',
      erased: false,
    },
    {
      id: 'c2',
      corpId: CORP,
      externalUserId: 'wmTwo',
      displayName: '钱姐',
      lifecycle: 'prospect',
      responsibleUserid: 'liuyang',
      erased: false,
    },
  ],
};
const ID = 'dddddddddddddddddddddddd';
const result: Transfer = {
  id: ID,
  corpId: CORP,
  kind: 'in_service',
  handoverUserid: 'liuyang',
  takeoverUserid: 'zhangwei',
  status: 'polling',
  nextPollAt: undefined,
  customers: [
    {
      externalUserId: 'wmOne',
      customerId: 'c1',
      startErrcode: 0,
      explanation: '已发起，客户将在 24 小时后自动接替（客户可拒绝）',
      result: 'waiting',
      takeoverAt: undefined,
      appliedAt: undefined,
    },
    {
      externalUserId: 'wmTwo',
      customerId: 'c2',
      startErrcode: 40128,
      explanation: '该客户 90 天内已被转接 2 次，不能再转接',
      result: 'failed_to_start',
      takeoverAt: undefined,
      appliedAt: undefined,
    },
  ],
  groups: [],
};

function pick(page: VueWrapper, dataTest: string, value: string): void {
  const select = page.findAllComponents({ name: 'ElSelect' }).find((s) => s.attributes('data-test') === dataTest);
  if (!select) throw new Error(`no select ${dataTest}`);
  select.vm.$emit('update:modelValue', value);
}
/** Ticks every customer row (the header checkbox), once the table shows them. */
async function tickAll(page: VueWrapper): Promise<void> {
  await until(() => page.findAll('[data-test="transfer-customers"] .el-table__body tr').length > 0);
  await page.find('[data-test="transfer-customers"] .el-table__header .el-checkbox input').setValue(true);
  await until(() => page.text().includes('已选 2 位客户'));
  expect(page.text()).toContain('已选 2 位客户');
}
/** Waits (bounded) for the page's polling to show something. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !check(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    await flushPromises();
  }
}

/** The page polls fast and gives up soon in tests (its `poll` setting). */
const FAST_POLL: TransferPoll = { everyMs: 1, maxPolls: 5 };

describe('TransfersPage', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.innerHTML = '';
  });

  it("starts a transfer for the ticked customers and follows each customer's result while it is pending", async () => {
    let gets = 0;
    const api = stubApi({
      'GET /api/v1/advisors': () => json(200, advisors),
      'GET /api/v1/customers': () => json(200, customers),
      'POST /api/v1/transfers': () => json(202, { id: ID, status: 'requested', customers: 2 }),
      // Not there until the worker started it, then waiting for WeCom.
      'GET /api/v1/transfers/': () =>
        ++gets === 1 ? json(404, { error: { code: 'transfer_not_found', message: 'not yet' } }) : json(200, result),
    });
    const page = await mountWithConsole(TransfersPage, {
      path: '/transfers',
      props: { poll: FAST_POLL },
      global: { plugins: [signedIn(manager)] },
    });
    await flushPromises();
    pick(page, 'transfer-handover', 'liuyang');
    await flushPromises();
    expect(api.calls.find((c) => c.url.pathname === '/api/v1/customers')!.url.searchParams.get('advisor')).toBe(
      'liuyang',
    );
    expect(page.find('[data-test="transfer-customers"]').text()).toContain('赵总');

    // Nothing ticked: the page says so and sends nothing.
    await page.find('form').trigger('submit');
    await flushPromises();
    expect(page.find('[data-test="transfer-problem"]').text()).toContain('至少勾选一位客户');

    await tickAll(page);
    pick(page, 'transfer-takeover', 'zhangwei');
    await flushPromises();
    await page.find('form').trigger('submit');
    await flushPromises();
    const post = api.calls.find((c) => c.method === 'POST')!;
    expect(post.body).toEqual({
      corpId: CORP,
      kind: 'in_service',
      handoverUserid: 'liuyang',
      takeoverUserid: 'zhangwei',
      externalUserIds: ['wmOne', 'wmTwo'],
    });
    const init = api.fetchMock.mock.calls.find((c) => c[1]?.method === 'POST')![1]!;
    expect((init.headers as Record<string, string>)['X-CSRF-Token']).toBe('csrf-transfer');

    await until(() => page.find('[data-test="transfer-result-rows"]').exists());
    const rows = page.find('[data-test="transfer-result-rows"]');
    expect(rows.text()).toContain('赵总');
    expect(rows.findAll('[data-test="transfer-result"]').map((r) => r.text())).toEqual(['等待接替', '未能发起']);
    expect(rows.text()).toContain('90 天内已被转接 2 次');
    expect(page.find('[data-test="transfer-status"]').text()).toContain('24 小时后');
    // Still pending: it kept polling, within its bound.
    await until(() => gets >= FAST_POLL.maxPolls);
    expect(gets).toBe(FAST_POLL.maxPolls);
  });

  it('shows why the start was refused', async () => {
    stubApi({
      'GET /api/v1/advisors': () => json(200, advisors),
      'GET /api/v1/customers': () => json(200, customers),
      'POST /api/v1/transfers': () =>
        json(403, { error: { code: 'advisor_forbidden', message: 'liuyang is not in your departments' } }),
    });
    const page = await mountWithConsole(TransfersPage, {
      path: '/transfers',
      props: { poll: FAST_POLL },
      global: { plugins: [signedIn(manager)] },
    });
    await flushPromises();
    pick(page, 'transfer-handover', 'liuyang');
    await flushPromises();
    await tickAll(page);
    pick(page, 'transfer-takeover', 'zhangwei');
    await flushPromises();
    await page.find('form').trigger('submit');
    await flushPromises();
    expect(page.find('[data-test="transfer-problem"]').text()).toContain('liuyang is not in your departments');
    expect(page.find('[data-test="transfer-results"]').exists()).toBe(false);
  });

  it('says when the advisor has no customers to transfer', async () => {
    stubApi({
      'GET /api/v1/advisors': () => json(200, advisors),
      'GET /api/v1/customers': () => json(200, { customers: [] }),
    });
    const page = await mountWithConsole(TransfersPage, {
      path: '/transfers',
      props: { poll: FAST_POLL },
      global: { plugins: [signedIn(manager)] },
    });
    await flushPromises();
    expect(page.text()).toContain('先选择原跟进顾问');
    pick(page, 'transfer-handover', 'zhangwei');
    await flushPromises();
    expect(page.find('[data-test="transfer-customers"]').text()).toContain('没有可转接的客户');
  });
});
