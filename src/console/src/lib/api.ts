import type { Me, Rule, SignInCorp, Task } from './api-types.js';

/** An /api/v1 error body (`{ error: { code, message } }`) as a throwable. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

let csrfToken = '';
/** Remembers the session's CSRF token (from /console/auth/me) for state-changing requests. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/**
 * The console's only way to the server: same-origin fetch with the session cookie; every
 * non-GET carries X-CSRF-Token (the server refuses it otherwise).
 */
export async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!res.ok) throw new ApiError(res.status, data.error?.code ?? 'error', data.error?.message ?? res.statusText);
  return data as T;
}

export const api = {
  me: () => call<Me>('GET', '/console/auth/me'),
  signInCorps: () => call<{ corps: SignInCorp[] }>('GET', '/console/auth/corps'),
  signInWithToken: (token: string) => call<Me>('POST', '/console/auth/token', { token }),
  logout: () => call<void>('POST', '/console/auth/logout'),
  myTasks: (status?: Task['status']) => call<{ tasks: Task[] }>('GET', `/api/v1/tasks${status ? `?status=${status}` : ''}`),
  task: (id: string) => call<Task>('GET', `/api/v1/tasks/${encodeURIComponent(id)}`),
  completeTask: (id: string) => call<Task>('POST', `/api/v1/tasks/${encodeURIComponent(id)}/complete`, { outcome: 'contacted' }),
  snoozeTask: (id: string, days = 1) => call<Task>('POST', `/api/v1/tasks/${encodeURIComponent(id)}/snooze`, { days }),
  unreachableTask: (id: string) => call<Task>('POST', `/api/v1/tasks/${encodeURIComponent(id)}/unreachable`, {}),
  rules: () => call<{ rules: Rule[] }>('GET', '/api/v1/rules'),
};

/** The server's sign-in redirect for a corp (WeCom QR page, or OAuth inside the WeCom client). */
export function wecomLoginUrl(corpId: string, next: string): string {
  return `/console/auth/login?${new URLSearchParams({ corpId, next }).toString()}`;
}
