import { flushPromises, type VueWrapper } from '@vue/test-utils';
import { ElMessageBox, type MessageBoxData } from 'element-plus';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Plugin } from 'vue';
import type { Me } from '../../lib/api-types.js';
import { useSession } from '../../lib/session.js';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import GroupsPage from './GroupsPage.vue';
import GroupWelcomePage from './GroupWelcomePage.vue';

const CORP = 'wwgrouppages';
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
const KPIS = { groups: 2, members: 30, customersInGroups: 25, joins: 4, quits: 1, ownersInGroups: 20, activeGroups: 2 };
const groups = [
  { chatId: 'wrA', name: '汉兰达车主群', owner: 'zhangwei', members: 20, customers: 18, purposeTags: ['model:汉兰达'] },
  { chatId: 'wrB', name: '五月交车群', owner: 'lina', members: 10, customers: 7, purposeTags: [] },
];

/** Emits on the Element Plus component carrying `data-test` (its selects and radio groups speak through events). */
const emitOn = (w: VueWrapper, selector: string, event: string, value: unknown) =>
  (w.findComponent(selector) as unknown as VueWrapper).vm.$emit(event, value);

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('GroupsPage', () => {
  it('filters groups and their KPIs by purpose tag, and saves a group’s tags', async () => {
    const api = stubApi({
      'GET /api/v1/groups/kpis': () => json(200, KPIS),
      'GET /api/v1/groups': (url) =>
        json(200, {
          groups: url.searchParams.get('purposeTag')
            ? groups.filter((g) => g.purposeTags.includes(url.searchParams.get('purposeTag')!))
            : groups,
        }),
      'PATCH /api/v1/groups/': (_url, body) =>
        json(200, { chatId: 'wrB', purposeTags: (body as { purposeTags: string[] }).purposeTags }),
    });
    const w = await mountWithConsole(GroupsPage, { global: { plugins: [signedIn(me('marketing'))] } });
    await flushPromises();
    expect(w.find('[data-test="tags-wrA"]').text()).toBe('model:汉兰达');

    emitOn(w, '[data-test="tag-filter"]', 'update:modelValue', 'model:汉兰达');
    emitOn(w, '[data-test="tag-filter"]', 'change', 'model:汉兰达');
    await flushPromises();
    const listed = api.calls.filter((c) => c.url.pathname === '/api/v1/groups').at(-1);
    expect(listed?.url.searchParams.get('purposeTag')).toBe('model:汉兰达');
    const kpis = api.calls.filter((c) => c.url.pathname === '/api/v1/groups/kpis').at(-1);
    expect(kpis?.url.searchParams.get('purposeTag')).toBe('model:汉兰达');
    expect(w.find('[data-test="tags-wrB"]').exists()).toBe(false);

    emitOn(w, '[data-test="tag-filter"]', 'update:modelValue', '');
    emitOn(w, '[data-test="tag-filter"]', 'change', '');
    await flushPromises();
    await w.find('[data-test="edit-tags-wrB"]').trigger('click');
    emitOn(w, '[data-test="tags-input"]', 'update:modelValue', ['delivery:2026-05', 'region:东区']);
    await w.find('[data-test="tags-save"]').trigger('click');
    await flushPromises();
    const patch = api.calls.find((c) => c.method === 'PATCH');
    expect(patch?.url.pathname).toBe('/api/v1/groups/wrB');
    expect(patch?.body).toEqual({ corpId: CORP, purposeTags: ['delivery:2026-05', 'region:东区'] });
    expect(w.find('[data-test="tags-wrB"]').text()).toContain('delivery:2026-05');
  });

  it('shows the API’s words for a refused tag, and offers no editing to a manager', async () => {
    stubApi({
      'GET /api/v1/groups/kpis': () => json(200, KPIS),
      'GET /api/v1/groups': () => json(200, { groups }),
      'PATCH /api/v1/groups/': () =>
        json(422, {
          error: {
            code: 'validation_failed',
            message: 'invalid request',
            details: [{ path: '/purposeTags/0', message: 'a purpose tag has no spaces or commas' }],
          },
        }),
    });
    const w = await mountWithConsole(GroupsPage, { global: { plugins: [signedIn(me('marketing'))] } });
    await flushPromises();
    await w.find('[data-test="edit-tags-wrB"]').trigger('click');
    emitOn(w, '[data-test="tags-input"]', 'update:modelValue', ['has space']);
    await w.find('[data-test="tags-save"]').trigger('click');
    await flushPromises();
    expect(w.find('[data-test="problem"]').text()).toContain('/purposeTags/0: a purpose tag has no spaces or commas');

    const manager = await mountWithConsole(GroupsPage, { global: { plugins: [signedIn(me('manager'))] } });
    await flushPromises();
    expect(manager.find('[data-test="edit-tags-wrA"]').exists()).toBe(false);
  });
});

const template = {
  id: 'a'.repeat(24),
  label: '车主群欢迎',
  text: '欢迎 %NICKNAME%',
  link: { title: '保养预约', url: 'https://example.com/b' },
  notify: true,
  syncStatus: 'synced',
  wecomTemplateId: 'msgWelcome1',
};

describe('GroupWelcomePage', () => {
  it('creates a template with a link, edits it, deletes it, and shows WeCom’s id and sync state', async () => {
    const api = stubApi({
      'GET /api/v1/group-welcome-templates': () =>
        json(200, {
          templates: [
            template,
            {
              ...template,
              id: 'b'.repeat(24),
              label: '失败的',
              syncStatus: 'failed',
              syncError: '企业的入群欢迎语已达 100 条上限',
              wecomTemplateId: undefined,
            },
          ],
        }),
      'POST /api/v1/group-welcome-templates': () => json(202, { id: 'c'.repeat(24), syncStatus: 'pending' }),
      'PUT /api/v1/group-welcome-templates/': () => json(202, { id: template.id, syncStatus: 'pending' }),
      'DELETE /api/v1/group-welcome-templates/': () => json(202, { id: template.id, deleted: true }),
    });
    vi.spyOn(ElMessageBox, 'confirm').mockResolvedValue('confirm' as unknown as MessageBoxData);
    const w = await mountWithConsole(GroupWelcomePage, { global: { plugins: [signedIn(me('marketing'))] } });
    await flushPromises();
    expect(w.find(`[data-test="wecom-id-${template.id}"]`).text()).toBe('msgWelcome1');
    expect(w.find(`[data-test="sync-${template.id}"]`).text()).toBe('已同步');
    expect(w.find(`[data-test="attachment-${template.id}"]`).text()).toBe('链接：保养预约');
    expect(w.find(`[data-test="sync-error-${'b'.repeat(24)}"]`).text()).toBe('企业的入群欢迎语已达 100 条上限');

    await w.find('[data-test="label"]').setValue('新车主欢迎');
    await w.find('[data-test="text"]').setValue('欢迎 %NICKNAME% 入群');
    emitOn(w, '[data-test="kind"]', 'update:modelValue', 'image');
    await flushPromises();
    await w.find('[data-test="image-url"]').setValue('https://example.com/welcome.png');
    await w.find('[data-test="save"]').trigger('click');
    await flushPromises();
    const post = api.calls.find((c) => c.method === 'POST');
    expect(post?.body).toEqual({
      corpId: CORP,
      label: '新车主欢迎',
      text: '欢迎 %NICKNAME% 入群',
      imageUrl: 'https://example.com/welcome.png',
      notify: true,
    });

    await w.find(`[data-test="edit-${template.id}"]`).trigger('click');
    expect((w.find('[data-test="label"]').element as HTMLInputElement).value).toBe('车主群欢迎');
    expect((w.find('[data-test="link-url"]').element as HTMLInputElement).value).toBe('https://example.com/b');
    await w.find('[data-test="link-title"]').setValue('保养预约（五月）');
    await w.find('[data-test="save"]').trigger('click');
    await flushPromises();
    const put = api.calls.find((c) => c.method === 'PUT');
    expect(put?.url.pathname).toBe(`/api/v1/group-welcome-templates/${template.id}`);
    expect(put?.body).toMatchObject({ link: { title: '保养预约（五月）', url: 'https://example.com/b' } });

    await w.find(`[data-test="delete-${template.id}"]`).trigger('click');
    await flushPromises();
    const del = api.calls.find((c) => c.method === 'DELETE');
    expect(del?.url.pathname).toBe(`/api/v1/group-welcome-templates/${template.id}`);
    expect(del?.url.searchParams.get('corpId')).toBe(CORP);
  });

  it('shows a 4xx in words and offers a manager the list only', async () => {
    stubApi({
      'GET /api/v1/group-welcome-templates': () => json(200, { templates: [template] }),
      'POST /api/v1/group-welcome-templates': () =>
        json(422, {
          error: {
            code: 'validation_failed',
            message: 'invalid request',
            details: [{ path: '/text', message: 'give a text, an image or a link (WeCom refuses an empty template)' }],
          },
        }),
    });
    const w = await mountWithConsole(GroupWelcomePage, { global: { plugins: [signedIn(me('marketing'))] } });
    await flushPromises();
    await w.find('[data-test="label"]').setValue('空的');
    await w.find('[data-test="save"]').trigger('click');
    await flushPromises();
    expect(w.find('[data-test="problem"]').text()).toContain('/text: give a text, an image or a link');

    const manager = await mountWithConsole(GroupWelcomePage, { global: { plugins: [signedIn(me('manager'))] } });
    await flushPromises();
    expect(manager.find('[data-test="form"]').exists()).toBe(false);
    expect(manager.find(`[data-test="edit-${template.id}"]`).exists()).toBe(false);
    expect(manager.find(`[data-test="wecom-id-${template.id}"]`).text()).toBe('msgWelcome1');
  });
});
