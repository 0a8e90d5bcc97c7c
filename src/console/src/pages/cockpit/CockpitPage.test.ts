import { flushPromises } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Plugin } from 'vue';
import { metricDefinitions } from '../../../../domain/kpis/metric-definitions.js';
import type { KpiOverview, KpiRow, Me } from '../../lib/api-types.js';
import { useSession } from '../../lib/session.js';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import CockpitPage from './CockpitPage.vue';

const CORP = 'wwcockpittest';
const manager: Me = {
  role: 'manager',
  corps: [CORP],
  userid: 'wangqiang',
  departments: [2],
  via: 'wecom',
  corpId: CORP,
  csrfToken: 'csrf',
};
const oem: Me = {
  role: 'oem',
  corps: '*',
  userid: 'oemuser',
  departments: undefined,
  via: 'wecom',
  corpId: 'wwoem',
  csrfToken: 'csrf',
};

const advisorRow = (userid: string, label: string, onTime: number, due: number, overdue: number): KpiRow => ({
  unit: { kind: 'advisor', id: `${CORP}:${userid}`, corpId: CORP, label },
  values: {
    on_time_rate: onTime,
    tasks_due: due,
    tasks_overdue: overdue,
    loss_rate_30d: 0.02,
    delivery_care_within_sla_rate: 0.9,
  },
  flags: [],
});
const zhangwei: KpiRow = {
  ...advisorRow('zhangwei', '张伟', 0.4, 15, 9),
  flags: [
    {
      metric: 'on_time_rate',
      unit: { kind: 'advisor', id: `${CORP}:zhangwei`, corpId: CORP, label: '张伟' },
      period: '2026-11-16',
      value: 0.4,
      usual: 0.88,
      peers: 0.83,
      ownScore: -6.1,
      peerScore: -3.2,
      direction: 'low',
      volume: 15,
      explanation: {
        zh: '张伟的按时完成率 40%（常态 88%，本店顾问 83%）；15 项任务中 9 项逾期',
        en: "张伟's on-time rate 40% vs their usual 88% and the dealer's 83%; 9 of 15 tasks overdue",
      },
      drillDown: {
        path: '/tasks',
        query: { corpId: CORP, advisor: 'zhangwei', from: '2026-11-16', to: '2026-11-22', overdue: 'true' },
      },
    },
  ],
};
const overview = (rows: KpiRow[], groupBy: KpiOverview['groupBy'] = 'advisor'): KpiOverview => ({
  from: '2026-09-28',
  to: '2026-11-22',
  granularity: 'week',
  groupBy,
  totals: { on_time_rate: 0.81, tasks_overdue: 14, median_due_to_done_ms: 5_400_000, messages_sent: 120 },
  series: ['2026-11-02', '2026-11-09', '2026-11-16'].map((period, i) => ({
    period,
    values: { on_time_rate: [0.86, 0.84, 0.71][i], tasks_overdue: [3, 4, 9][i] },
  })),
  rows,
});
const team = overview([advisorRow('lina', '李娜', 0.9, 20, 1), zhangwei, advisorRow('liuyang', '刘洋', 0.75, 12, 2)]);
const definitionsRoute = () => json(200, { definitions: metricDefinitions() });

/** Signs `me` in before the page's setup runs (a plugin installed after Pinia). */
const signedIn = (me: Me): Plugin => ({ install: () => useSession().set(me) });
const mountAs = (me: Me, path = '/cockpit') =>
  mountWithConsole(CockpitPage, {
    path,
    attachTo: document.body,
    global: { plugins: [signedIn(me)], stubs: { EChart: true } },
  });

describe('CockpitPage', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.innerHTML = '';
  });

  it('shows a manager their team: tiles with values and definitions, the ranking with the flagged advisor', async () => {
    const api = stubApi({
      'GET /api/v1/kpis/definitions': definitionsRoute,
      'GET /api/v1/kpis/overview': () => json(200, team),
    });
    const page = await mountAs(manager);
    await flushPromises();
    const overviewCall = api.calls.find((c) => c.url.pathname === '/api/v1/kpis/overview')!;
    expect(Object.fromEntries(overviewCall.url.searchParams)).toMatchObject({
      corpId: CORP,
      groupBy: 'advisor',
      granularity: 'week',
    });
    expect(overviewCall.url.searchParams.get('from')).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const tile = page.find('[data-test="kpi-tile-on_time_rate"]');
    expect(tile.text()).toContain('按时完成率');
    expect(tile.find('[data-test="kpi-value"]').text()).toBe('81%');
    expect(page.find('[data-test="kpi-tile-median_due_to_done_ms"] [data-test="kpi-value"]').text()).toBe('1.5 h');
    const onTimeDefinition = metricDefinitions().find((d) => d.key === 'on_time_rate')!.definition.zh;
    const tooltip = page.findAllComponents({ name: 'ElTooltip' }).find((c) => c.props('content') === onTimeDefinition);
    expect(tooltip).toBeDefined();
    expect(page.find('[data-test="kpi-definition-on_time_rate"]').attributes('aria-label')).toBe('按时完成率 的定义');

    const ranking = page.find('[data-test="ranking"]');
    expect(ranking.text()).toContain('李娜');
    const flag = ranking.find(`[data-test="flag-${CORP}:zhangwei"]`);
    expect(flag.text()).toContain('按时完成率');
    expect(flag.attributes('aria-label')).toBe(zhangwei.flags[0]!.explanation.zh);
    expect(ranking.find(`[data-test="flag-${CORP}:lina"]`).exists()).toBe(false);
    const csv = new URL(page.find('[data-test="export-csv"]').attributes('href')!, 'http://console.test');
    expect(csv.pathname).toBe('/api/v1/kpis/overview.csv');
    expect(Object.fromEntries(csv.searchParams)).toEqual(Object.fromEntries(overviewCall.url.searchParams));
  });

  it('takes its filters from the URL (a shared link); the API gets the exclusive end day', async () => {
    const api = stubApi({
      'GET /api/v1/kpis/definitions': definitionsRoute,
      'GET /api/v1/kpis/overview': () => json(200, team),
    });
    await mountAs(manager, '/cockpit?from=2026-09-28&to=2026-11-22&granularity=month&groupBy=department&department=2');
    await flushPromises();
    const call = api.calls.find((c) => c.url.pathname === '/api/v1/kpis/overview')!;
    expect(Object.fromEntries(call.url.searchParams)).toEqual({
      from: '2026-09-28',
      to: '2026-11-23',
      granularity: 'month',
      groupBy: 'department',
      corpId: CORP,
      department: '2',
    });
  });

  it('sorts the ranking by a metric', async () => {
    stubApi({ 'GET /api/v1/kpis/definitions': definitionsRoute, 'GET /api/v1/kpis/overview': () => json(200, team) });
    const page = await mountAs(manager);
    await flushPromises();
    const names = () => page.findAll('[data-test="ranking"] .el-table__body tr').map((r) => r.find('button').text());
    const header = page.findAll('[data-test="ranking"] th').find((th) => th.text().includes('按时完成率'))!;
    await header.trigger('click');
    expect(names()).toEqual(['张伟', '刘洋', '李娜']);
    await header.trigger('click');
    expect(names()).toEqual(['李娜', '刘洋', '张伟']);
  });

  it('drills down to the advisor: their series, the explanation and a link to their overdue tasks', async () => {
    const api = stubApi({
      'GET /api/v1/kpis/definitions': definitionsRoute,
      'GET /api/v1/kpis/overview': (url) => json(200, url.searchParams.get('advisor') ? overview([zhangwei]) : team),
    });
    const page = await mountAs(manager);
    await flushPromises();
    await page.find(`[data-test="drill-${CORP}:zhangwei"]`).trigger('click');
    await flushPromises();
    const unitCall = api.calls.find((c) => c.url.searchParams.get('advisor') === 'zhangwei')!;
    expect(Object.fromEntries(unitCall.url.searchParams)).toMatchObject({ corpId: CORP, groupBy: 'advisor' });
    const drill = page.find('[data-test="drill-down"]');
    expect(drill.text()).toContain('张伟 · 按时完成率');
    expect(drill.find('[data-test="drill-flag"]').text()).toContain('15 项任务中 9 项逾期');
    const href = new URL(drill.find('[data-test="drill-tasks"]').attributes('href')!, 'http://console.test');
    expect(href.pathname).toBe('/console/tasks');
    expect(Object.fromEntries(href.searchParams)).toEqual({
      corpId: CORP,
      advisor: 'zhangwei',
      overdue: 'true',
      from: '2026-11-16',
      to: '2026-11-22',
    });
  });

  it('shows a no-show rate flag in the ranking and its no-shows in the drill-down', async () => {
    const wangfang: KpiRow = {
      ...advisorRow('wangfang', '王芳', 0.9, 20, 1),
      flags: [
        {
          metric: 'no_show_rate',
          unit: { kind: 'advisor', id: `${CORP}:wangfang`, corpId: CORP, label: '王芳' },
          period: '2026-11-16',
          value: 0.45,
          usual: 0.1,
          peers: 0.15,
          ownScore: 5.2,
          peerScore: 3.8,
          direction: 'high',
          volume: 20,
          explanation: {
            zh: '王芳的预约未到店率 45%（常态 10%，本店顾问 15%）；20 个预约中 9 个未到店',
            en: "王芳's no-show rate 45% vs their usual 10% and the dealer's 15%; 9 of 20 bookings did not arrive",
          },
          drillDown: {
            path: '/tasks',
            query: { corpId: CORP, advisor: 'wangfang', from: '2026-12-03', to: '2026-12-03' },
            noShows: [
              {
                noShowId: '665f00000000000000000001',
                bookingTaskId: '665f00000000000000000002',
                bookedAt: '2026-11-18T02:00:00.000Z',
                windowEnd: '2026-12-02T02:00:00.000Z',
                detectedAt: '2026-12-02T20:30:00.000Z',
                followUpTaskId: '665f00000000000000000003',
                customerId: '665f00000000000000000004',
              },
            ],
          },
        },
      ],
    };
    stubApi({
      'GET /api/v1/kpis/definitions': definitionsRoute,
      'GET /api/v1/kpis/overview': () => json(200, overview([wangfang])),
    });
    const page = await mountAs(manager);
    await flushPromises();
    const flag = page.find(`[data-test="flag-${CORP}:wangfang"]`);
    expect(flag.text()).toBe('预约未到店率 ↑');
    expect(flag.attributes('aria-label')).toBe(wangfang.flags[0]!.explanation.zh);
    await page.find(`[data-test="drill-${CORP}:wangfang"]`).trigger('click');
    await flushPromises();
    const drill = page.find('[data-test="drill-down"]');
    // The trend stays on a process metric; the result flag is listed below it.
    expect(drill.text()).toContain('王芳 · 按时完成率');
    const result = drill.find('[data-test="result-flag-no_show_rate"]');
    expect(result.text()).toContain('20 个预约中 9 个未到店');
    const rows = result.findAll('[data-test="no-shows"] .el-table__body tr');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.text()).toContain('665f00000000000000000003');
    expect(rows[0]!.find('[data-test="no-show-customer"]').attributes('href')).toBe(
      '/console/customers/665f00000000000000000004',
    );
    const tasks = new URL(result.find('[data-test="no-show-tasks"]').attributes('href')!, 'http://console.test');
    expect(tasks.pathname).toBe('/console/tasks');
    expect(Object.fromEntries(tasks.searchParams)).toEqual(wangfang.flags[0]!.drillDown.query);
  });

  it('shows a loading state, then an error with a retry that recovers', async () => {
    let fail = true;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    stubApi({
      'GET /api/v1/kpis/definitions': definitionsRoute,
      'GET /api/v1/kpis/overview': async () => {
        await gate;
        return fail ? json(500, { error: { code: 'internal', message: '服务器内部错误' } }) : json(200, team);
      },
    });
    const page = await mountAs(manager);
    await flushPromises();
    expect(page.find('[data-test="cockpit-loading"]').exists()).toBe(true);
    release();
    await flushPromises();
    expect(page.find('[data-test="cockpit-error"]').text()).toContain('服务器内部错误');
    fail = false;
    await page.find('[data-test="retry"]').trigger('click');
    await flushPromises();
    expect(page.find('[data-test="cockpit-error"]').exists()).toBe(false);
    expect(page.find('[data-test="ranking"]').text()).toContain('张伟');
  });

  it('shows the empty state when the range has no data', async () => {
    stubApi({
      'GET /api/v1/kpis/definitions': definitionsRoute,
      'GET /api/v1/kpis/overview': () => json(200, { ...overview([]), series: [], totals: {} }),
    });
    const page = await mountAs(manager);
    await flushPromises();
    expect(page.find('[data-test="cockpit-empty"]').text()).toContain('所选范围内暂无数据');
  });

  it('opens on a range ending on the latest day with data when the default range is empty', async () => {
    const api = stubApi({
      'GET /api/v1/kpis/definitions': definitionsRoute,
      'GET /api/v1/kpis/overview': (url) =>
        json(
          200,
          url.searchParams.get('to') === '2026-03-19'
            ? team
            : { ...overview([]), series: [], totals: {}, asOf: new Date().toISOString(), latestDay: '2026-03-18' },
        ),
    });
    const page = await mountAs(manager);
    await flushPromises();
    const last = api.calls.filter((c) => c.url.pathname === '/api/v1/kpis/overview').at(-1)!;
    expect(last.url.searchParams.get('to')).toBe('2026-03-19');
    expect(last.url.searchParams.get('from')).toBe('2026-01-26');
    expect(page.find('[data-test="ranking"]').text()).toContain('张伟');
  });

  it('gives car-maker users all dealers first, then one dealer when picked', async () => {
    const api = stubApi({
      'GET /api/v1/kpis/definitions': definitionsRoute,
      'GET /console/auth/corps': () =>
        json(200, {
          corps: [
            { corpId: CORP, displayName: '星途城南店', kind: 'dealer' },
            { corpId: 'wwoem', displayName: '星途汽车', kind: 'oem' },
          ],
        }),
      'GET /api/v1/kpis/overview': (url) =>
        json(
          200,
          url.searchParams.get('corpId')
            ? team
            : overview(
                [
                  {
                    unit: { kind: 'corp', id: CORP, corpId: CORP, label: '星途城南店' },
                    values: { on_time_rate: 0.8 },
                    flags: [],
                  },
                ],
                'corp',
              ),
        ),
    });
    const page = await mountAs(oem);
    await flushPromises();
    const first = api.calls.find((c) => c.url.pathname === '/api/v1/kpis/overview')!;
    expect(first.url.searchParams.get('groupBy')).toBe('corp');
    expect(first.url.searchParams.has('corpId')).toBe(false);
    expect(page.find('[data-test="ranking"]').text()).toContain('星途城南店');
    expect(page.find('[data-test="department"]').exists()).toBe(false);

    await page.find('[data-test="corp"]').trigger('click');
    await flushPromises();
    const options = [...document.body.querySelectorAll<HTMLElement>('.el-select-dropdown__item')];
    expect(options.map((o) => o.textContent?.trim())).toEqual(expect.arrayContaining(['全部经销商', '星途城南店']));
    expect(options.map((o) => o.textContent?.trim())).not.toContain('星途汽车');
    options.find((o) => o.textContent?.trim() === '星途城南店')!.click();
    await flushPromises();
    const last = api.calls.filter((c) => c.url.pathname === '/api/v1/kpis/overview').at(-1)!;
    expect(last.url.searchParams.get('corpId')).toBe(CORP);
    expect(page.find('[data-test="department"]').exists()).toBe(true);
  });
});
