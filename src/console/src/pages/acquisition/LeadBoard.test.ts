import { flushPromises } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import { CORP, advisors, lead, meAs, pick, signedIn } from './acquisition.test-support.js';
import LeadBoard from './LeadBoard.vue';

const A = 'l0000000000000000000000a';
const B = 'l0000000000000000000000b';
const C = 'l0000000000000000000000c';
const board = {
  leads: [
    lead({ id: A, advisorUserid: null, name: '未分配客户' }),
    lead({ id: B, stage: 'test_drive', firstContactAt: '2026-06-01T03:00:00.000Z', name: '试驾客户' }),
    lead({ id: C, stage: 'lost', outcome: 'lost', lostReason: '已在别家购买', name: '战败客户' }),
  ],
};

describe('LeadBoard', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.innerHTML = '';
  });

  it('shows leads by stage, unassigned ones highlighted and uncontacted ones listed, and filters through the API', async () => {
    const api = stubApi({
      'GET /api/v1/leads': () => json(200, board),
      'GET /api/v1/advisors': () => json(200, advisors),
    });
    const page = await mountWithConsole(LeadBoard, { global: { plugins: [signedIn(meAs('manager', 'wangqiang'))] } });
    await flushPromises();
    expect(page.find('[data-test="stage-new"]').text()).toContain('未分配客户');
    expect(page.find(`[data-test="stage-new"] [data-lead="${A}"]`).classes()).toContain('unassigned');
    expect(page.find('[data-test="stage-test_drive"]').text()).toContain('试驾客户');
    expect(page.find('[data-test="stage-lost"]').text()).toContain('已在别家购买');
    const uncontacted = page.find('[data-test="uncontacted"]').text();
    expect(uncontacted).toContain('未分配客户');
    expect(uncontacted).not.toContain('试驾客户');

    pick(page, 'filter-source', 'dongchedi');
    await page.find('[data-test="lead-filters"]').trigger('submit');
    await flushPromises();
    const last = api.calls.filter((c) => c.url.pathname === '/api/v1/leads').at(-1)!;
    expect(last.url.searchParams.get('source')).toBe('dongchedi');
    expect(last.url.searchParams.get('corpId')).toBe(CORP);
  });

  it('reassigns the selected leads one by one and says how many moved and why one did not', async () => {
    const api = stubApi({
      'GET /api/v1/leads': () => json(200, board),
      'GET /api/v1/advisors': () => json(200, advisors),
      [`POST /api/v1/leads/${A}/assign`]: () => json(200, lead({ id: A, advisorUserid: 'liuyang' })),
      [`POST /api/v1/leads/${B}/assign`]: () =>
        json(409, { error: { code: 'lead_changed', message: 'the lead was reassigned meanwhile' } }),
    });
    const page = await mountWithConsole(LeadBoard, { global: { plugins: [signedIn(meAs('manager', 'wangqiang'))] } });
    await flushPromises();
    // A closed lead cannot be selected.
    expect(page.find(`[data-test="lead-select-${C}"]`).exists()).toBe(false);
    for (const id of [A, B])
      page
        .findAllComponents({ name: 'ElCheckbox' })
        .find((c) => c.attributes('data-test') === `lead-select-${id}`)!
        .vm.$emit('update:modelValue', true);
    await flushPromises();
    expect(page.text()).toContain('已选 2 条');
    pick(page, 'bulk-to', 'liuyang');
    await flushPromises();
    await page.find('[data-test="bulk-reassign"]').trigger('click');
    await flushPromises();
    const assigns = api.calls.filter((c) => c.method === 'POST');
    expect(assigns.map((c) => [c.url.pathname, c.body])).toEqual([
      [`/api/v1/leads/${A}/assign`, { advisorUserid: 'liuyang' }],
      [`/api/v1/leads/${B}/assign`, { advisorUserid: 'liuyang' }],
    ]);
    expect(page.find('[data-test="leads-notice"]').text()).toContain('已改派 1 条');
    expect(page.find('[data-test="leads-error"]').text()).toContain('the lead was reassigned meanwhile');
  });

  it('opens a lead in the drawer with name and mobile as the API answers them, and reassigns it', async () => {
    const api = stubApi({
      'GET /api/v1/leads': () => json(200, board),
      [`GET /api/v1/leads/${A}`]: () => json(200, { ...lead({ id: A, advisorUserid: null }), history: [] }),
      [`POST /api/v1/leads/${A}/assign`]: () => json(200, lead({ id: A, advisorUserid: 'zhangwei' })),
      'GET /api/v1/advisors': () => json(200, advisors),
    });
    const page = await mountWithConsole(LeadBoard, {
      attachTo: document.body,
      global: { plugins: [signedIn(meAs('manager', 'wangqiang'))] },
    });
    await flushPromises();
    await page.find(`[data-test="lead-open-${A}"]`).trigger('click');
    await flushPromises();
    expect(document.querySelector('[data-test="lead-name"]')?.textContent).toBe('测试线索甲');
    expect(document.querySelector('[data-test="lead-mobile"]')?.getAttribute('href')).toBe('tel:13900000001');
    pick(page, 'lead-reassign-to', 'zhangwei');
    await flushPromises();
    (document.querySelector('[data-test="lead-reassign"]') as HTMLElement).click();
    await flushPromises();
    expect(api.calls.find((c) => c.method === 'POST')?.body).toEqual({ advisorUserid: 'zhangwei' });
    expect(document.querySelector('[data-test="lead-advisor"]')?.textContent).toBe('张伟');
    page.unmount();
  });

  it('gives marketing the board without selection or reassignment', async () => {
    stubApi({
      'GET /api/v1/leads': () => json(200, board),
      'GET /api/v1/advisors': () => json(200, advisors),
    });
    const page = await mountWithConsole(LeadBoard, { global: { plugins: [signedIn(meAs('marketing', 'lina'))] } });
    await flushPromises();
    expect(page.find('[data-test="stage-new"]').text()).toContain('未分配客户');
    expect(page.find(`[data-test="lead-select-${A}"]`).exists()).toBe(false);
  });
});
