import { flushPromises } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CorpSettings } from '../../lib/api-types.js';
import { useSession } from '../../lib/session.js';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import SettingsPage from './SettingsPage.vue';

const corpA: CorpSettings = {
  corpId: 'wwA',
  kind: 'dealer',
  displayName: '城南店',
  agentId: 1000002,
  timezone: 'Asia/Shanghai',
  enabled: true,
  secrets: { secret: true, callbackToken: true, callbackAesKey: true, contactSync: false },
  tasks: {
    workingHours: { start: '08:30', end: '20:00' },
    quietHours: { start: '21:00', end: '09:00' },
    sla: '24h',
    escalateAfter: '48h',
    flagAfter: '72h',
    reassignOnFlag: false,
    digestThreshold: 5,
    perMinuteBudget: 20,
  },
  retention: {
    deliveryStatePrefixes: ['delivery'],
    ownerTagNames: ['已购车'],
    ownerOnVehicleLink: true,
    ownerTag: { group: '客户分层', name: '保客' },
    modelTagGroup: '车型',
  },
  consoleRoles: { admins: [], dealerAdmins: ['liuyang'], marketing: ['lina'], oem: [], analysts: [] },
};

async function mountAs(role: 'admin' | 'dealer_admin', corpId?: string) {
  const page = await mountWithConsole(SettingsPage, { props: corpId ? { corpId } : {}, attachTo: document.body });
  useSession().set({
    role,
    corps: role === 'admin' ? '*' : ['wwA'],
    userid: 'u1',
    departments: undefined,
    via: 'wecom',
    corpId: 'wwA',
    csrfToken: 'csrf',
  });
  return page;
}

/** A dealer admin's form for wwA against an API that saves whatever is sent. */
async function editCorpA() {
  const api = stubApi({
    'GET /api/v1/corps/wwA/settings': () => json(200, corpA),
    'PATCH /api/v1/corps/wwA/settings': (_url, body) => json(200, { ...corpA, ...(body as object) }),
  });
  const page = await mountAs('dealer_admin');
  await page.setProps({ corpId: 'wwA' });
  await flushPromises();
  return { api, page };
}

// Mounting the whole form takes seconds on a busy two-core CI machine.
describe('SettingsPage', { timeout: 30_000 }, () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.innerHTML = '';
  });

  it('shows a dealer admin their corp: secrets only as set / not set, no tokens, admins read-only', async () => {
    stubApi({ 'GET /api/v1/corps/wwA/settings': () => json(200, corpA) });
    const page = await mountAs('dealer_admin', 'wwA');
    await page.setProps({ corpId: 'wwA' });
    await flushPromises();
    const secrets = page.find('[data-test="settings-secrets"]');
    expect(secrets.find('[data-test="secret-secret"] [data-test="secret-state"]').text()).toBe('已设置');
    expect(secrets.find('[data-test="secret-contactSyncToken"] [data-test="secret-state"]').text()).toBe('未设置');
    expect(secrets.findAll('input[type="password"]')).toHaveLength(0);
    expect((page.find('[data-test="settings-working-start"]').element as HTMLInputElement).value).toBe('08:30');
    expect(page.find('[data-test="tokens"]').exists()).toBe(false);
    expect(page.text()).toContain('只有系统管理员可以授予或取消此角色');
    // The title names the corp; its id stays at hand as the tooltip.
    const title = page.find('[data-test="settings-corp-name"]');
    expect(title.text()).toBe('· 城南店');
    expect(title.attributes('title')).toBe('wwA');
  });

  it('sends changed sections and a replaced secret, never the enabled switch for a dealer admin', async () => {
    const { api, page } = await editCorpA();
    await page.find('[data-test="settings-working-start"]').setValue('09:00');
    await page.find('[data-test="settings-quiet-end"]').setValue('08:00');
    await page.find('[data-test="secret-secret"] [data-test="secret-replace"]').trigger('click');
    await page.find('[data-test="secret-secret"] input[type="password"]').setValue('new-app-secret');
    await page.find('[data-test="settings-form"]').trigger('submit');
    await flushPromises();
    const sent = api.calls.find((c) => c.method === 'PATCH');
    expect(sent?.body).toMatchObject({
      secret: 'new-app-secret',
      tasks: { workingHours: { start: '09:00', end: '20:00' }, quietHours: { start: '21:00', end: '08:00' } },
      consoleRoles: { marketing: ['lina'] },
    });
    expect(sent?.body).not.toHaveProperty('enabled');
    expect(sent?.body).not.toHaveProperty('callbackToken');
  });

  it("switches the corp's quiet hours off (null) and on again with the last window", async () => {
    const { api, page } = await editCorpA();
    await page.find('[data-test="settings-quiet-start"]').setValue('22:00');
    await page.find('[data-test="settings-quiet-on"]').trigger('click');
    expect(page.find('[data-test="settings-quiet-start"]').exists()).toBe(false);
    expect(page.text()).toContain('已关闭');
    await page.find('[data-test="settings-form"]').trigger('submit');
    await flushPromises();
    expect(api.calls.find((c) => c.method === 'PATCH')?.body).toMatchObject({ tasks: { quietHours: null } });
    await page.find('[data-test="settings-quiet-on"]').trigger('click');
    expect((page.find('[data-test="settings-quiet-start"]').element as HTMLInputElement).value).toBe('22:00');
  });

  it("shows the API's 422 problems at the fields they name", async () => {
    stubApi({
      'GET /api/v1/corps/wwA/settings': () => json(200, corpA),
      'PATCH /api/v1/corps/wwA/settings': () =>
        json(422, {
          error: {
            code: 'validation_failed',
            message: 'some fields are invalid',
            details: [{ path: '/tasks/workingHours/start', message: 'use a 24-hour local time like 08:30' }],
          },
        }),
    });
    const page = await mountAs('dealer_admin');
    await page.setProps({ corpId: 'wwA' });
    await flushPromises();
    await page.find('[data-test="settings-form"]').trigger('submit');
    await flushPromises();
    const item = page.find('[data-test="settings-working-start"]').element.closest('.el-form-item');
    // Element Plus shows a form item's error after a short debounce: poll for it.
    await vi.waitFor(() => expect(item?.textContent).toContain('use a 24-hour local time like 08:30'), {
      timeout: 2000,
    });
  });

  it('says a corp typed into the URL is out of reach instead of showing an empty form', async () => {
    stubApi({
      'GET /api/v1/corps/wwB/settings': () => json(404, { error: { code: 'not_found', message: 'not found' } }),
    });
    const page = await mountAs('dealer_admin');
    await page.setProps({ corpId: 'wwB' });
    await flushPromises();
    expect(page.find('[data-test="settings-refused"]').text()).toContain('无法打开企业 wwB 的设置');
    expect(page.find('[data-test="settings-form"]').exists()).toBe(false);
  });

  it('gives admins a corp picker and the tokens panel; a created token is shown once', async () => {
    stubApi({
      'GET /api/v1/corps': () =>
        json(200, {
          corps: [
            {
              corpId: 'wwA',
              kind: 'dealer',
              displayName: '城南店',
              agentId: 1,
              timezone: 'Asia/Shanghai',
              enabled: true,
              hasContactSync: false,
            },
          ],
        }),
      'GET /api/v1/corps/wwA/settings': () => json(200, corpA),
      'GET /api/v1/tokens': () =>
        json(200, {
          tokens: [
            {
              tokenId: 'abcdefabcdef',
              role: 'integration',
              corps: ['wwA'],
              label: 'DMS',
              createdAt: '2026-05-01T00:00:00Z',
            },
          ],
        }),
      'POST /api/v1/tokens': () => json(201, { tokenId: 'zzzzzzzzzzzz', token: 'scrm_zzzzzzzzzzzz_secretpart' }),
    });
    const page = await mountAs('admin');
    await page.setProps({ corpId: 'wwA' });
    await flushPromises();
    expect(page.find('[data-test="settings-corp"]').exists()).toBe(true);
    expect(page.find('[data-test="tokens-table"]').text()).toContain('abcdefabcdef');
    await page.find('[data-test="token-form"]').trigger('submit');
    await flushPromises();
    expect(page.find('[data-test="token-value"]').text()).toBe('scrm_zzzzzzzzzzzz_secretpart');
  });

  it('offers a retry when loading fails', async () => {
    stubApi({ 'GET /api/v1/corps/wwA/settings': () => json(500, { error: { code: 'internal', message: 'boom' } }) });
    const page = await mountAs('dealer_admin');
    await page.setProps({ corpId: 'wwA' });
    await flushPromises();
    expect(page.find('[data-test="settings-failed"]').text()).toContain('重试');
  });
});
