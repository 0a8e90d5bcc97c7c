import { flushPromises } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Plugin } from 'vue';
import type { CustomerProfile as Profile, Me, TimelineItem } from '../../lib/api-types.js';
import { useSession } from '../../lib/session.js';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import CustomerProfile from './CustomerProfile.vue';
import CustomersPage from './CustomersPage.vue';
import { termProblem } from './search-term.js';

const CORP = 'wwcustomerpage';
const dealerAdmin: Me = {
  role: 'dealer_admin',
  corps: [CORP],
  userid: 'admin1',
  departments: undefined,
  via: 'wecom',
  corpId: CORP,
  csrfToken: 'csrf',
};
const signedIn = (me: Me): Plugin => ({ install: () => useSession().set(me) });
const zhao = {
  id: 'cccccccccccccccccccccccc',
  corpId: CORP,
  externalUserId: 'wmZhao',
  displayName: '赵总 星途',
  lifecycle: 'owner',
  responsibleUserid: 'zhangwei',
  erased: false,
};
/** Element Plus puts `data-test` on the native input of an el-input. */
const qInput = '[data-test="customers-q"]';
const searches = (calls: { method: string; url: URL; body: unknown }[]) =>
  calls.filter((c) => c.url.pathname === '/api/v1/customers' || c.url.pathname === '/api/v1/customers/search');

describe('CustomersPage', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.innerHTML = '';
  });

  it('checks a phone before asking the API and says why it cannot match; the hint says search is exact', async () => {
    const api = stubApi({ 'GET /api/v1/customers': () => json(200, { customers: [] }) });
    const page = await mountWithConsole(CustomersPage, {
      path: '/customers',
      global: { plugins: [signedIn(dealerAdmin)] },
    });
    await flushPromises();
    expect(page.find('[data-test="customers-idle"]').exists()).toBe(true);
    expect(page.find('[data-test="customers-hint"]').text()).toContain('精确查找');
    expect(page.find('[data-test="customers-hint"]').text()).toContain('不支持模糊或部分匹配');
    await page.find('[data-test="customers-by-phone"] input').setValue(true);
    await page.find(qInput).setValue('138abc');
    await page.find('[data-test="customers-search"]').trigger('submit');
    await flushPromises();
    expect(page.find('[data-test="customers-problem"]').text()).toContain('手机号只能包含数字');
    await page.find(qInput).setValue('1380000');
    await page.find('[data-test="customers-search"]').trigger('submit');
    await flushPromises();
    expect(page.find('[data-test="customers-problem"]').text()).toContain('11 位');
    expect(searches(api.calls)).toHaveLength(0);
  });

  it('normalises phones the way the stored hashes were written', () => {
    expect(termProblem('phone', '+86 138-0000-0001')).toBeUndefined();
    expect(termProblem('phone', '0086 13800000001')).toBeUndefined();
    expect(termProblem('phone', '138 0000 000')).toBe('phoneLength');
    expect(termProblem('vin', 'lvshcame0pe100001')).toBeUndefined();
    expect(termProblem('vin', 'LVSHCAME0PE10000I')).toBe('vin');
    expect(termProblem('name', '  ')).toBe('empty');
  });

  it('searches with the term in the request body, keeps it out of the URL, and lists the matches with links to their profiles', async () => {
    const api = stubApi({ 'POST /api/v1/customers/search': () => json(200, { customers: [zhao] }) });
    const page = await mountWithConsole(CustomersPage, {
      path: '/customers?by=phone&q=13800000001',
      global: { plugins: [signedIn(dealerAdmin)] },
    });
    await flushPromises();
    expect(searches(api.calls)).toEqual([]); // a term in a shared URL is not searched (nor kept)
    await page.find(qInput).setValue('+86 138-0000-0001');
    await page.find('[data-test="customers-search"]').trigger('submit');
    await flushPromises();
    const calls = searches(api.calls);
    expect(calls.map((c) => [c.method, c.url.pathname, c.url.search])).toEqual([
      ['POST', '/api/v1/customers/search', ''],
    ]);
    expect(calls[0]!.body).toEqual({ by: 'phone', q: '+86 138-0000-0001' });
    expect(JSON.stringify((page.vm as unknown as { $route: { query: unknown } }).$route.query)).not.toContain('138');
    const results = page.find('[data-test="customers-results"]');
    expect(results.text()).toContain('赵总 星途');
    expect(results.text()).toContain('保客');
    expect(results.find('[data-test="customer-link"]').attributes('href')).toBe(`/console/customers/${zhao.id}`);
  });

  it('a loss-rate drill-down from the cockpit asks for that cohort and says what the list is', async () => {
    const api = stubApi({ 'GET /api/v1/customers': () => json(200, { customers: [zhao] }) });
    const page = await mountWithConsole(CustomersPage, {
      path: `/customers?corpId=${CORP}&advisor=zhangwei&status=lost&from=2026-03-02&to=2026-03-08`,
      global: { plugins: [signedIn(dealerAdmin)] },
    });
    await flushPromises();
    expect(Object.fromEntries(searches(api.calls)[0]!.url.searchParams)).toEqual({
      corpId: CORP,
      advisor: 'zhangwei',
      status: 'lost',
      from: '2026-03-02',
      to: '2026-03-08',
    });
    expect(page.text()).toContain('zhangwei：2026-03-02 至 2026-03-08 新增、30 天内流失的客户');
    expect(page.find('[data-test="customers-results"]').text()).toContain('赵总 星途');
  });

  it("lists an advisor's customers from the cockpit link, and shows empty and error states", async () => {
    let answer = () => json(200, { customers: [] });
    const api = stubApi({ 'GET /api/v1/customers': () => answer(), 'POST /api/v1/customers/search': () => answer() });
    const page = await mountWithConsole(CustomersPage, {
      path: '/customers?advisor=zhangwei',
      global: { plugins: [signedIn(dealerAdmin)] },
    });
    await flushPromises();
    expect(searches(api.calls)[0]!.url.searchParams.get('advisor')).toBe('zhangwei');
    expect(page.find('[data-test="customers-results"]').text()).toContain('没有找到完全匹配的客户');
    answer = () => json(403, { error: { code: 'corp_forbidden', message: 'your token cannot act in corp x' } });
    await page.find(qInput).setValue('赵先生');
    await page.find('[data-test="customers-search"]').trigger('submit');
    await flushPromises();
    expect(page.find('[data-test="customers-error"]').text()).toContain('your token cannot act in corp x');
  });
});

describe('CustomerProfile', () => {
  afterEach(() => vi.unstubAllGlobals());

  const profile: Profile = {
    id: zhao.id,
    corpId: CORP,
    externalUserId: 'wmZhao',
    type: 1,
    displayName: '赵总 星途',
    name: '赵先生',
    birthday: undefined,
    preferredContactTime: undefined,
    responsible: { userid: 'zhangwei', name: '张伟' },
    lifecycle: { stage: 'owner', reason: 'vehicle_linked', changedAt: '2026-06-01T02:00:00.000Z' },
    lifecycleHistory: [
      { stage: 'prospect', reason: 'added', at: '2026-05-30T02:00:00.000Z' },
      { stage: 'owner', reason: 'vehicle_linked', at: '2026-06-01T02:00:00.000Z' },
    ],
    optOut: false,
    erasedAt: undefined,
    relationships: [
      {
        userid: 'zhangwei',
        advisorName: '张伟',
        addedAt: '2026-05-30T02:00:00.000Z',
        state: 'delivery',
        status: 'active',
        statusChangedAt: undefined,
        transferredTo: undefined,
        remark: '赵总 星途',
        tags: [{ id: 't1', name: '保客', group: '客户类型' }],
      },
    ],
    tags: [{ id: 't1', name: '保客', group: '客户类型' }],
    vehicles: [
      {
        id: 'v1',
        vin: 'LVSHCAME0PE100001',
        model: '星途瑶光',
        deliveryDate: '2026-06-01T00:00:00.000Z',
        insuranceExpiry: undefined,
        lastServiceDate: undefined,
        mileageKm: undefined,
        salesUserid: 'zhangwei',
      },
    ],
  };
  const items: TimelineItem[] = [
    {
      at: '2026-10-28T02:00:00.000Z',
      kind: 'schedule',
      type: 'planned',
      id: 's1',
      userid: 'zhangwei',
      title: '首保邀约',
      status: 'planned',
      dueAt: '2026-10-28T02:00:00.000Z',
      ruleId: 'r1',
      ruleName: '首保提醒',
    },
    {
      at: '2026-06-02T02:00:00.000Z',
      kind: 'task',
      type: 'done',
      id: 't1',
      userid: 'zhangwei',
      title: '交车次日回访',
      status: 'done',
      dueAt: '2026-06-02T02:00:00.000Z',
    },
    { at: '2026-05-30T02:00:00.000Z', kind: 'event', type: 'customer.added', id: 'e1', userid: 'zhangwei', data: {} },
  ];

  it('shows relationships, tags, vehicles, lifecycle reasons and the timeline with the planned follow-up', async () => {
    stubApi({ 'GET /api/v1/customers/': (url) => json(200, url.pathname.endsWith('/timeline') ? { items } : profile) });
    const page = await mountWithConsole(CustomerProfile, { path: `/customers/${zhao.id}`, props: { id: zhao.id } });
    await flushPromises();
    const root = page.find('[data-test="customer-profile"]');
    expect(root.text()).toContain('赵总 星途');
    expect(root.find('[data-test="customer-lifecycle"]').text()).toBe('保客');
    expect(root.find('[data-test="customer-relationships"]').text()).toContain('delivery');
    expect(root.find('[data-test="customer-tags"]').text()).toContain('保客');
    expect(root.find('[data-test="customer-vehicles"]').text()).toContain('星途瑶光');
    expect(root.find('[data-test="customer-lifecycle-history"]').text()).toContain('关联车辆');
    const timeline = root.find('[data-test="customer-timeline"]');
    expect(timeline.find('[data-test="timeline-schedule"]').text()).toContain('首保邀约');
    expect(timeline.find('[data-test="timeline-schedule"]').text()).toContain('计划于');
    expect(timeline.find('[data-test="timeline-task"]').text()).toContain('已完成');
    expect(timeline.find('[data-test="timeline-event"]').text()).toContain('添加为客户');
  });

  it("says why when the profile cannot be opened (another advisor's customer is a 404)", async () => {
    stubApi({
      'GET /api/v1/customers/': () =>
        json(404, { error: { code: 'customer_not_found', message: `no customer ${zhao.id}` } }),
    });
    const page = await mountWithConsole(CustomerProfile, { path: `/customers/${zhao.id}`, props: { id: zhao.id } });
    await flushPromises();
    expect(page.find('[data-test="customer-error"]').text()).toContain('no customer');
    expect(page.find('[data-test="customer-profile"]').exists()).toBe(false);
  });
});
