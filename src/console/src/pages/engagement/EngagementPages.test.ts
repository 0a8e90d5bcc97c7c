import { flushPromises } from '@vue/test-utils';
import { ElMessageBox, type MessageBoxData } from 'element-plus';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Plugin } from 'vue';
import type { Me } from '../../lib/api-types.js';
import { useSession } from '../../lib/session.js';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import BroadcastsPage from './BroadcastsPage.vue';
import MomentsPage from './MomentsPage.vue';

const CORP = 'wwbroadcastpage';
const me = (role: Me['role']): Me => ({
  role,
  corps: [CORP],
  userid: 'someone',
  departments: [],
  via: 'wecom',
  corpId: CORP,
  csrfToken: 'csrf',
});
const signedIn = (m: Me): Plugin => ({ install: () => useSession().set(m) });
const ID = 'bbbbbbbbbbbbbbbbbbbbbbbb';
const row = {
  id: ID,
  corpId: CORP,
  name: '保养节',
  status: 'pending_approval',
  chatType: 'single',
  scheduledAt: '2026-05-10T04:00:00Z',
  createdBy: 'user:mkt',
};
const detail = {
  ...row,
  status: 'sent',
  totals: { sent: 2, pending: 1, failed: 1, groupsSent: 0, groupsPlanned: 0 },
  progress: [
    {
      userid: 'zhangwei',
      state: 'sent',
      stateWords: '已确认发送',
      customers: { sent: 2, pending: 0, failed: 1 },
      groups: { sent: 0, planned: 0 },
      failures: [{ reason: '发送失败：客户已不是该顾问的好友', count: 1 }],
    },
  ],
};

const figures = (customers: number, withOutcome: number) => ({
  customers,
  withOutcome,
  rate: withOutcome / customers,
  rateLow: 0.1,
  rateHigh: 0.4,
  revenue: withOutcome * 500,
  revenuePerCustomer: (withOutcome * 500) / customers,
});
const report = {
  broadcastId: ID,
  corpId: CORP,
  name: '保养节',
  status: 'sent',
  holdoutPercent: 10,
  windowDays: 30,
  outcomeTypes: ['repair_order'],
  treated: figures(90, 27),
  heldOut: figures(10, 2),
  uplift: { difference: 0.1, low: -0.07, high: 0.19, significant: false },
  verdict: 'not_significant',
};

afterEach(() => vi.unstubAllGlobals());

describe('BroadcastsPage', () => {
  it('previews a draft per advisor with the exclusions, submits it, and shows progress per advisor', async () => {
    const api = stubApi({
      'GET /api/v1/broadcasts': (url) =>
        url.pathname.endsWith(ID) ? json(200, detail) : json(200, { broadcasts: [row] }),
      'POST /api/v1/broadcasts/preview': () =>
        json(200, {
          customers: 4,
          groups: 0,
          calls: 2,
          advisors: [{ userid: 'zhangwei', customers: 3, groups: 0, excluded: 1, messages: 2 }],
          maxMessagesPerAdvisor: 5,
          excluded: [{ reason: 'opted_out', words: '客户已退订营销消息', count: 1 }],
        }),
      'POST /api/v1/broadcasts': () => json(201, { id: ID }),
      [`GET /api/v1/broadcasts/${ID}/report`]: () => json(200, report),
    });
    const w = await mountWithConsole(BroadcastsPage, { global: { plugins: [signedIn(me('marketing'))] } });
    await flushPromises();
    expect(w.find(`[data-test="status-${ID}"]`).text()).toBe('待审批');
    // Marketing does not approve.
    expect(w.find(`[data-test="approve-${ID}"]`).exists()).toBe(false);
    await w.find('[data-test="name"]').setValue('保养节');
    await w.find('[data-test="text"]').setValue('工时 8 折');
    await w.find('[data-test="preview"]').trigger('click');
    await flushPromises();
    expect(w.find('[data-test="preview-result"]').text()).toContain('将发送给 4 位客户');
    expect(w.find('[data-test="excluded"]').text()).toBe('客户已退订营销消息：1');
    // Per advisor, the messages they will confirm in 群发助手 (more than one with customer variables).
    expect(w.find('[data-test="preview-result"]').text()).toContain('待确认群发条数（上限 5）');
    const heads = w.findAll('[data-test="preview-result"] thead th').map((c) => c.text());
    const cells = w.findAll('[data-test="preview-result"] tbody tr td').map((c) => c.text());
    expect(cells[heads.indexOf('待确认群发条数（上限 5）')]).toBe('2');
    const sentPreview = api.calls.filter((c) => c.url.pathname === '/api/v1/broadcasts/preview').at(-1);
    expect(sentPreview?.body).toMatchObject({
      corpId: CORP,
      audience: { kind: 'segment' },
      content: { text: '工时 8 折' },
    });
    await w.find('[data-test="submit"]').trigger('click');
    await flushPromises();
    expect(api.calls.some((c) => c.method === 'POST' && c.url.pathname === '/api/v1/broadcasts')).toBe(true);
    expect(w.find('[data-test="totals"]').text()).toBe('已发送 2，待确认 1，失败 1');
    expect(w.find('[data-test="progress"]').text()).toContain('发送失败：客户已不是该顾问的好友：1');
    // The report beside the progress, in the rules' report wording.
    const shown = w.find('[data-test="broadcast-report"]');
    expect(shown.text()).toContain('对照组比例 10%');
    expect(shown.find('[data-test="verdict-not_significant"]').text()).toContain('尚不显著');
    expect(shown.find('[data-test="uplift"]').text()).toBe('提升 +10.0 pp（95% 区间 -7.0 至 +19.0 pp）');
    const groups = shown.findAll('[data-test="report-groups"] .el-table__body tr').map((r) => r.text());
    expect(groups[0]).toContain('触达组');
    expect(groups[0]).toContain('90');
    expect(groups[1]).toContain('对照组（留出）');
  });

  it('says a broadcast without a holdout share has no control group, in its own words', async () => {
    stubApi({
      'GET /api/v1/broadcasts': (url) =>
        url.pathname.endsWith(ID) ? json(200, detail) : json(200, { broadcasts: [row] }),
      [`GET /api/v1/broadcasts/${ID}/report`]: () =>
        json(200, {
          ...report,
          holdoutPercent: 0,
          heldOut: { ...report.heldOut, customers: 0 },
          uplift: undefined,
          verdict: 'no_control_group',
        }),
    });
    const w = await mountWithConsole(BroadcastsPage, { global: { plugins: [signedIn(me('manager'))] } });
    await flushPromises();
    await w.find(`[data-test="open-${ID}"]`).trigger('click');
    await flushPromises();
    const verdict = w.find('[data-test="verdict-no_control_group"]');
    expect(verdict.text()).toContain('请在群发中设置对照组比例');
    expect(w.find('[data-test="uplift"]').exists()).toBe(false);
  });

  it("edits the segment with the rules' condition fields and previews it as it changes, before any text", async () => {
    const api = stubApi({
      'GET /api/v1/broadcasts': () => json(200, { broadcasts: [row] }),
      'GET /api/v1/rules/options': () =>
        json(200, {
          corpId: CORP,
          corps: [],
          dateFields: [],
          tags: [],
          channelStates: [],
          deliveryStatePrefixes: [],
          vehicleModels: ['星途 L'],
        }),
      'POST /api/v1/broadcasts/preview': () =>
        json(200, { customers: 2, groups: 0, calls: 2, advisors: [], excluded: [] }),
    });
    vi.useFakeTimers();
    try {
      const w = await mountWithConsole(BroadcastsPage, { global: { plugins: [signedIn(me('marketing'))] } });
      await flushPromises();
      // The send time in the dealer's words, not the API's ISO text.
      expect(w.find(`[data-test="scheduled-${ID}"]`).text()).not.toContain('T04:00');
      expect(w.find(`[data-test="scheduled-${ID}"]`).text()).toMatch(/2026\/5\/10/);
      await w.find('[data-test="rule-cond-lifecycle-owner"] input').setValue(true);
      await w.find('[data-test="rule-cond-advisors"]').setValue('zhangwei, liuyang');
      await vi.advanceTimersByTimeAsync(1000);
      await flushPromises();
      const previews = api.calls.filter((c) => c.url.pathname === '/api/v1/broadcasts/preview');
      // One on opening (every customer), one for the edited segment (the edits within the pause are one).
      expect(previews.map((c) => c.body)).toEqual([
        { corpId: CORP, audience: { kind: 'segment', conditions: {} }, holdoutPercent: 0 },
        {
          corpId: CORP,
          audience: { kind: 'segment', conditions: { lifecycle: ['owner'], advisors: ['zhangwei', 'liuyang'] } },
          holdoutPercent: 0,
        },
      ]);
      expect(w.find('[data-test="preview-result"]').text()).toContain('将发送给 2 位客户');
    } finally {
      vi.useRealTimers();
    }
  });

  it('picks a saved segment into the condition fields, drops it once edited, and saves the conditions as a segment', async () => {
    const SEG = 'cccccccccccccccccccccccc';
    const api = stubApi({
      'GET /api/v1/broadcasts': () => json(200, { broadcasts: [] }),
      'GET /api/v1/segments': () =>
        json(200, { segments: [{ id: SEG, corpId: CORP, name: '张伟的保客', conditions: { lifecycle: ['owner'] } }] }),
      'POST /api/v1/segments': (_url, body) =>
        json(201, { id: 'dddddddddddddddddddddddd', corpId: CORP, ...(body as object) }),
      'POST /api/v1/broadcasts/preview': () =>
        json(200, { customers: 1, groups: 0, calls: 1, advisors: [], excluded: [] }),
    });
    const w = await mountWithConsole(BroadcastsPage, { global: { plugins: [signedIn(me('marketing'))] } });
    await flushPromises();
    const select = w.findComponent({ name: 'ElSelect' });
    select.vm.$emit('update:modelValue', SEG);
    await flushPromises();
    expect((w.find('[data-test="rule-cond-lifecycle-owner"] input').element as HTMLInputElement).checked).toBe(true);
    await w.find('[data-test="preview"]').trigger('click');
    await flushPromises();
    const previews = () => api.calls.filter((c) => c.url.pathname === '/api/v1/broadcasts/preview');
    expect(previews().at(-1)?.body).toMatchObject({
      audience: { kind: 'segment', segmentId: SEG, conditions: { lifecycle: ['owner'] } },
    });
    // Editing a condition makes the audience inline again.
    await w.find('[data-test="rule-cond-advisors"]').setValue('zhangwei');
    await flushPromises();
    await w.find('[data-test="preview"]').trigger('click');
    await flushPromises();
    expect((previews().at(-1)?.body as { audience: object }).audience).not.toHaveProperty('segmentId');

    vi.spyOn(ElMessageBox, 'prompt').mockResolvedValue({ value: ' 张伟的车主 ', action: 'confirm' } as MessageBoxData);
    await w.find('[data-test="save-segment"]').trigger('click');
    await flushPromises();
    const saved = api.calls.find((c) => c.method === 'POST' && c.url.pathname === '/api/v1/segments');
    expect(saved?.body).toEqual({
      corpId: CORP,
      name: '张伟的车主',
      conditions: { lifecycle: ['owner'], advisors: ['zhangwei'] },
    });
    await w.find('[data-test="preview"]').trigger('click');
    await flushPromises();
    expect(previews().at(-1)?.body).toMatchObject({ audience: { segmentId: 'dddddddddddddddddddddddd' } });
    // The page's pending preview timer must not call the next test's fetch.
    w.unmount();
    vi.restoreAllMocks();
  });

  it('lets a manager approve, and shows the API refusal in words', async () => {
    const api = stubApi({
      'GET /api/v1/broadcasts': () => json(200, { broadcasts: [row] }),
      'POST /api/v1/broadcasts/': () =>
        json(409, {
          error: { code: 'broadcast_not_pending', message: 'broadcast is approved, not waiting for approval' },
        }),
    });
    const w = await mountWithConsole(BroadcastsPage, { global: { plugins: [signedIn(me('manager'))] } });
    await flushPromises();
    expect(w.find('[data-test="create"]').exists()).toBe(false);
    await w.find(`[data-test="approve-${ID}"]`).trigger('click');
    await flushPromises();
    expect(api.calls.at(-1)?.url.pathname).toBe(`/api/v1/broadcasts/${ID}/approve`);
    expect(w.find('[data-test="problem"]').text()).toContain('not waiting for approval');
  });
});

describe('MomentsPage', () => {
  it('creates a task for the listed advisors and shows who published', async () => {
    const task = {
      id: 'm1',
      name: '新车上市',
      text: 'x',
      status: 'active',
      advisors: ['zhangwei', 'lina'],
      published: 1,
      pending: 1,
      publishStatus: [
        { userid: 'zhangwei', published: true, reach: 3 },
        { userid: 'lina', published: false },
      ],
    };
    const api = stubApi({
      'GET /api/v1/moments': () => json(200, { moments: [task] }),
      'POST /api/v1/moments': () => json(202, { id: 'm1', status: 'pending' }),
    });
    const w = await mountWithConsole(MomentsPage, { global: { plugins: [signedIn(me('marketing'))] } });
    await flushPromises();
    expect(w.find('[data-test="progress-m1"]').text()).toBe('1 / 2 位顾问已发表');
    await w.find('[data-test="text"]').setValue('新款到店');
    await w.find('[data-test="advisors"]').setValue('zhangwei, lina，zhangwei');
    await w.find('[data-test="submit"]').trigger('click');
    await flushPromises();
    expect(api.calls.find((c) => c.method === 'POST')?.body).toMatchObject({
      corpId: CORP,
      text: '新款到店',
      advisors: ['zhangwei', 'lina'],
      tagIds: [],
    });
  });

  it("attaches library images or a link with a library cover, and summarises each task's attachments", async () => {
    const base = { text: '', status: 'pending', advisors: ['zhangwei'], published: 0, pending: 0, publishStatus: [] };
    const api = stubApi({
      'GET /api/v1/moments': () =>
        json(200, {
          moments: [
            { ...base, id: 'm1', name: 'a', images: [{ assetId: 'x' }, { assetId: 'y' }] },
            { ...base, id: 'm2', name: 'b', link: { title: '试驾', url: 'https://a.example', coverAssetId: 'x' } },
            { ...base, id: 'm3', name: 'c', text: 't' },
          ],
        }),
      'GET /api/v1/content': () =>
        json(200, {
          items: [
            { id: 'img1', scope: 'all', title: '新车外观', kind: 'image', assetId: 'x' },
            { id: 'img2', scope: CORP, title: '展厅', kind: 'image', assetId: 'y' },
            { id: 'img3', scope: 'wwother', title: '别家', kind: 'image', assetId: 'z' },
          ],
        }),
      'POST /api/v1/moments': () => json(202, { id: 'm4', status: 'pending' }),
    });
    const w = await mountWithConsole(MomentsPage, { global: { plugins: [signedIn(me('marketing'))] } });
    await flushPromises();
    expect(w.find('[data-test="attachments-m1"]').text()).toBe('2 张图片');
    expect(w.find('[data-test="attachments-m2"]').text()).toBe('链接：试驾');
    expect(w.find('[data-test="attachments-m3"]').text()).toBe('仅文字');

    await w.find('[data-test="attach-images"] input').setValue(true);
    expect(w.find('[data-test="image-img3"]').exists()).toBe(false);
    await w.find('[data-test="image-img2"] input').setValue(true);
    await w.find('[data-test="image-img1"] input').setValue(true);
    await w.find('[data-test="advisors"]').setValue('zhangwei');
    await w.find('[data-test="submit"]').trigger('click');
    await flushPromises();
    expect(api.calls.filter((c) => c.method === 'POST').at(-1)?.body).toMatchObject({
      text: '',
      images: [{ contentItemId: 'img2' }, { contentItemId: 'img1' }],
    });

    await w.find('[data-test="attach-link"] input').setValue(true);
    await w.find('[data-test="link-title"]').setValue('新款到店');
    await w.find('[data-test="link-url"]').setValue('https://dealer.example.com/launch');
    await w.find('[data-test="cover-img1"] input').setValue(true);
    await w.find('[data-test="advisors"]').setValue('zhangwei');
    await w.find('[data-test="submit"]').trigger('click');
    await flushPromises();
    const posted = api.calls.filter((c) => c.method === 'POST').at(-1)?.body as Record<string, unknown>;
    expect(posted).toMatchObject({
      link: { title: '新款到店', url: 'https://dealer.example.com/launch', cover: { contentItemId: 'img1' } },
    });
    expect(posted.images).toBeUndefined();
  });
});
