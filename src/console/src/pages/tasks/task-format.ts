import type { Task } from '../../lib/api-types.js';

/** The SLA column: done on time / late, or for open tasks on time, due soon, overdue, escalated (level ≥ 1). */
export type SlaState = {
  key: 'doneOnTime' | 'doneLate' | 'closed' | 'onTime' | 'dueSoon' | 'overdue' | 'escalated';
  level?: number;
  tone: 'success' | 'warning' | 'danger' | 'info';
};

const DAY = 86_400_000;

/** "Due soon" is within a day of the due time, or past it but still inside the SLA. */
export function slaState(
  t: Pick<Task, 'status' | 'onTime' | 'dueAt' | 'slaMs' | 'escalationLevel' | 'overdue'>,
  nowMs: number,
): SlaState {
  if (t.status === 'done')
    return t.onTime === false ? { key: 'doneLate', tone: 'warning' } : { key: 'doneOnTime', tone: 'success' };
  if (t.status !== 'open') return { key: 'closed', tone: 'info' };
  if (t.escalationLevel > 0) return { key: 'escalated', level: t.escalationLevel, tone: 'danger' };
  if (t.overdue) return { key: 'overdue', tone: 'danger' };
  return nowMs >= Date.parse(t.dueAt) - DAY ? { key: 'dueSoon', tone: 'warning' } : { key: 'onTime', tone: 'success' };
}

/**
 * A date filter from the URL as the API wants it: `YYYY-MM-DD` (the cockpit's links) is a local
 * day in China time (UTC+8, the dealers' zone); `to` is inclusive, so it becomes the next midnight.
 * Full ISO date-times pass through.
 */
export function dueBound(value: string, end: boolean): string | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const ms = Date.parse(`${value}T00:00:00+08:00`) + (end ? DAY : 0);
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  }
  return Number.isNaN(Date.parse(value)) ? undefined : new Date(value).toISOString();
}

/** `api:wangqiang` → { kind: 'api', who: 'wangqiang' }; `system` → { kind: 'system' }. */
export function actorOf(actor: string): { kind: 'system' | 'api' | 'wecom' | 'advisor' | 'other'; who: string } {
  const [kind, ...rest] = actor.split(':');
  const who = rest.join(':');
  if (kind === 'system') return { kind: 'system', who: '' };
  if (kind === 'api' || kind === 'wecom' || kind === 'advisor') return { kind, who };
  return { kind: 'other', who: actor };
}
