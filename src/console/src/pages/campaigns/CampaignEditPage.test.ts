import { flushPromises, type VueWrapper } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import CampaignEditPage from './CampaignEditPage.vue';
import { CORP, asRule, marketing, options, rule, signedInAs } from './campaigns.test-support.js';

const mountPage = (props: { id?: string } = {}) =>
  mountWithConsole(CampaignEditPage, { props, global: { plugins: [signedInAs(marketing)] } });
const fill = async (page: VueWrapper, dataTest: string, value: string) =>
  page.find(`[data-test="${dataTest}"]`).setValue(value);

const previewAnswer = {
  corpId: CORP,
  matching: 37,
  scanned: 120,
  exact: true,
  example: {
    customerId: 'c1',
    trigger: 'on the next customer.added event (times below assume it happens now)',
    actions: [
      { index: 0, type: 'welcome', when: 'when an advisor adds the customer', note: "sent within WeCom's 20 s window" },
      {
        index: 1,
        type: 'follow_up',
        when: '2026-05-11T02:00:00.000Z',
        note: 'a follow-up for the responsible advisor',
      },
    ],
  },
};

describe('CampaignEditPage', { timeout: 90_000 }, () => {
  afterEach(() => vi.unstubAllGlobals());

  it('builds a delivery-welcome rule, previews it, saves and enables it', async () => {
    const saved = asRule(rule({ id: 'r7', name: '交车欢迎' }));
    const api = stubApi({
      'GET /api/v1/rules/options': () => json(200, options),
      'POST /api/v1/rules/preview': () => json(200, previewAnswer),
      'POST /api/v1/rules/r7/enable': () => json(200, { ...saved, enabled: true }),
      'POST /api/v1/rules': () => json(201, saved),
      'GET /api/v1/rules/r7/versions': () =>
        json(200, { versions: [{ version: 1, change: 'created', at: '2026-05-10T02:00:00Z', body: saved.body }] }),
    });
    const page = await mountPage();
    await flushPromises();
    await fill(page, 'rule-name', '交车欢迎');
    await page.find('[data-test="rule-trigger-state-mode-prefix"] input').setValue(true);
    await fill(page, 'rule-trigger-state', 'delivery');
    await page.find('[data-test="rule-add-action-welcome"]').trigger('click');
    await fill(page, 'rule-action-0-text', '恭喜您喜提爱车！');
    await page.find('[data-test="rule-add-action-follow_up"]').trigger('click');
    await fill(page, 'rule-action-1-title', '交车回访');
    await fill(page, 'rule-action-1-talk-track', '{客户}您好，{车型}用得还习惯吗？');

    await page.find('[data-test="rule-preview"]').trigger('click');
    await flushPromises();
    const sent = api.calls.find((c) => c.url.pathname === '/api/v1/rules/preview')?.body;
    expect(sent).toMatchObject({
      name: '交车欢迎',
      scope: CORP,
      trigger: { type: 'customer.added', state: { prefix: 'delivery' } },
      actions: [
        { type: 'welcome', text: '恭喜您喜提爱车！' },
        {
          type: 'follow_up',
          title: '交车回访',
          talkTrack: '{客户}您好，{车型}用得还习惯吗？',
          dueIn: '0d',
          sla: '24h',
        },
      ],
    });
    expect(page.find('[data-test="rule-preview-count"]').text()).toBe('37');
    const timeline = page.find('[data-test="rule-preview-timeline"]').text();
    expect(timeline).toContain('1. 欢迎语');
    expect(timeline).toContain('when an advisor adds the customer');
    expect(timeline).toContain('2. 跟进任务');
    expect(timeline).toContain('2026');

    await page.find('[data-test="rule-save"]').trigger('click');
    await flushPromises();
    expect(api.calls.filter((c) => c.method === 'POST' && c.url.pathname === '/api/v1/rules')).toHaveLength(1);
    expect(page.find('[data-test="rule-status"]').text()).toContain('未启用');
    await page.find('[data-test="rule-enable"]').trigger('click');
    await flushPromises();
    expect(api.calls.some((c) => c.url.pathname === '/api/v1/rules/r7/enable')).toBe(true);
    expect(page.find('[data-test="rule-status"]').text()).toContain('已启用');
    expect(page.find('[data-test="rule-disable"]').exists()).toBe(true);
  });

  it("shows the API's 422 message at the field it concerns", async () => {
    stubApi({
      'GET /api/v1/rules/options': () => json(200, options),
      'POST /api/v1/rules': () =>
        json(422, {
          error: {
            code: 'validation_failed',
            message: 'the rule has problems; fix the fields listed',
            details: [
              { path: 'actions[0].text', message: 'the text cannot be empty' },
              { path: 'name', message: 'name cannot be empty' },
            ],
          },
        }),
    });
    const page = await mountPage();
    await flushPromises();
    await page.find('[data-test="rule-add-action-message_customer"]').trigger('click');
    await page.find('[data-test="rule-save"]').trigger('click');
    await flushPromises();
    const errorOf = (dataTest: string) =>
      page
        .find(`[data-test="${dataTest}"]`)
        .element.closest('.el-form-item')
        ?.querySelector('.el-form-item__error')
        ?.textContent?.trim();
    await vi.waitFor(() => expect(errorOf('rule-action-0-text')).toBe('the text cannot be empty'), { timeout: 5000 });
    expect(errorOf('rule-name')).toBe('name cannot be empty');
    expect((page.find('[data-test="rule-save"]').element as HTMLButtonElement).disabled).toBe(false);
  });

  it('loads a stored rule into the form and shows its history with what changed', async () => {
    const v1 = rule().body;
    const v2 = { ...v1, name: '交车欢迎 v2', actions: [{ type: 'welcome' as const, text: '欢迎您', attachments: [] }] };
    stubApi({
      'GET /api/v1/rules/options': () => json(200, options),
      'GET /api/v1/rules/r1': () =>
        json(200, {
          ...asRule(rule({ name: v2.name, version: 2, body: v2 })),
          versions: [
            { version: 2, change: 'updated', at: '2026-05-03T02:00:00Z', body: v2 },
            { version: 1, change: 'created', at: '2026-05-01T02:00:00Z', body: v1 },
          ],
        }),
    });
    const page = await mountWithConsole(CampaignEditPage, {
      props: { id: 'r1' },
      path: '/campaigns/r1?tab=history',
      global: { plugins: [signedInAs(marketing)] },
    });
    await flushPromises();
    expect((page.find('[data-test="rule-name"]').element as HTMLInputElement).value).toBe('交车欢迎 v2');
    const diff = page.find('[data-test="rule-history-diff-2"]').text();
    expect(diff).toContain('名称：交车欢迎 → 交车欢迎 v2');
    expect(diff).toContain('动作 1 · 内容：欢迎 → 欢迎您');
    expect(page.find('[data-test="rule-history-1"]').text()).toContain('第一版');
  });

  it('saves an edit as a new version guarded by If-Match, and says so when someone saved meanwhile', async () => {
    const stored = asRule(rule({ version: 2 }));
    const api = stubApi({
      'GET /api/v1/rules/options': () => json(200, options),
      'GET /api/v1/rules/r1': () => json(200, { ...stored, versions: [] }),
      'PUT /api/v1/rules/r1': () =>
        json(409, { error: { code: 'version_conflict', message: 'someone changed this rule meanwhile' } }),
    });
    const page = await mountPage({ id: 'r1' });
    await flushPromises();
    await fill(page, 'rule-name', '交车欢迎 v3');
    await page.find('[data-test="rule-save"]').trigger('click');
    await flushPromises();
    const put = api.fetchMock.mock.calls.find(([, init]) => init?.method === 'PUT');
    expect((put?.[1]?.headers as Record<string, string>)['If-Match']).toBe('2');
    expect(JSON.parse(String(put?.[1]?.body))).toMatchObject({ name: '交车欢迎 v3', scope: CORP });
    expect(document.body.textContent).toContain('此活动已被他人修改');
  });

  it('saves an owner.unreachable rule it loaded without losing fallbackAdvisor or the vehicle conditions', async () => {
    const body = {
      name: '加企微',
      scope: CORP,
      priority: 100,
      trigger: { type: 'owner.unreachable' as const, fallbackAdvisor: 'lisi' },
      conditions: {
        vehicle: {
          models: ['星途 L'],
          daysSinceDelivery: { min: 30, max: 365 },
          daysSinceService: { min: 180 },
          salesAdvisors: ['zhangwei'],
        },
      },
      actions: [{ type: 'follow_up' as const, title: '请加车主企微', dueIn: '1d', sla: '72h' }],
      guards: { monthlyCap: 4 },
    };
    const stored = asRule(rule({ name: body.name, version: 3, body }));
    const api = stubApi({
      'GET /api/v1/rules/options': () => json(200, options),
      'GET /api/v1/rules/r1/versions': () => json(200, { versions: [] }),
      'GET /api/v1/rules/r1': () => json(200, { ...stored, versions: [] }),
      'PUT /api/v1/rules/r1': () => json(200, { ...stored, version: 4 }),
    });
    const page = await mountPage({ id: 'r1' });
    await flushPromises();
    expect((page.find('input[data-test="rule-trigger-fallback-advisor"]').element as HTMLInputElement).value).toBe(
      'lisi',
    );
    expect(page.find('[data-test="rule-cond-lifecycle"]').exists()).toBe(false);
    await page.find('[data-test="rule-save"]').trigger('click');
    await flushPromises();
    expect(api.calls.find((c) => c.method === 'PUT')?.body).toEqual(body);
  });

  it('shows an error state when the rule cannot be loaded', async () => {
    stubApi({
      'GET /api/v1/rules/options': () => json(200, options),
      'GET /api/v1/rules/nope': () => json(404, { error: { code: 'rule_not_found', message: 'no rule nope' } }),
    });
    const page = await mountPage({ id: 'nope' });
    await flushPromises();
    expect(page.find('[data-test="rule-error"]').text()).toContain('no rule nope');
  });
});
