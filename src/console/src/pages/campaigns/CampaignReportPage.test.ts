import { flushPromises } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Me } from '../../lib/api-types.js';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import type { CampaignReport } from '../outcomes/outcomes-api.js';
import CampaignReportPage from './CampaignReportPage.vue';
import { CORP, asRule, rule, signedInAs } from './campaigns.test-support.js';

const RULE = 'b'.repeat(24);
const dealerAdmin: Me = {
  role: 'dealer_admin',
  corps: [CORP],
  userid: 'wangqiang',
  departments: undefined,
  via: 'wecom',
  corpId: CORP,
  csrfToken: 'csrf',
};
const oem: Me = { ...dealerAdmin, role: 'oem', corps: '*', corpId: 'wwoem' };
const group = (customers: number, withOutcome: number, revenue: number) => ({
  customers,
  withOutcome,
  rate: customers ? withOutcome / customers : 0,
  rateLow: 0.1,
  rateHigh: 0.4,
  revenue,
  revenuePerCustomer: customers ? revenue / customers : 0,
});
const report = (over: Partial<CampaignReport> = {}): CampaignReport => ({
  ruleId: RULE,
  corpId: CORP,
  windowDays: 30,
  outcomeTypes: ['repair_order', 'insurance_policy', 'vehicle_sale'],
  treated: group(200, 50, 60_000),
  heldOut: group(20, 3, 1_500),
  uplift: { difference: 0.1, low: -0.07, high: 0.19, confidence: 0.95, method: 'newcombe-wilson', significant: false },
  verdict: 'not_significant',
  ...over,
});
const mountAs = (me: Me, path: string) =>
  mountWithConsole(CampaignReportPage, { path, props: { id: RULE }, global: { plugins: [signedInAs(me)] } });

describe('CampaignReportPage', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('shows treated vs held out, revenue per customer and the uplift, marking "not yet significant" plainly', async () => {
    const api = stubApi({
      'GET /api/v1/rules/': () => json(200, { ...asRule(rule({ id: RULE, name: '首保邀约' })), versions: [] }),
      'GET /api/v1/campaigns/': () => json(200, report()),
    });
    const page = await mountAs(dealerAdmin, `/campaigns/${RULE}/report`);
    await flushPromises();
    const call = api.calls.find((c) => c.url.pathname === `/api/v1/campaigns/${RULE}/report`)!;
    expect(Object.fromEntries(call.url.searchParams)).toEqual({ corpId: CORP });
    expect(page.find('h2').text()).toBe('活动效果：首保邀约');
    const verdict = page.find('[data-test="verdict-not_significant"]');
    expect(verdict.text()).toContain('尚不显著');
    expect(verdict.find('[data-test="uplift"]').text()).toBe('提升 +10.0 pp（95% 区间 -7.0 至 +19.0 pp）');
    const rows = page.findAll('[data-test="report-groups"] .el-table__body tr').map((r) => r.text());
    expect(rows[0]).toContain('触达组');
    expect(rows[0]).toContain('200');
    expect(rows[0]).toContain('25.0%');
    expect(rows[0]).toContain('¥300');
    expect(rows[1]).toContain('对照组（留出）');
    expect(rows[1]).toContain('15.0%');
    expect(rows[1]).toContain('¥75');
  });

  it('says when the uplift is significant, and when there is no control group', async () => {
    stubApi({
      'GET /api/v1/rules/': () => json(200, { ...asRule(rule({ id: RULE })), versions: [] }),
      'GET /api/v1/campaigns/': () =>
        json(
          200,
          report({
            verdict: 'uplift',
            uplift: {
              difference: 0.2,
              low: 0.05,
              high: 0.3,
              confidence: 0.95,
              method: 'newcombe-wilson',
              significant: true,
            },
          }),
        ),
    });
    const significant = await mountAs(dealerAdmin, `/campaigns/${RULE}/report`);
    await flushPromises();
    expect(significant.find('[data-test="verdict-uplift"]').text()).toContain('显著提升');
    vi.unstubAllGlobals();
    stubApi({
      'GET /api/v1/rules/': () => json(200, { ...asRule(rule({ id: RULE })), versions: [] }),
      'GET /api/v1/campaigns/': () =>
        json(200, report({ verdict: 'no_control_group', uplift: undefined, heldOut: group(0, 0, 0) })),
    });
    const noControl = await mountAs(dealerAdmin, `/campaigns/${RULE}/report`);
    await flushPromises();
    expect(noControl.find('[data-test="verdict-no_control_group"]').text()).toContain('请在规则中设置留出比例');
    expect(noControl.find('[data-test="uplift"]').exists()).toBe(false);
  });

  it('lets car-maker users pick the dealer and passes the window; shows the API message on failure', async () => {
    const api = stubApi({
      'GET /api/v1/rules/': () => json(404, { error: { code: 'not_found', message: 'no such rule' } }),
      'GET /console/auth/corps': () =>
        json(200, { corps: [{ corpId: CORP, displayName: '星途城南店', kind: 'dealer' }] }),
      'GET /api/v1/campaigns/': (url) =>
        url.searchParams.get('windowDays') === '60'
          ? json(422, { error: { code: 'invalid', message: 'windowDays must be at most 365' } })
          : json(200, report({ corpId: url.searchParams.get('corpId')! })),
    });
    const page = await mountAs(oem, `/campaigns/${RULE}/report?windowDays=60`);
    await flushPromises();
    const call = api.calls.find((c) => c.url.pathname === `/api/v1/campaigns/${RULE}/report`)!;
    expect(Object.fromEntries(call.url.searchParams)).toEqual({ corpId: CORP, windowDays: '60' });
    expect(page.find('[data-test="report-error"]').text()).toContain('windowDays must be at most 365');
    expect(page.find('h2').text()).toContain(RULE);
  });
});
