import { flushPromises, type VueWrapper } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Plugin } from 'vue';
import type { DeskTask, Me, TaskDetail } from '../../lib/api-types.js';
import { useSession } from '../../lib/session.js';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import TasksPage from './TasksPage.vue';

const CORP = 'wwtaskdesk';
const manager: Me = {
  role: 'manager',
  corps: [CORP],
  userid: 'wangqiang',
  departments: [2],
  via: 'wecom',
  corpId: CORP,
  csrfToken: 'csrf-manager',
};
const advisor: Me = {
  role: 'advisor',
  corps: [CORP],
  userid: 'zhangwei',
  departments: undefined,
  via: 'wecom',
  corpId: CORP,
  csrfToken: 'csrf-advisor',
};
const signedIn = (me: Me): Plugin => ({ install: () => useSession().set(me) });
const mountAs = (me: Me, path: string) =>
  mountWithConsole(TasksPage, { path, attachTo: document.body, global: { plugins: [signedIn(me)] } });

const HOUR = 3_600_000;
const overdueTask: DeskTask = {
  id: 'aaaaaaaaaaaaaaaaaaaaaaa1',
  corpId: CORP,
  advisorUserid: 'zhangwei',
  customerId: 'c1',
  vehicleId: undefined,
  kind: 'follow_up',
  ruleId: 'r1',
  scheduleId: 's1',
  title: '交车次日回访',
  reason: '交车关怀',
  status: 'open',
  outcome: undefined,
  dueAt: new Date(Date.now() - 30 * HOUR).toISOString(),
  slaMs: 24 * HOUR,
  remindAt: new Date(Date.now() - 30 * HOUR).toISOString(),
  escalationLevel: 0,
  flagged: false,
  completedAt: undefined,
  onTime: undefined,
  overdue: true,
  customer: { id: 'c1', name: '赵总 星途', vehicle: { model: '星途瑶光', vin: 'LVSHCAME0PE100001' } },
};
const doneTask: DeskTask = {
  ...overdueTask,
  id: 'aaaaaaaaaaaaaaaaaaaaaaa2',
  status: 'done',
  overdue: false,
  onTime: true,
  completedAt: new Date().toISOString(),
  customer: { id: 'c2', name: '钱女士' },
};
const advisors = {
  advisors: [
    { corpId: CORP, userid: 'zhangwei', name: '张伟', departments: [2], status: 'active' },
    { corpId: CORP, userid: 'lina', name: '李娜', departments: [2], status: 'active' },
  ],
};
const detail: TaskDetail = {
  ...overdueTask,
  view: { customer: '赵总 星途', model: '星途瑶光', advisorName: '张伟', due: '06-02 10:00', talkTrack: '赵总您好' },
  history: [
    { at: '2026-06-02T02:00:00.000Z', actor: 'system', action: 'created', detail: undefined },
    { at: '2026-06-03T02:00:00.000Z', actor: 'system', action: 'reminded', detail: { level: 1 } },
    { at: '2026-06-04T02:00:00.000Z', actor: 'system', action: 'reminded', detail: { level: 1, undeliverable: true } },
  ],
};

const body = () => document.body;
const el = (selector: string) => body().querySelector<HTMLElement>(selector);
/** Picks a value in an Element Plus select found by its data-test (what a click on an option does). */
function pick(page: VueWrapper, dataTest: string, value: string): void {
  const select = page.findAllComponents({ name: 'ElSelect' }).find((s) => s.attributes('data-test') === dataTest);
  if (!select) throw new Error(`no select ${dataTest}`);
  select.vm.$emit('update:modelValue', value);
}
const listCalls = (calls: { method: string; url: URL }[]) =>
  calls.filter((c) => c.method === 'GET' && c.url.pathname === '/api/v1/tasks');

describe('TasksPage', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.innerHTML = '';
  });

  it("applies the filters of the URL on first load (the cockpit's link) and exports the same filters", async () => {
    const api = stubApi({
      'GET /api/v1/tasks': () => json(200, { tasks: [overdueTask, doneTask] }),
      'GET /api/v1/advisors': () => json(200, advisors),
      'GET /api/v1/rules': () => json(200, { rules: [] }),
    });
    const page = await mountAs(manager, '/tasks?advisor=zhangwei&overdue=true&from=2026-06-01&to=2026-06-07');
    await flushPromises();
    const first = listCalls(api.calls)[0]!;
    expect(Object.fromEntries(first.url.searchParams)).toMatchObject({
      advisor: 'zhangwei',
      overdue: 'true',
      include: 'customer',
      dueFrom: '2026-05-31T16:00:00.000Z',
      dueTo: '2026-06-07T16:00:00.000Z',
    });
    const table = page.find('[data-test="tasks-table"]');
    expect(table.findAll('[data-test="task-row"]')).toHaveLength(2);
    expect(table.text()).toContain('赵总 星途');
    expect(table.text()).toContain('星途瑶光');
    expect(table.text()).toContain('交车关怀');
    const sla = table.findAll('[data-test="task-sla"]').map((s) => s.text());
    expect(sla).toEqual(['已逾期', '按时完成']);
    const csv = new URL(page.find('[data-test="tasks-csv"]').attributes('href')!, 'http://console.test');
    expect(csv.pathname).toBe('/api/v1/tasks.csv');
    expect(Object.fromEntries(csv.searchParams)).toEqual({
      advisor: 'zhangwei',
      overdue: 'true',
      dueFrom: '2026-05-31T16:00:00.000Z',
      dueTo: '2026-06-07T16:00:00.000Z',
    });
  });

  it('shows the history in words and reassigns one task with the CSRF token, then refreshes the list', async () => {
    const api = stubApi({
      'GET /api/v1/tasks/': () => json(200, detail),
      'GET /api/v1/tasks': () => json(200, { tasks: [overdueTask] }),
      'GET /api/v1/advisors': () => json(200, advisors),
      'GET /api/v1/rules': () => json(200, { rules: [] }),
      'POST /api/v1/tasks/': () => json(200, { ...overdueTask, advisorUserid: 'lina' }),
    });
    const page = await mountAs(manager, '/tasks');
    await flushPromises();
    await page.find(`[data-test="task-open-${overdueTask.id}"]`).trigger('click');
    await flushPromises();
    const drawer = el('[data-test="task-detail"]');
    expect(drawer?.textContent).toContain('赵总您好');
    expect(el('[data-test="task-history"]')?.textContent).toContain('系统 · 提醒顾问');
    expect(el('[data-test="task-history"]')?.textContent).toContain('系统 · 提醒未送达');
    expect(el('[data-test="task-history"]')?.textContent).toContain('系统 · 创建任务');

    pick(page, 'reassign-to', 'lina');
    await flushPromises();
    el('[data-test="reassign-one"]')!.click();
    await flushPromises();
    const post = api.calls.find((c) => c.method === 'POST')!;
    expect(post.url.pathname).toBe(`/api/v1/tasks/${overdueTask.id}/reassign`);
    expect(post.body).toEqual({ to: 'lina' });
    const init = api.fetchMock.mock.calls.find((c) => c[1]?.method === 'POST')![1]!;
    expect((init.headers as Record<string, string>)['X-CSRF-Token']).toBe('csrf-manager');
    expect(listCalls(api.calls)).toHaveLength(2);
  });

  it('bulk-reassigns all open tasks of an advisor who leaves', async () => {
    const api = stubApi({
      'GET /api/v1/tasks': () => json(200, { tasks: [overdueTask] }),
      'GET /api/v1/advisors': () => json(200, advisors),
      'GET /api/v1/rules': () => json(200, { rules: [] }),
      'POST /api/v1/tasks/reassign-bulk': () => json(200, { reassigned: 7, skipped: 0, taskIds: [], remaining: 0 }),
    });
    const page = await mountAs(manager, '/tasks?advisor=zhangwei');
    await flushPromises();
    await page.find('[data-test="bulk-open"]').trigger('click');
    await flushPromises();
    pick(page, 'bulk-to', 'lina');
    await flushPromises();
    el('[data-test="bulk-submit"]')!.click();
    await flushPromises();
    const post = api.calls.find((c) => c.method === 'POST')!;
    expect(post.body).toEqual({ corpId: CORP, fromAdvisor: 'zhangwei', toAdvisor: 'lina' });
    const init = api.fetchMock.mock.calls.find((c) => c[1]?.method === 'POST')![1]!;
    expect((init.headers as Record<string, string>)['X-CSRF-Token']).toBe('csrf-manager');
    expect(listCalls(api.calls)).toHaveLength(2);
  });

  it('renders the empty state, and the error state with a retry', async () => {
    stubApi({
      'GET /api/v1/tasks': () => json(200, { tasks: [] }),
      'GET /api/v1/advisors': () => json(200, advisors),
      'GET /api/v1/rules': () => json(200, { rules: [] }),
    });
    const empty = await mountAs(manager, '/tasks');
    await flushPromises();
    expect(empty.find('[data-test="tasks-table"]').text()).toContain('没有符合条件的任务');
    empty.unmount();
    vi.unstubAllGlobals();

    stubApi({
      'GET /api/v1/tasks': () => json(422, { error: { code: 'validation_failed', message: 'use an ISO date-time' } }),
      'GET /api/v1/advisors': () => json(200, advisors),
      'GET /api/v1/rules': () => json(200, { rules: [] }),
    });
    const failed = await mountAs(manager, '/tasks?from=garbage');
    await flushPromises();
    expect(failed.find('[data-test="tasks-error"]').text()).toContain('use an ISO date-time');
  });

  it('offers an advisor no team filters and no reassignment (the API shows them their own tasks only)', async () => {
    const api = stubApi({ 'GET /api/v1/tasks': () => json(200, { tasks: [overdueTask] }) });
    const page = await mountAs(advisor, '/tasks?advisor=lina');
    await flushPromises();
    expect(page.find('[data-test="bulk-open"]').exists()).toBe(false);
    expect(page.find('[data-test="filter-advisor"]').exists()).toBe(false);
    expect(page.find('.el-table-column--selection').exists()).toBe(false);
    expect(listCalls(api.calls)[0]!.url.searchParams.get('advisor')).toBeNull();
    expect(api.calls.some((c) => c.url.pathname === '/api/v1/advisors')).toBe(false);
  });
});
