import { flushPromises } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OUTCOME_KPI_DEFINITIONS } from '../../../../domain/outcomes/outcome-kpis.js';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import type { OutcomeKpis } from '../outcomes/outcomes-api.js';
import OutcomesPanel from './OutcomesPanel.vue';

const CORP = 'wwoutcomespanel';
const RULE = 'a'.repeat(24);
const kpis = (over: Partial<OutcomeKpis> = {}): OutcomeKpis => ({
  corpId: CORP,
  from: '2026-10-31T16:00:00.000Z',
  to: '2026-11-30T16:00:00.000Z',
  owners: 40,
  returnRate: 0.625,
  firstMaintenanceRate: 0.5,
  renewalRate: 0.8,
  bookedArrivedRate: 0.75,
  noShows: { total: 2, byAdvisor: { zhangwei: 2 } },
  connectable: { vehicles: 50, connectable: 45, rate: 0.9 },
  dormantOwners: 7,
  revenue: { attributed: 12_800, organic: 3_400.5 },
  counts: {
    owners: 40,
    returned: 25,
    firstMaintenanceDue: 10,
    firstMaintenanceArrived: 5,
    policiesEnding: 10,
    renewed: 8,
    closedBookings: 8,
    arrivedBookings: 6,
  },
  funnel: [
    { key: RULE, touched: 20, booked: 8, arrived: 5, revenue: 9_000 },
    { key: 'manual', touched: 10, booked: 2, arrived: 1, revenue: 3_800 },
  ],
  definitions: OUTCOME_KPI_DEFINITIONS,
  ...over,
});

const mountPanel = (corpId = CORP, department?: string, role?: string) =>
  mountWithConsole(OutcomesPanel, {
    props: {
      corpId,
      from: '2026-11-01',
      to: '2026-12-01',
      department,
      role,
      dealers: [{ corpId: CORP, displayName: '吉利4S店' }],
    },
    attachTo: document.body,
  });
const outcomeCalls = (api: ReturnType<typeof stubApi>) =>
  api.calls
    .filter((c) => c.url.pathname === '/api/v1/kpis/outcomes')
    .map((c) => Object.fromEntries(c.url.searchParams));
const MEMBERS = {
  advisors: [
    { corpId: CORP, userid: 'zhangwei', name: '张伟', departments: [2], status: 'active' },
    { corpId: CORP, userid: 'chenjing', name: '陈静', departments: [3], status: 'active' },
  ],
};

describe('OutcomesPanel', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.innerHTML = '';
  });

  it('shows the result tiles with their definitions and the funnel by rule, linking a rule to its report', async () => {
    const api = stubApi({
      'GET /api/v1/kpis/outcomes': () => json(200, kpis()),
      'GET /api/v1/rules': () => json(200, { rules: [{ id: RULE, name: '首保邀约' }] }),
    });
    const page = await mountPanel();
    await flushPromises();
    const call = api.calls.find((c) => c.url.pathname === '/api/v1/kpis/outcomes')!;
    expect(Object.fromEntries(call.url.searchParams)).toEqual({
      corpId: CORP,
      from: '2026-11-01T00:00:00+08:00',
      to: '2026-12-01T00:00:00+08:00',
      by: 'rule',
    });
    const value = (key: string) => page.find(`[data-test="kpi-tile-outcome-${key}"] [data-test="kpi-value"]`).text();
    expect(value('returnRate')).toBe('63%');
    expect(value('firstMaintenanceRate')).toBe('50%');
    expect(value('renewalRate')).toBe('80%');
    expect(value('bookedArrivedRate')).toBe('75%');
    expect(value('noShows')).toBe('2');
    expect(value('connectableRate')).toBe('90%');
    expect(value('dormantOwners')).toBe('7');
    expect(value('attributedRevenue')).toBe('¥12,800');
    expect(page.find('[data-test="kpi-tile-outcome-returnRate"]').text()).toContain('回厂率');
    expect(page.find('[data-test="no-shows-by-advisor"]').text()).toContain('zhangwei 2');
    const tooltip = page
      .findAllComponents({ name: 'ElTooltip' })
      .find((c) => String(c.props('content')).startsWith('截至范围结束前 12 个月内至少有一张维修工单的车主'));
    expect(tooltip).toBeDefined();
    expect(page.find('[data-test="kpi-definition-outcome-connectableRate"]').attributes('aria-label')).toBe(
      '可连接率 的定义',
    );

    const funnel = page.find('[data-test="funnel"]');
    expect(funnel.find(`[data-test="funnel-row-${RULE}"]`).text()).toBe('首保邀约');
    expect(funnel.find('[data-test="funnel-row-manual"]').text()).toBe('手动任务');
    expect(funnel.text()).toContain('8 (40%)');
    expect(funnel.text()).toContain('¥9,000');
    expect(funnel.find(`[data-test="funnel-report-${RULE}"]`).attributes('href')).toBe(
      `/console/campaigns/${RULE}/report?corpId=${CORP}`,
    );
  });

  it("follows the cockpit's department", async () => {
    const api = stubApi({
      'GET /api/v1/kpis/outcomes': () => json(200, kpis()),
      'GET /api/v1/rules': () => json(200, { rules: [] }),
    });
    await mountPanel(CORP, '2', 'dealer_admin');
    await flushPromises();
    const call = api.calls.find((c) => c.url.pathname === '/api/v1/kpis/outcomes')!;
    expect(call.url.searchParams.get('department')).toBe('2');
  });

  it('groups the funnel by advisor (a new query) and by the dealer (the total of the rows)', async () => {
    const api = stubApi({
      'GET /api/v1/kpis/outcomes': (url) =>
        json(
          200,
          url.searchParams.get('by') === 'advisor'
            ? kpis({ funnel: [{ key: 'zhangwei', touched: 30, booked: 10, arrived: 6, revenue: 12_800 }] })
            : kpis(),
        ),
      'GET /api/v1/rules': () => json(200, { rules: [] }),
    });
    const page = await mountPanel();
    await flushPromises();
    const pick = async (label: string) => {
      const button = page.findAll('[data-test="funnel-by"] label').find((l) => l.text() === label)!;
      await button.find('input').setValue(true);
      await flushPromises();
    };
    await pick('顾问');
    expect(
      api.calls
        .filter((c) => c.url.pathname === '/api/v1/kpis/outcomes')
        .at(-1)!
        .url.searchParams.get('by'),
    ).toBe('advisor');
    expect(page.find('[data-test="funnel-row-zhangwei"]').exists()).toBe(true);
    await pick('经销商');
    const total = page.find(`[data-test="funnel-row-${CORP}"]`);
    expect(total.text()).toBe('全店合计');
    const cells = total.element.closest('tr')!.textContent!;
    expect(cells).toContain('30');
    expect(cells).toContain('¥12,800');
  });

  it('lists the unreachable owners behind the connectable rate', async () => {
    const api = stubApi({
      'GET /api/v1/kpis/outcomes': () => json(200, kpis()),
      'GET /api/v1/rules': () => json(200, { rules: [] }),
      'GET /api/v1/outcomes/unreachable-owners': () =>
        json(200, {
          total: 5,
          items: [
            { vin: 'LVTEST00000000001', salesUserid: 'lina', linked: false },
            { vin: 'LVTEST00000000002', linked: true },
          ],
        }),
    });
    const page = await mountPanel();
    await flushPromises();
    expect(page.find('[data-test="kpi-tile-outcome-connectableRate"]').text()).toContain('45 / 50 辆');
    await page.find('[data-test="open-unreachable"]').trigger('click');
    await flushPromises();
    expect(api.calls.some((c) => c.url.pathname === '/api/v1/outcomes/unreachable-owners')).toBe(true);
    const dialog = document.body.querySelector('[data-test="unreachable-dialog"]')!.closest('.el-dialog')!;
    expect(dialog.textContent).toContain('无法联系的车主（5）');
    expect(dialog.textContent).toContain('LVTEST00000000001');
    expect(dialog.textContent).toContain('未关联客户');
    expect(dialog.textContent).toContain('已关联，无有效好友关系');
    expect(dialog.textContent).toContain('仅显示前 2 条，共 5 条');
  });

  it('offers the levels the role may read and queries the one picked: advisor → department → dealer → car maker', async () => {
    const api = stubApi({
      'GET /api/v1/kpis/outcomes': (url) =>
        json(
          200,
          url.searchParams.get('corpId')
            ? kpis()
            : { ...kpis({ corpId: '*', returnRate: 0.5 }), dealers: [{ ...kpis(), corpId: CORP }] },
        ),
      'GET /api/v1/rules': () => json(200, { rules: [] }),
      'GET /api/v1/advisors': () => json(200, MEMBERS),
    });
    // A car-maker user without a dealer picked opens on the car maker: every dealer summed, one row each.
    const page = await mountPanel('', undefined, 'oem');
    await flushPromises();
    const levels = page.findAll('[data-test="outcome-level"] label').map((l) => l.text());
    expect(levels).toEqual(['顾问', '部门', '经销商', '主机厂']);
    expect(outcomeCalls(api).at(-1)).not.toHaveProperty('corpId');
    expect(page.find('[data-test="kpi-tile-outcome-returnRate"] [data-test="kpi-value"]').text()).toBe('50%');
    const row = page.find(`[data-test="outcome-dealer-${CORP}"]`);
    expect(row.text()).toBe('吉利4S店');
    const cells = row.element.closest('tr')!.textContent!;
    expect(cells).toContain('63%');
    expect(cells).toContain('90%');
    expect(page.find('[data-test="outcome-dealers"]').text()).toContain('首保到店率');
    expect(page.find('[data-test="open-unreachable"]').exists()).toBe(false);
    // A lower level needs a dealer.
    await page.find('[data-test="outcome-level-dealer"] input').setValue(true);
    await flushPromises();
    expect(page.find('[data-test="outcomes-pick"]').exists()).toBe(true);

    const dealerAdmin = await mountPanel(CORP, undefined, 'dealer_admin');
    await flushPromises();
    expect(dealerAdmin.findAll('[data-test="outcome-level"] label').map((l) => l.text())).toEqual([
      '顾问',
      '部门',
      '经销商',
    ]);
    expect(outcomeCalls(api).at(-1)).toMatchObject({ corpId: CORP });
    await dealerAdmin.find('[data-test="outcome-level-department"] input').setValue(true);
    await flushPromises();
    expect(outcomeCalls(api).at(-1)).toMatchObject({ corpId: CORP, department: '2' });
    await dealerAdmin.find('[data-test="outcome-level-advisor"] input').setValue(true);
    await flushPromises();
    expect(outcomeCalls(api).at(-1)).toMatchObject({ corpId: CORP, advisor: 'zhangwei' });
    expect(dealerAdmin.find('[data-test="outcome-advisor"]').exists()).toBe(true);
  });

  it('lets a manager read all their departments or one, and an advisor only themselves', async () => {
    const api = stubApi({
      'GET /api/v1/kpis/outcomes': () => json(200, kpis()),
      'GET /api/v1/rules': () => json(200, { rules: [] }),
      'GET /api/v1/advisors': () => json(200, MEMBERS),
    });
    const manager = await mountPanel(CORP, undefined, 'manager');
    await flushPromises();
    expect(manager.findAll('[data-test="outcome-level"] label').map((l) => l.text())).toEqual(['顾问', '部门']);
    expect(outcomeCalls(api).at(-1)).toEqual(expect.not.objectContaining({ department: expect.anything() }));
    const advisor = await mountPanel(CORP, undefined, 'advisor');
    await flushPromises();
    expect(advisor.find('[data-test="outcome-level"]').exists()).toBe(false);
    expect(advisor.find('[data-test="outcome-advisor"]').exists()).toBe(false);
    expect(api.calls.filter((c) => c.url.pathname === '/api/v1/advisors')).toHaveLength(1);
  });

  it('asks for one dealer when none is picked, and shows the API message when it fails', async () => {
    stubApi({
      'GET /api/v1/kpis/outcomes': () => json(422, { error: { code: 'invalid', message: 'from must be before to' } }),
    });
    const none = await mountPanel('');
    await flushPromises();
    expect(none.find('[data-test="outcomes-pick"]').text()).toContain('选择一家经销商');
    const failing = await mountPanel();
    await flushPromises();
    expect(failing.find('[data-test="outcomes-error"]').text()).toContain('from must be before to');
  });
});
