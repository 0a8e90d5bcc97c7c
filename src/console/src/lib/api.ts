import type { KpiOverview, Me, MetricDefinition, Rule, SignInCorp, Task } from './api-types.js';

/** The outcomes an advisor picks when a follow-up is done (the same three as the WeCom card's buttons). */
export const TASK_OUTCOME_CHOICES = ['contacted', 'appointment_booked', 'customer_declined'] as const;
export type TaskOutcomeChoice = (typeof TASK_OUTCOME_CHOICES)[number];
import type {
  AdvisorOption,
  CustomerProfile,
  CustomerSearchKind,
  CustomerSummary,
  DeskTask,
  ReassignBulkResult,
  TaskDetail,
  TimelineItem,
  Transfer,
  TransferStart,
} from './api-types.js';

/** An /api/v1 error body (`{ error: { code, message } }`) as a throwable. */
export class ApiError extends Error {
  /** `details` of a 422: `{ path, message }` problems, paths as JSON pointers (`/tasks/workingHours/start`). */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}

/** A failure no page can act on: the network, a 5xx, or a session that expired meanwhile. */
export interface ApiFailure {
  status: number;
  code: string;
  message: string;
  path: string;
}
const failureListeners = new Set<(f: ApiFailure) => void>();
/** The shell subscribes to show one notice (instead of a blank page); returns the unsubscribe. */
export function onApiFailure(listener: (f: ApiFailure) => void): () => void {
  failureListeners.add(listener);
  return () => failureListeners.delete(listener);
}
function reportFailure(f: ApiFailure): void {
  for (const listener of failureListeners) listener(f);
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
export async function call<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<T> {
  const headers: Record<string, string> = { ...extraHeaders, Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    const failure = { status: 0, code: 'network', message: (err as Error).message, path };
    reportFailure(failure);
    throw new ApiError(0, failure.code, failure.message);
  }
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => ({}))) as {
    error?: { code?: string; message?: string; details?: unknown };
  };
  if (!res.ok) {
    const error = new ApiError(
      res.status,
      data.error?.code ?? 'error',
      data.error?.message ?? res.statusText,
      Array.isArray(data.error?.details) ? (data.error.details as ApiError['details']) : [],
    );
    // Sign-in routes answer 401 by design (not signed in yet); elsewhere it means the session ended.
    if (res.status >= 500 || (res.status === 401 && !path.startsWith('/console/auth/')))
      reportFailure({ status: res.status, code: error.code, message: error.message, path });
    throw error;
  }
  return data as T;
}

export const api = {
  me: () => call<Me>('GET', '/console/auth/me'),
  signInCorps: () => call<{ corps: SignInCorp[] }>('GET', '/console/auth/corps'),
  signInWithToken: (token: string) => call<Me>('POST', '/console/auth/token', { token }),
  logout: () => call<void>('POST', '/console/auth/logout'),
  myTasks: (status?: Task['status']) =>
    call<{ tasks: Task[] }>('GET', `/api/v1/tasks${status ? `?status=${status}` : ''}`),
  task: (id: string) => call<Task>('GET', `/api/v1/tasks/${encodeURIComponent(id)}`),
  completeTask: (id: string, outcome: TaskOutcomeChoice = 'contacted') =>
    call<Task>('POST', `/api/v1/tasks/${encodeURIComponent(id)}/complete`, { outcome }),
  snoozeTask: (id: string, days = 1) => call<Task>('POST', `/api/v1/tasks/${encodeURIComponent(id)}/snooze`, { days }),
  unreachableTask: (id: string) => call<Task>('POST', `/api/v1/tasks/${encodeURIComponent(id)}/unreachable`, {}),
  rules: () => call<{ rules: Rule[] }>('GET', '/api/v1/rules'),
  kpiDefinitions: () => call<{ definitions: MetricDefinition[] }>('GET', '/api/v1/kpis/definitions'),
  kpiOverview: (query: KpiQuery) => call<KpiOverview>('GET', `/api/v1/kpis/overview?${kpiSearch(query)}`),
  // Tasks desk, customers, transfers (docs/console.md).
  deskTasks: (query: Record<string, string>) =>
    call<{ tasks: DeskTask[]; next?: string }>('GET', `/api/v1/tasks?${new URLSearchParams(query).toString()}`),
  taskDetail: (id: string) => call<TaskDetail>('GET', `/api/v1/tasks/${encodeURIComponent(id)}`),
  reassignTask: (id: string, to: string) =>
    call<Task>('POST', `/api/v1/tasks/${encodeURIComponent(id)}/reassign`, { to }),
  reassignBulk: (body: { corpId: string; fromAdvisor: string; toAdvisor: string; taskIds?: string[] }) =>
    call<ReassignBulkResult>('POST', '/api/v1/tasks/reassign-bulk', body),
  advisors: (corpId?: string) =>
    call<{ advisors: AdvisorOption[] }>(
      'GET',
      `/api/v1/advisors${corpId ? `?corpId=${encodeURIComponent(corpId)}` : ''}`,
    ),
  /** A term search goes in the body (names and phones never in a URL); an advisor's customers are a GET. */
  searchCustomers: (query: {
    corpId?: string;
    by?: CustomerSearchKind;
    q?: string;
    advisor?: string;
    status?: string;
    lifecycle?: string;
    from?: string;
    to?: string;
  }) => {
    const given = Object.fromEntries(
      Object.entries(query).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
    );
    if (!given.advisor && !given.status && !given.lifecycle)
      return call<{ customers: CustomerSummary[] }>('POST', '/api/v1/customers/search', given);
    const { by: _by, q: _q, ...list } = given;
    return call<{ customers: CustomerSummary[] }>('GET', `/api/v1/customers?${new URLSearchParams(list).toString()}`);
  },
  customer: (id: string) => call<CustomerProfile>('GET', `/api/v1/customers/${encodeURIComponent(id)}`),
  customerTimeline: (id: string) =>
    call<{ items: TimelineItem[] }>('GET', `/api/v1/customers/${encodeURIComponent(id)}/timeline`),
  startTransfer: (body: TransferStart) =>
    call<{ id: string; status: 'requested'; customers: number }>('POST', '/api/v1/transfers', body),
  transfer: (id: string) => call<Transfer>('GET', `/api/v1/transfers/${encodeURIComponent(id)}`),
};

/** The server's sign-in redirect for a corp (WeCom QR page, or OAuth inside the WeCom client). */
export function wecomLoginUrl(corpId: string, next: string): string {
  return `/console/auth/login?${new URLSearchParams({ corpId, next }).toString()}`;
}

/** The cockpit's filters, as `/api/v1/kpis/overview` and `overview.csv` take them (dates `YYYY-MM-DD`). */
export interface KpiQuery {
  from: string;
  to: string;
  granularity: 'day' | 'week' | 'month';
  groupBy: 'corp' | 'department' | 'advisor';
  corpId?: string;
  department?: string;
  advisor?: string;
}
export function kpiSearch(query: KpiQuery): string {
  return new URLSearchParams(
    Object.entries(query).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
  ).toString();
}
