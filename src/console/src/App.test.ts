import { flushPromises } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from './App.vue';
import { call } from './lib/api.js';
import type { Role } from './lib/api-types.js';
import { homeFor, navFor } from './lib/nav.js';
import { useSession } from './lib/session.js';
import NotFound from './pages/NotFound.vue';
import { router } from './router.js';
import { json, mountWithConsole, stubApi } from './testing/mount.js';

const me = (role: Role) => ({
  role,
  corps: ['wwA'],
  userid: 'u1',
  departments: undefined,
  via: 'wecom' as const,
  corpId: 'wwA',
  csrfToken: 'c',
});

describe('navigation by role', () => {
  it('offers each role only pages whose route lets it in', () => {
    for (const role of ['admin', 'oem', 'dealer_admin', 'marketing', 'manager', 'advisor'] as const) {
      for (const item of navFor(router, role)) {
        const roles = router.resolve(item.path).matched.at(-1)?.meta.roles;
        expect(roles === undefined || roles.includes(role), `${role} → ${item.path}`).toBe(true);
      }
    }
    const keys = (role: Role) => navFor(router, role).map((i) => i.key);
    expect(keys('marketing')).toContain('campaigns');
    expect(keys('marketing')).not.toContain('settings');
    expect(keys('dealer_admin')).toContain('settings');
    expect(keys('admin')).toEqual(expect.arrayContaining(['campaigns', 'settings', 'myTasks']));
    expect(keys('advisor')).not.toContain('settings');
    expect(keys('advisor')).not.toContain('campaigns');
    expect(keys('marketing')).toContain('channels');
    expect(keys('manager')).toEqual(expect.arrayContaining(['channels', 'leads', 'myLeads']));
    expect(keys('advisor')).toContain('myLeads');
    expect(keys('advisor')).not.toContain('leads');
  });

  it('starts advisors on their phone task list and never sends a role to a page that refuses it', () => {
    expect(homeFor(router, 'advisor')).toBe('/m/tasks');
    expect(homeFor(router, 'marketing')).toBe('/campaigns');
    expect(homeFor(router, 'integration')).toBe('/login');
  });
});

describe('the shell', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.innerHTML = '';
  });

  it('shows the navigation as links, the role, the language toggle and sign-out', async () => {
    stubApi({});
    const shell = await mountWithConsole(App, { attachTo: document.body });
    useSession().set(me('dealer_admin'));
    await flushPromises();
    expect(shell.find('nav[aria-label="主导航"]').exists()).toBe(true);
    expect(shell.find('[data-test="who"]').text()).toContain('经销商管理员');
    expect(shell.find('[data-test="locale"]').exists()).toBe(true);
    expect(shell.find('[data-test="sign-out"]').exists()).toBe(true);
  });

  it('names the signed-in member in the header (角色 · 姓名), the userid only as a tooltip or fallback', async () => {
    stubApi({});
    const shell = await mountWithConsole(App, { attachTo: document.body });
    useSession().set({ ...me('manager'), userid: 'wangqiang', name: '王强', corpNames: { wwA: '北京四海' } });
    await flushPromises();
    expect(shell.find('[data-test="who"]').text()).toBe('经理 · 王强');
    expect(shell.find('[data-test="who"]').text()).not.toContain('wangqiang');
    expect(shell.find('[data-test="who-name"]').attributes('title')).toBe('wangqiang');
    // An older server (or no directory name yet): the userid stands in.
    useSession().set({ ...me('advisor'), userid: 'zhangwei' });
    await flushPromises();
    expect(shell.find('[data-test="who"]').text()).toBe('顾问 · zhangwei');
  });

  it('turns a failed API call into one visible notice instead of a blank page', async () => {
    stubApi({
      'GET /api/v1/broken': () =>
        json(503, { error: { code: 'service_unavailable', message: 'MongoDB is unavailable' } }),
    });
    await mountWithConsole(App, { attachTo: document.body });
    useSession().set(me('manager'));
    await expect(call('GET', '/api/v1/broken')).rejects.toThrow('MongoDB is unavailable');
    await flushPromises();
    await vi.waitFor(() =>
      expect(document.body.querySelector('.api-failure')?.textContent).toContain('服务器出错了（503）'),
    );
  });

  it('sends an expired session back to sign-in with a notice', async () => {
    stubApi({
      'GET /api/v1/tasks': () => json(401, { error: { code: 'unauthorized', message: 'authentication required' } }),
    });
    const shell = await mountWithConsole(App, { attachTo: document.body, path: '/tasks' });
    useSession().set(me('manager'));
    await expect(call('GET', '/api/v1/tasks')).rejects.toThrow();
    await flushPromises();
    expect(useSession().me).toBeUndefined();
    expect(shell.vm.$route.fullPath).toBe('/login?next=/console/tasks');
    expect(document.body.querySelector('.api-failure')?.textContent).toContain('登录已过期');
  });
});

describe('NotFound', () => {
  it('names the missing path and links back', async () => {
    const page = await mountWithConsole(NotFound, { path: '/no/such/page' });
    expect(page.find('[data-test="not-found"]').text()).toContain('/console/no/such/page');
    expect(page.find('a').attributes('href')).toBe('/console/');
  });
});
