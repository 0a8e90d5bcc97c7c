import type { Types } from 'mongoose';
import { DomainEventRecordModel } from '../events/domain-event-record.model.js';
import { MessageRecipientModel } from '../messages/message.model.js';
import { RuleModel } from '../rules/rule.model.js';
import { ScheduleModel } from '../schedules/schedule.model.js';
import { TaskModel } from '../tasks/task.model.js';

export const TIMELINE_DEFAULT = 50;
export const TIMELINE_MAX = 200;

/** One line of a customer's timeline: ids, codes and rule names, never personal values. */
export interface TimelineItem {
  at: Date;
  kind: 'event' | 'task' | 'schedule' | 'message';
  /** Event type (`customer.added` ...), task or recipient status, `planned` for a schedule. */
  type: string;
  id: string;
  userid?: string;
  title?: string;
  status?: string;
  dueAt?: Date;
  ruleId?: string;
  ruleName?: string;
  data?: Record<string, unknown>;
}

/**
 * A customer's story, newest first (docs/console.md): the domain events recorded for them, their tasks,
 * placed when they were done (else when due), the follow-ups still planned (schedules not fired
 * yet, at their due time, so the next one is on top) and the campaign messages. Business times
 * only (the clock the services write), never `createdAt`. Each source is read with the same
 * bound, then merged.
 */
export async function loadCustomerTimeline(
  corpId: string,
  customerId: Types.ObjectId,
  limit = TIMELINE_DEFAULT,
): Promise<TimelineItem[]> {
  const [events, tasks, schedules, messages] = await Promise.all([
    DomainEventRecordModel.find(
      { corpId, customerId: String(customerId) },
      { type: 1, occurredAt: 1, userid: 1, taskId: 1, data: 1 },
    )
      .sort({ occurredAt: -1 })
      .limit(limit)
      .lean(),
    TaskModel.find({ corpId, customerId }, { history: 0, talkTrack: 0 }).sort({ _id: -1 }).limit(limit).lean(),
    ScheduleModel.find(
      { corpId, customerId, kind: 'follow_up', status: { $in: ['planned', 'enqueued'] } },
      { dueAt: 1, status: 1, ruleId: 1, advisorUserid: 1, payload: 1 },
    )
      .sort({ dueAt: 1 })
      .limit(limit)
      .lean(),
    MessageRecipientModel.find(
      { corpId, customerId },
      { status: 1, sender: 1, ruleId: 1, sentAt: 1, createdAt: 1, reason: 1 },
    )
      .sort({ _id: -1 })
      .limit(limit)
      .lean(),
  ]);
  const ruleIds = [
    ...new Set([...tasks, ...schedules, ...messages].flatMap((x) => (x.ruleId ? [String(x.ruleId)] : []))),
  ];
  const rules = ruleIds.length ? await RuleModel.find({ _id: { $in: ruleIds } }, { name: 1 }).lean() : [];
  const ruleName = new Map(rules.map((r) => [String(r._id), r.name]));
  const rule = (id: Types.ObjectId | null | undefined) =>
    id ? { ruleId: String(id), ruleName: ruleName.get(String(id)) } : {};
  const items: TimelineItem[] = [
    ...events.map((e): TimelineItem => ({
      at: e.occurredAt,
      kind: 'event',
      type: e.type,
      id: String(e._id),
      userid: e.userid ?? undefined,
      data: (e.data ?? {}) as Record<string, unknown>,
    })),
    ...tasks.map((t): TimelineItem => ({
      at: t.completedAt ?? t.dueAt,
      kind: 'task',
      type: t.status,
      id: String(t._id),
      userid: t.advisorUserid,
      title: t.title,
      status: t.status,
      dueAt: t.dueAt,
      ...rule(t.ruleId),
    })),
    ...schedules.map((s): TimelineItem => ({
      at: s.dueAt,
      kind: 'schedule',
      type: 'planned',
      id: String(s._id),
      userid: s.advisorUserid ?? undefined,
      title: (s.payload as { title?: string } | undefined)?.title,
      status: s.status,
      dueAt: s.dueAt,
      ...rule(s.ruleId),
    })),
    ...messages.map((m): TimelineItem => ({
      at: m.sentAt ?? m.createdAt,
      kind: 'message',
      type: m.status,
      id: String(m._id),
      userid: m.sender,
      status: m.status,
      ...rule(m.ruleId),
      ...(m.reason ? { data: { reason: m.reason } } : {}),
    })),
  ];
  return items.sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, limit);
}
