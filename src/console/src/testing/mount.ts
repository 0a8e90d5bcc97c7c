import ElementPlus from 'element-plus';
import { createPinia, setActivePinia } from 'pinia';
import { mount, type ComponentMountingOptions } from '@vue/test-utils';
import { vi } from 'vitest';
import type { Component } from 'vue';
import { createMemoryHistory, createRouter } from 'vue-router';
import { i18n } from '../i18n.js';

/** A JSON response as the API would send it. */
export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/**
 * Stubs `fetch` with a table of `METHOD /path` → handler (first match by prefix of the path
 * without query), records every call, and answers 404 for anything unexpected so a test sees it.
 */
export function stubApi(routes: Record<string, (url: URL, body: unknown) => Response | Promise<Response>>) {
  const calls: { method: string; url: URL; body: unknown }[] = [];
  const fetchMock = vi.fn(async (input: string, init?: RequestInit) => {
    const url = new URL(input, 'http://console.test');
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ method, url, body });
    const key = Object.keys(routes)
      .filter((k) => {
        const [m, p] = k.split(' ');
        return m === method && url.pathname.startsWith(p ?? '');
      })
      .sort((a, b) => b.length - a.length)[0];
    return key
      ? routes[key]!(url, body)
      : json(404, { error: { code: 'not_found', message: `${method} ${url.pathname} not stubbed` } });
  });
  vi.stubGlobal('fetch', fetchMock);
  return { calls, fetchMock };
}

/** Mounts a page or component with the console's real plugins (Element Plus, i18n in zh-CN, Pinia, a memory router). */
export async function mountWithConsole<T extends Component>(
  component: T,
  options: ComponentMountingOptions<T> & { path?: string } = {},
) {
  const pinia = createPinia();
  setActivePinia(pinia);
  const router = createRouter({
    history: createMemoryHistory('/console/'),
    routes: [{ path: '/:rest(.*)*', component: { template: '<div />' } }],
  });
  await router.push(options.path ?? '/');
  await router.isReady();
  i18n.global.locale.value = 'zh-CN';
  const { global, ...rest } = options;
  return mount(component, {
    ...(rest as object),
    global: { ...global, plugins: [ElementPlus, i18n, pinia, router, ...(global?.plugins ?? [])] },
  } as ComponentMountingOptions<T>);
}
