import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useSession } from './session.js';

function respond(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

describe('session store', () => {
  beforeEach(() => setActivePinia(createPinia()));
  afterEach(() => vi.unstubAllGlobals());

  it('loads the signed-in user and sends its CSRF token on the next state change', async () => {
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(respond(200, { userid: 'u1', role: 'advisor', corpId: 'c1', csrfToken: 'tok-1' }))
      .mockResolvedValueOnce(new Response(null, { status: 204 }));
    vi.stubGlobal('fetch', fetchMock);
    const session = useSession();
    const me = await session.load();
    expect(me?.role).toBe('advisor');
    await session.logout();
    const [, init] = fetchMock.mock.calls[1] as [string, RequestInit];
    expect((init.headers as Record<string, string>)['X-CSRF-Token']).toBe('tok-1');
    expect(session.me).toBeUndefined();
  });

  it('treats 401 as signed out and surfaces any other failure', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn().mockResolvedValueOnce(respond(401, { error: { code: 'unauthenticated', message: 'sign in' } })),
    );
    const session = useSession();
    expect(await session.load()).toBeUndefined();
    expect(session.loaded).toBe(true);
    vi.stubGlobal(
      'fetch',
      vi.fn().mockResolvedValueOnce(respond(503, { error: { code: 'unavailable', message: 'down' } })),
    );
    await expect(useSession().load()).rejects.toThrow('down');
  });

  it('names the member and corps from /me, falling back to the ids', () => {
    const session = useSession();
    session.set({
      role: 'manager',
      corps: ['wwA', 'wwB'],
      userid: 'wangqiang',
      name: '王强',
      departments: [2],
      via: 'wecom',
      corpId: 'wwA',
      csrfToken: 'c',
      corpNames: { wwA: '北京四海' },
    });
    expect(session.displayName).toBe('王强');
    expect(session.corpName('wwA')).toBe('北京四海');
    expect(session.corpName('wwB')).toBe('wwB');
    session.set({
      role: 'admin',
      corps: '*',
      userid: undefined,
      departments: undefined,
      via: 'token',
      corpId: undefined,
      csrfToken: 'c',
    });
    expect(session.displayName).toBe('');
    expect(session.corpName('wwA')).toBe('wwA');
  });
});
