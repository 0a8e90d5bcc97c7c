import type { MemberMessage, TemplateCardEvent, TypedEvent } from '../../wecom/events.js';
import { WecomApiError } from '../../wecom/errors.js';
import type { HandlerContext, HandlerModule } from '../inbound/handler-registry.js';
import { BUTTON, parseCardId, resultText } from './task-card.js';
import { runTaskCommand } from './task-commands.js';
import type { TaskDeps } from './task-deps.js';
import { requestNotify } from './task-notify.js';
import { applyTaskAction, type TaskAction } from './task.service.js';
import { TaskModel, TASK_OUTCOMES, type TaskOutcome } from './task.model.js';

const depsOf = (ctx: HandlerContext): TaskDeps | undefined => ctx.scope?.tasks(ctx.logger);

/** The clicked button as a task action (advisor cards). */
export function actionOfKey(key: string): TaskAction | undefined {
  if (key.startsWith('done:')) {
    const outcome = key.slice(5);
    return (TASK_OUTCOMES as readonly string[]).includes(outcome)
      ? { type: 'complete', outcome: outcome as TaskOutcome }
      : undefined;
  }
  if (key === BUTTON.snooze) return { type: 'snooze', days: 1 };
  if (key === BUTTON.unreachable) return { type: 'unreachable' };
  return undefined;
}

async function replaceButtons(deps: TaskDeps, userid: string, responseCode: string, text: string): Promise<void> {
  if (!responseCode) return;
  try {
    await deps.api.updateTemplateCard({
      userids: [userid],
      response_code: responseCode,
      button: { replace_name: text },
    });
  } catch (err) {
    // 60140: the code was used or expired (docs/wecom.md §3.13); the task change stands.
    if (!(err instanceof WecomApiError && err.errcode === 60140)) throw err;
  }
}

/**
 * `template_card_event` (docs/wecom.md §2.6): a button on one of our task cards. Idempotent: the
 * action is a conditional update on an open task, so a double click (or a replayed callback)
 * changes the task once; each click's own response code then shows the result on the card.
 */
export async function onCardClick(deps: TaskDeps, event: TemplateCardEvent): Promise<string> {
  const ref = parseCardId(event.taskId);
  if (!ref) return 'not_ours';
  const task = await TaskModel.findOne({ _id: ref.taskId, corpId: deps.corpId }).lean();
  if (!task) return 'unknown_task';
  const clicker = event.fromUserName;
  const actor = `wecom:${clicker}`;
  if (ref.kind === 'leader') {
    if (event.eventKey !== BUTTON.reassign) return 'ignored';
    const to = event.selectedItems.find((s) => s.questionKey === 'advisor')?.optionIds[0];
    if (!to) return 'no_choice';
    const result = await applyTaskAction(deps, ref.taskId, { type: 'reassign', to }, actor);
    if (result.changed)
      await requestNotify(
        deps.queues,
        deps.corpId,
        to,
        `${ref.taskId}-r${result.task?.history.length ?? 0}`,
        0,
        deps.tuning.notifyDebounceMs,
      );
    await replaceButtons(
      deps,
      clicker,
      event.responseCode,
      result.task?.advisorUserid === to ? `已改派给 ${to}` : '任务已处理',
    );
    return result.changed ? 'reassigned' : 'unchanged';
  }
  if (task.advisorUserid !== clicker) {
    await replaceButtons(deps, clicker, event.responseCode, '任务已转给其他顾问');
    return 'not_owner';
  }
  const action = actionOfKey(event.eventKey);
  if (!action) return 'ignored';
  const result = await applyTaskAction(deps, ref.taskId, action, actor);
  if (result.task) await replaceButtons(deps, clicker, event.responseCode, resultText(result.task, deps.timeZone));
  return result.changed ? action.type : 'unchanged';
}

/** Member text messages to the app (docs/wecom.md §2.7): the task commands. */
export async function onMemberText(deps: TaskDeps, event: MemberMessage): Promise<void> {
  if (!event.content || event.fromUserName === 'sys') return;
  await runTaskCommand(deps, event.fromUserName, event.content);
}

/** The follow-up tasks' inbound handlers (docs/architecture.md §4 table). */
export const taskInboundModule: HandlerModule = (registry) => {
  registry
    .register('template_card_event', async (event: TypedEvent, ctx: HandlerContext) => {
      const deps = depsOf(ctx);
      if (deps && event.kind === 'template_card_event') {
        const outcome = await onCardClick(deps, event);
        ctx.logger.info(
          { corpId: deps.corpId, cardTaskId: event.taskId, key: event.eventKey, outcome },
          'task card click',
        );
      }
    })
    .register('message.text', async (event: TypedEvent, ctx: HandlerContext) => {
      const deps = depsOf(ctx);
      if (deps && event.kind === 'message') await onMemberText(deps, event);
    });
};
