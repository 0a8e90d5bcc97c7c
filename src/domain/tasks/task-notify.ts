import { Types } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import { advisorKey, taskNotifyJob } from '../../queues/jobs/tasks.jobs.js';
import type { Queues } from '../../queues/queue-factory.js';
import { DEFAULT_TUNING } from '../tuning.js';
import { WecomApiError } from '../../wecom/errors.js';
import type { TemplateCard } from '../../wecom/endpoints/messages.js';
import { advisorCard, advisorCardId, loadTaskView, loadTaskViews, taskPageUrl, type TaskView } from './task-card.js';
import type { TaskDeps } from './task-deps.js';
import { TaskModel, type TaskLean } from './task.model.js';
import { inWorkingHours } from './working-hours.js';

/**
 * Asks for the advisor's pending cards to go out shortly. The delay gathers the tasks that fall
 * due together (a sweep fires many at once) so the notifier sees them in one look and sends a
 * digest instead of a flood. The minute tick delivers anything a lost job would have.
 * `debounceMs` comes from the caller's settings (`TaskDeps.tuning`).
 *
 * One waiting delivery job per advisor (docs/tasks.md), so tasks arriving together, or while the
 * queue is backlogged, cost one delivery job, not one each: a request while the advisor's job
 * waits is that job (BullMQ de-duplication by advisor), which runs after the request and reads the
 * task it saved before asking; a request while the job runs is kept and becomes the next job when
 * it ends (`keepLastIfActive`), which waits the debounce window again. The job id is the advisor's
 * and the debounce slot's (real time over `debounceMs`): requests of one slot are one job even
 * where the de-duplication key is gone (a job failed and waits for its retry).
 */
export async function requestNotify(
  queues: Queues,
  corpId: string,
  advisorUserid: string,
  reasonId: string,
  round = 0,
  debounceMs = DEFAULT_TUNING.notifyDebounceMs,
): Promise<void> {
  const slotMs = Math.max(1, Math.round(debounceMs));
  const slot = Math.floor(Date.now() / slotMs);
  await taskNotifyJob.enqueue(
    queues,
    { corpId, advisorUserid, reasonId, round, slot, slotMs },
    {
      delay: Math.max(debounceMs, 1),
      // While the advisor's job waits, a request is that job; while it runs, the request is kept
      // and becomes the next job once it ends (BullMQ's `keepLastIfActive`): at most one waiting.
      deduplication: { id: `tn-${advisorKey(corpId, advisorUserid)}`, keepLastIfActive: true },
    },
  );
}

const minuteKey = (deps: Pick<TaskDeps, 'keyPrefix' | 'corpId' | 'clock'>, userid: string) =>
  `${deps.keyPrefix}:task-msgs:${deps.corpId}:${userid}:${Math.floor(deps.clock.nowMs() / 60_000)}`;
const hourKey = (deps: Pick<TaskDeps, 'keyPrefix' | 'corpId' | 'clock'>, userid: string) =>
  `${deps.keyPrefix}:task-msgs-h:${deps.corpId}:${userid}:${Math.floor(deps.clock.nowMs() / 3_600_000)}`;

/**
 * App messages the bot allows itself per advisor per clock hour: WeCom drops beyond 1,000 an hour
 * per member silently (docs/wecom.md §5); the margin is for messages the bot does not count
 * (operator alerts) and for a clock a little off WeCom's. The per-minute budget alone (20) would
 * allow 1,200 an hour.
 */
export const PER_HOUR_BUDGET = 900;

/**
 * Messages still allowed to `userid` now: the smaller of this minute's and this hour's budget
 * (WeCom silently drops beyond 30 a minute and 1,000 an hour per member; docs/wecom.md §5).
 */
export async function budgetLeft(
  deps: Pick<TaskDeps, 'redis' | 'keyPrefix' | 'corpId' | 'clock' | 'settings'>,
  userid: string,
): Promise<number> {
  // Two keys of different slots on a Redis Cluster: two GETs, not one MGET.
  const [minute, hour] = await Promise.all([
    deps.redis.get(minuteKey(deps, userid)),
    deps.redis.get(hourKey(deps, userid)),
  ]);
  return Math.max(
    0,
    Math.min(deps.settings.perMinuteBudget - Number(minute ?? 0), PER_HOUR_BUDGET - Number(hour ?? 0)),
  );
}

/** Counts app messages sent to a member in the current minute and hour. */
export async function countSent(
  deps: Pick<TaskDeps, 'redis' | 'keyPrefix' | 'corpId' | 'clock'>,
  userid: string,
  n = 1,
): Promise<void> {
  const minute = minuteKey(deps, userid);
  const hour = hourKey(deps, userid);
  // One key per transaction: the two keys may live on different cluster nodes (docs/scale.md §1).
  await Promise.all([
    deps.redis.multi().incrby(minute, n).expire(minute, 120).exec(),
    deps.redis.multi().incrby(hour, n).expire(hour, 7_200).exec(),
  ]);
}

/**
 * WeCom refused a message because nobody it names can receive it (81013: all recipients invalid,
 * e.g. a member who left; 60111/46004: no such userid). Retrying cannot help.
 */
export function isUndeliverable(err: unknown): boolean {
  return err instanceof WecomApiError && [81013, 60111, 46004].includes(err.errcode);
}

/** Sends a template card once per deterministic task_id: a 42014 on a retried id means the first send went out. */
export async function sendCardOnce(
  deps: Pick<TaskDeps, 'api'>,
  touser: string,
  card: TemplateCard,
): Promise<{ responseCode?: string; duplicate: boolean }> {
  try {
    const res = await deps.api.sendMessage({ touser, msgtype: 'template_card', template_card: card });
    return { responseCode: res.response_code, duplicate: false };
  } catch (err) {
    if (err instanceof WecomApiError && err.errcode === 42014) return { duplicate: true };
    throw err;
  }
}

/** Bytes of a digest's heading and list before it says "and n more" (a markdown message holds 2,048, docs/wecom.md §3.12). */
export const DIGEST_LIST_BYTES = 1700;

/** A markdown digest to one member: heading lines, one line per item as many as fit, closing lines. */
export interface MarkdownDigest<T> {
  head: string[];
  items: readonly T[];
  /** The item's line, numbered from 1; asked only for the items the digest shows. */
  line: (item: T, n: number) => string | Promise<string>;
  foot: string[];
}

/**
 * Sends a digest (lead cards that waited, tasks due together) as one markdown message and counts
 * it in the member's budget: the list stops before the message would pass `DIGEST_LIST_BYTES` and
 * says how many more there are; WeCom's duplicate check keeps a retried send from arriving twice.
 */
export async function sendMarkdownDigest<T>(
  deps: Pick<TaskDeps, 'api' | 'redis' | 'keyPrefix' | 'corpId' | 'clock'>,
  touser: string,
  digest: MarkdownDigest<T>,
): Promise<void> {
  const lines = [...digest.head];
  let shown = 0;
  for (const item of digest.items) {
    const line = await digest.line(item, shown + 1);
    if (Buffer.byteLength([...lines, line].join('\n')) > DIGEST_LIST_BYTES) break;
    lines.push(line);
    shown++;
  }
  if (shown < digest.items.length) lines.push(`…… 另有 ${digest.items.length - shown} 条`);
  lines.push(...digest.foot);
  await deps.api.sendMessage({
    touser,
    msgtype: 'markdown',
    markdown: { content: lines.join('\n') },
    enable_duplicate_check: 1,
    duplicate_check_interval: 600,
  });
  await countSent(deps, touser);
}

/**
 * Sends the advisor the task's card (a new one each time: response codes are single use). `view`:
 * already loaded with the other tasks of a delivery (`loadTaskViews`).
 */
export async function sendAdvisorCard(deps: TaskDeps, task: TaskLean, note?: string, view?: TaskView): Promise<void> {
  const seq = (task.cardSeq ?? 0) + 1;
  const wecomTaskId = advisorCardId(String(task._id), seq);
  view ??= await loadTaskView(deps, task);
  const sent = await sendCardOnce(
    deps,
    task.advisorUserid,
    advisorCard(task, view, wecomTaskId, deps.publicBaseUrl, note),
  );
  await countSent(deps, task.advisorUserid);
  const now = deps.clock.now();
  await TaskModel.updateOne(
    { _id: task._id, cardSeq: task.cardSeq ?? 0 },
    {
      $set: { cardSeq: seq, card: { wecomTaskId, responseCode: sent.responseCode, sentAt: now }, notifyPending: false },
      $push: {
        history: { at: now, actor: 'system', action: 'card_sent', detail: { wecomTaskId, note: note ?? null } },
      },
    },
  );
}

async function withAdvisorLock<T>(deps: TaskDeps, userid: string, fn: () => Promise<T>): Promise<T | 'busy'> {
  const key = `${deps.keyPrefix}:lock:task-notify:${deps.corpId}:${userid}`;
  const token = new Types.ObjectId().toHexString();
  const deadline = Date.now() + 10_000;
  while ((await deps.redis.set(key, token, 'PX', 60_000, 'NX')) !== 'OK') {
    if (Date.now() > deadline) return 'busy';
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    return await fn();
  } finally {
    await deps.redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
      1,
      key,
      token,
    );
  }
}

export interface DeliveryOutcome {
  cards: number;
  digest: number;
  deferred: number;
}

/**
 * Delivers an advisor's owed notifications (docs/tasks.md): nothing outside working hours; one card
 * per task while few are due; when more than `digestThreshold` are due at once, or the minute's
 * budget would not cover them, one markdown digest with the list and a link. Serialised per
 * advisor with a Redis lock, so concurrent fired schedules cannot race into a flood.
 */
export async function deliverPending(
  deps: TaskDeps,
  advisorUserid: string,
  opts: { quietMs?: number } = {},
): Promise<DeliveryOutcome | 'busy' | 'not_settled'> {
  return withAdvisorLock(deps, advisorUserid, async () => {
    const now = deps.clock.now();
    // Without the history, which only grows and a delivery never reads.
    const pending = (await TaskModel.find(
      {
        corpId: deps.corpId,
        advisorUserid,
        status: 'open',
        notifyPending: true,
        remindAt: { $lte: now },
      },
      { history: 0 },
    )
      .sort({ dueAt: 1 })
      .limit(500)
      .lean()) as unknown as TaskLean[];
    const outcome: DeliveryOutcome = { cards: 0, digest: 0, deferred: 0 };
    if (pending.length === 0) return outcome;
    // Tasks still arriving (a sweep fires many at once): wait for a quiet moment, real time.
    const newest = Math.max(...pending.map((t) => t.updatedAt.getTime()));
    if (opts.quietMs && Date.now() - newest < opts.quietMs) return 'not_settled' as const;
    if (!inWorkingHours(now, deps.settings.workingHours, deps.timeZone))
      return { ...outcome, deferred: pending.length };
    const budget = await budgetLeft(deps, advisorUserid);
    if (budget === 0) return { ...outcome, deferred: pending.length };
    try {
      if (pending.length > deps.settings.digestThreshold || pending.length > budget) {
        await sendDigest(deps, advisorUserid, pending);
        return { ...outcome, digest: pending.length };
      }
      const views = await loadTaskViews(deps, pending);
      for (const task of pending) {
        await sendAdvisorCard(deps, task, task.cardSeq > 0 ? '跟进提醒' : undefined, views.get(String(task._id)));
        outcome.cards++;
      }
    } catch (err) {
      if (!isUndeliverable(err)) throw err;
      await markUndeliverable(deps, pending);
      return { ...outcome, deferred: pending.length - outcome.cards };
    }
    return outcome;
  });
}

/**
 * The advisor cannot receive messages (left the corp): stop owing them these notifications
 * instead of calling WeCom every minute. A transfer re-homes the tasks and owes the taker anew.
 */
async function markUndeliverable(deps: TaskDeps, tasks: TaskLean[]): Promise<void> {
  const now = deps.clock.now();
  await TaskModel.updateMany(
    { _id: { $in: tasks.map((t) => t._id) }, notifyPending: true },
    {
      $set: { notifyPending: false },
      $push: {
        history: {
          at: now,
          actor: 'system',
          action: 'card_undeliverable',
          detail: { advisor: tasks[0]?.advisorUserid ?? null },
        },
      },
    },
  );
}

/** Digest lines whose views are loaded together: more than a digest's list can hold (≥ 20 bytes a line). */
const DIGEST_VIEWS = Math.ceil(DIGEST_LIST_BYTES / 20);

/** One markdown message listing the due tasks (docs/wecom.md §3.12) with a link to the task list. */
async function sendDigest(deps: TaskDeps, advisorUserid: string, tasks: TaskLean[]): Promise<void> {
  // The lines that can fit (DIGEST_LIST_BYTES) in a few reads for all of them, not four per line.
  const views = await loadTaskViews(deps, tasks.slice(0, DIGEST_VIEWS));
  await sendMarkdownDigest(deps, advisorUserid, {
    head: [`## 您有 <font color="warning">${tasks.length}</font> 条跟进任务待处理`],
    items: tasks,
    line: async (task, n) => {
      const view = views.get(String(task._id)) ?? (await loadTaskView(deps, task));
      return `${n}. ${task.title} · ${view.customer} · 截止 ${dayjs.utc(task.dueAt).tz(deps.timeZone).format('MM-DD HH:mm')}`;
    },
    foot: [
      `[打开任务列表](${taskPageUrl(deps.publicBaseUrl, '').replace(/\/$/, '')})`,
      '回复「任务」查看编号，回复「完成 编号」完成任务。',
    ],
  });
  const now = deps.clock.now();
  await TaskModel.updateMany(
    { _id: { $in: tasks.map((t) => t._id) }, notifyPending: true },
    {
      $set: { notifyPending: false },
      $push: { history: { at: now, actor: 'system', action: 'digest_sent', detail: { count: tasks.length } } },
    },
  );
}

/** Advisors with owed notifications due now in one corp (the minute tick's work list). */
export async function advisorsWithPending(corpId: string, now: Date): Promise<string[]> {
  const rows = await TaskModel.distinct('advisorUserid', {
    corpId,
    status: 'open',
    notifyPending: true,
    remindAt: { $lte: now },
  });
  return rows.map(String);
}
