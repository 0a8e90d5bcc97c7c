import { flushPromises } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import CampaignsPage from './CampaignsPage.vue';
import { CORP, asRule, marketing, options, rule, signedInAs } from './campaigns.test-support.js';

const mountPage = () => mountWithConsole(CampaignsPage, { global: { plugins: [signedInAs(marketing)] } });

describe('CampaignsPage', { timeout: 30_000 }, () => {
  afterEach(() => vi.unstubAllGlobals());

  it('lists the rules with scope, status and window, the trigger in words, the last change and hits this month', async () => {
    stubApi({
      'GET /api/v1/rules/options': () => json(200, options),
      'GET /api/v1/rules': () =>
        json(200, {
          rules: [
            rule({ enabled: true, hitsThisMonth: 12 }),
            rule({
              id: 'r2',
              name: '首保邀约',
              scope: 'all',
              enabled: true,
              disabledCorps: [CORP],
              hitsThisMonth: 0,
              body: {
                ...rule().body,
                name: '首保邀约',
                scope: 'all',
                trigger: { type: 'date', field: 'deliveryDate', offset: '+150d at 10:00' },
                activeUntil: '2026-12-31T00:00:00+08:00',
              },
            }),
          ],
        }),
    });
    const page = await mountPage();
    await flushPromises();
    const table = page.find('[data-test="campaigns"]');
    expect(table.text()).toContain('交车欢迎');
    expect(table.text()).toContain('星途城南店');
    expect(table.text()).toContain('客户添加（渠道以 delivery 开头）');
    expect(table.text()).toContain('交车日期 150 天后 10:00');
    expect(table.text()).toContain('全部企业');
    expect(page.find('[data-test="campaign-hits-r1"]').text()).toBe('12');
    expect(page.find('[data-test="campaign-status-r1"]').text()).toBe('已启用');
    expect(page.find('[data-test="campaign-status-r2"]').text()).toBe('本企业已关闭');
    expect(page.find('[data-test="campaign-new"]').exists()).toBe(true);
  });

  it('shows the empty state when there are no rules, and the error state with a retry', async () => {
    stubApi({
      'GET /api/v1/rules/options': () => json(200, options),
      'GET /api/v1/rules': () => json(200, { rules: [] }),
    });
    const page = await mountPage();
    await flushPromises();
    expect(page.text()).toContain('暂无活动');
    vi.unstubAllGlobals();
    stubApi({ 'GET /api/v1/rules': () => json(500, { error: { code: 'internal', message: 'boom' } }) });
    const failing = await mountPage();
    await flushPromises();
    expect(failing.find('[data-test="campaigns-error"]').text()).toContain('boom');
  });

  it("links each rule to its effectiveness report for the report's readers, not for marketing", async () => {
    stubApi({
      'GET /api/v1/rules/options': () => json(200, options),
      'GET /api/v1/rules': () => json(200, { rules: [rule(), rule({ id: 'r2', scope: 'all' })] }),
    });
    const asMarketing = await mountPage();
    await flushPromises();
    expect(asMarketing.find('[data-test="campaign-report-r1"]').exists()).toBe(false);
    const manager = { ...marketing, role: 'manager' as const };
    const page = await mountWithConsole(CampaignsPage, { global: { plugins: [signedInAs(manager)] } });
    await flushPromises();
    expect(page.find('[data-test="campaign-report-r1"]').attributes('href')).toBe(
      `/console/campaigns/r1/report?corpId=${CORP}`,
    );
    expect(page.find('[data-test="campaign-report-r2"]').attributes('href')).toBe('/console/campaigns/r2/report');
  });

  it('switches a rule on from the list', async () => {
    const api = stubApi({
      'GET /api/v1/rules/options': () => json(200, options),
      'GET /api/v1/rules': () => json(200, { rules: [rule()] }),
      'POST /api/v1/rules/r1/enable': () => json(200, asRule(rule({ enabled: true }))),
    });
    const page = await mountPage();
    await flushPromises();
    await page.find('[data-test="campaign-toggle-r1"]').trigger('click');
    await flushPromises();
    expect(api.calls.some((c) => c.method === 'POST' && c.url.pathname === '/api/v1/rules/r1/enable')).toBe(true);
    expect(page.find('[data-test="campaign-status-r1"]').text()).toBe('已启用');
  });

  it('copies a rule into another corp and lists what that corp lacks', async () => {
    const api = stubApi({
      'GET /api/v1/rules/options': () => json(200, options),
      'GET /api/v1/rules': () => json(200, { rules: [rule()] }),
      'POST /api/v1/rules/r1/duplicate': () =>
        json(201, {
          rule: asRule(rule({ id: 'r9', scope: 'wwdemo0002' })),
          warnings: [
            {
              path: 'conditions.channel',
              message: 'no customer of wwdemo0002 came through a channel starting with vip yet',
            },
          ],
        }),
    });
    const page = await mountWithConsole(CampaignsPage, {
      attachTo: document.body,
      global: { plugins: [signedInAs(marketing)] },
    });
    await flushPromises();
    await page.find('[data-test="campaign-duplicate-r1"]').trigger('click');
    await flushPromises();
    const confirm = document.querySelector<HTMLButtonElement>('[data-test="campaign-duplicate-confirm"]');
    confirm?.click();
    await flushPromises();
    expect(api.calls.find((c) => c.url.pathname === '/api/v1/rules/r1/duplicate')?.body).toEqual({
      corpId: 'wwdemo0002',
    });
    expect(document.querySelector('[data-test="campaign-duplicate-warnings"]')?.textContent).toContain(
      'conditions.channel',
    );
    page.unmount();
  });
});
