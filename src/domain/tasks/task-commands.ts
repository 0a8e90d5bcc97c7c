import { Types } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import { WecomApiError } from '../../wecom/errors.js';
import { BROADCAST_CONFIRM_HINT, loadTaskView, OUTCOME_LABEL } from './task-card.js';
import type { TaskDeps } from './task-deps.js';
import { countSent } from './task-notify.js';
import { applyTaskAction } from './task.service.js';
import { TaskModel, type TaskLean, type TaskOutcome } from './task.model.js';

/** A member's text to the app, as a command (docs/architecture.md §4: list my tasks, complete one). */
export type TaskCommand = { type: 'list' } | { type: 'complete'; n: number; outcome: TaskOutcome } | { type: 'help' };

const OUTCOME_WORDS: Array<[RegExp, TaskOutcome]> = [
  [/预约|appointment|booked/i, 'appointment_booked'],
  [/婉拒|拒绝|declined/i, 'customer_declined'],
];

export function parseCommand(text: string): TaskCommand {
  const t = text.trim().replace(/^\//, '');
  if (/^(任务|tasks?|list)$/i.test(t)) return { type: 'list' };
  const m = /^(完成|done)\s*(\d{1,3})\s*(.*)$/i.exec(t);
  if (m) {
    const rest = m[3] ?? '';
    return {
      type: 'complete',
      n: Number(m[2]),
      outcome: OUTCOME_WORDS.find(([re]) => re.test(rest))?.[1] ?? 'contacted',
    };
  }
  return { type: 'help' };
}

export const HELP_TEXT =
  '跟进任务助手：\n回复「任务」或 tasks 查看待办（带编号）；\n回复「完成 3」或 done 3 完成第 3 条（可加「预约」或「婉拒」说明结果）。';

const listKey = (deps: Pick<TaskDeps, 'keyPrefix' | 'corpId'>, userid: string) =>
  `${deps.keyPrefix}:task-list:${deps.corpId}:${userid}`;

async function openTasks(deps: TaskDeps, userid: string): Promise<TaskLean[]> {
  return (await TaskModel.find({ corpId: deps.corpId, advisorUserid: userid, status: 'open' })
    .sort({ dueAt: 1, _id: 1 })
    .limit(20)
    .lean()) as TaskLean[];
}

/**
 * Runs one text command and answers in the app chat. The numbers of the last list are kept
 * for a day in Redis so `完成 3` means the third line the advisor saw, even if tasks arrived since.
 */
export async function runTaskCommand(
  deps: TaskDeps,
  userid: string,
  text: string,
): Promise<{ command: TaskCommand['type']; reply: string }> {
  const command = parseCommand(text);
  let reply: string;
  if (command.type === 'list') {
    const tasks = await openTasks(deps, userid);
    await deps.redis.set(listKey(deps, userid), JSON.stringify(tasks.map((t) => String(t._id))), 'EX', 86_400);
    if (tasks.length === 0) reply = '您当前没有待办的跟进任务。';
    else {
      const lines = [];
      for (const [i, task] of tasks.entries()) {
        const view = await loadTaskView(deps, task);
        const overdue = task.dueAt.getTime() < deps.clock.nowMs() ? '（已逾期）' : '';
        lines.push(
          `${i + 1}. ${task.title} · ${view.customer} · 截止 ${dayjs.utc(task.dueAt).tz(deps.timeZone).format('MM-DD HH:mm')}${overdue}`,
        );
      }
      reply = `您有 ${tasks.length} 条待办任务：\n${lines.join('\n')}\n回复「完成 编号」完成任务。`;
    }
  } else if (command.type === 'complete') {
    const stored = await deps.redis.get(listKey(deps, userid));
    const ids = stored ? (JSON.parse(stored) as string[]) : (await openTasks(deps, userid)).map((t) => String(t._id));
    const id = ids[command.n - 1];
    const task =
      id && Types.ObjectId.isValid(id)
        ? await TaskModel.findOne({ _id: id, corpId: deps.corpId, advisorUserid: userid }).lean()
        : null;
    if (!id || !task) reply = `没有编号为 ${command.n} 的任务。回复「任务」查看当前列表。`;
    // A broadcast confirmation closes by itself once the send is confirmed (docs/engagement.md).
    else if (task.kind === 'broadcast_confirm' && task.status === 'open')
      reply = `任务「${task.title}」无需手动完成：${BROADCAST_CONFIRM_HINT}`;
    else {
      const result = await applyTaskAction(deps, id, { type: 'complete', outcome: command.outcome }, `wecom:${userid}`);
      reply = result.changed
        ? `已完成：${task.title}（${OUTCOME_LABEL[command.outcome]}）`
        : `任务「${task.title}」已处理过，无需重复操作。`;
      if (result.changed && result.task)
        await greyOutLastCard(deps, result.task, `已完成 · ${OUTCOME_LABEL[command.outcome]}`);
    }
  } else reply = HELP_TEXT;
  await deps.api.sendMessage({ touser: userid, msgtype: 'text', text: { content: reply } });
  await countSent(deps, userid);
  return { command: command.type, reply };
}

/**
 * After a change made elsewhere (text command, API), the last card's buttons are replaced with
 * the result using the response code from its send (single use, 72 h: docs/wecom.md §3.13); an
 * expired code (60140) just leaves the card as it was.
 */
export async function greyOutLastCard(
  deps: Pick<TaskDeps, 'api' | 'logger' | 'corpId'>,
  task: Pick<TaskLean, '_id' | 'advisorUserid' | 'card'>,
  text: string,
): Promise<void> {
  const code = task.card?.responseCode;
  if (!code) return;
  await TaskModel.updateOne({ _id: task._id, 'card.responseCode': code }, { $unset: { 'card.responseCode': 1 } });
  try {
    await deps.api.updateTemplateCard({
      userids: [task.advisorUserid],
      response_code: code,
      button: { replace_name: text },
    });
  } catch (err) {
    if (!(err instanceof WecomApiError && err.errcode === 60140)) throw err;
    deps.logger.info(
      { corpId: deps.corpId, taskId: String(task._id) },
      'card response code expired; card left as it was',
    );
  }
}
