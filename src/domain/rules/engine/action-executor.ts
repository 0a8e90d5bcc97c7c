import type { SendMessageRequest } from '../../../wecom/endpoints/messages.js';
import { planSchedule } from '../../schedules/schedule.service.js';
import { messagesThisMonth, queueCustomerMessage } from '../../messages/message.service.js';
import type { CustomerContext } from '../customer-context.js';
import type { Action } from '../rule.schema.js';
import type { ActiveRule } from './rule-finder.js';
import type { EngineDeps } from './engine-deps.js';
import { flushActions, recordAction, type ActionRecord } from './execution.service.js';
import { effectiveMonthlyCap, effectiveQuietHours, followUpDueAt, monthKey, nextAllowedTime } from './guards.js';
import { applyTagAction } from './tag.action.js';

export interface ActionRun {
  rule: ActiveRule;
  ctx: CustomerContext;
  occurrenceId: string;
  executionId: string;
  /** When the trigger happened (follow-up offsets count from it). */
  triggerAt: Date;
  /** True when a quiet-hours schedule fires: the move already happened. */
  fromSchedule?: boolean;
  /**
   * Outcomes held for one write when the run ends (`runRule`): every action is safe to repeat, so
   * a crash before that write only runs them again. Absent: each outcome is written at once.
   */
  deferred?: ActionRecord[];
}

/**
 * Runs one action of a rule for one customer and records the outcome on the execution record.
 * Each branch is safe to repeat: tags skip what is already there, schedules and message
 * recipients are upserts by business key, advisor notices use WeCom's duplicate check.
 */
export async function executeAction(deps: EngineDeps, run: ActionRun, index: number): Promise<string> {
  const action = run.rule.body.actions[index];
  if (!action) return 'missing';
  const now = deps.clock.now();
  const record = async (
    status: 'done' | 'scheduled' | 'skipped',
    extra: { reason?: string; refs?: Record<string, unknown> } = {},
  ) => {
    const outcome: ActionRecord = { index, status, at: now, ...extra };
    if (!run.deferred) await recordAction(deps.corpId, run.executionId, index, status, now, extra);
    else if (action.type !== 'notify_advisor') run.deferred.push(outcome);
    else {
      // A notice to the advisor is the one action WeCom de-duplicates only for a while: written at once.
      await flushActions(deps.corpId, run.executionId, [...run.deferred.splice(0), outcome]);
    }
    return status;
  };
  switch (action.type) {
    case 'welcome':
      return record('skipped', { reason: 'sent_by_welcome_lane' });
    case 'tag': {
      const r = await applyTagAction(deps, run.ctx, action);
      return record('done', { refs: r });
    }
    case 'follow_up': {
      const advisor = run.ctx.responsibleUserid ?? run.ctx.advisor?.userid;
      const planned = await planSchedule({
        corpId: deps.corpId,
        customerId: run.ctx.customerId,
        ruleId: run.rule.id,
        ruleVersion: run.rule.version,
        kind: 'follow_up',
        actionIndex: index,
        occurrenceId: run.occurrenceId,
        dueAt: followUpDueAt(action, run.triggerAt, deps.timeZone),
        advisorUserid: advisor,
        payload: followUpPayload(action),
      });
      return record('scheduled', { refs: { scheduleId: planned.id } });
    }
    case 'notify_advisor': {
      const advisor = run.ctx.responsibleUserid ?? run.ctx.advisor?.userid;
      if (!advisor) return record('skipped', { reason: 'no_advisor' });
      await deps.api.sendMessage(
        advisorNotice(action, advisor, `${deps.publicBaseUrl}/console/customers/${run.ctx.customerId}`),
      );
      return record('done');
    }
    case 'message_customer':
      return messageCustomer(deps, run, index, action, record);
  }
}

/** The advisor's notice of a `notify_advisor` action: text, or a card opening `url`. */
export function advisorNotice(
  action: Extract<Action, { type: 'notify_advisor' }>,
  touser: string,
  url: string,
): SendMessageRequest {
  return action.format === 'card'
    ? {
        touser,
        msgtype: 'template_card',
        enable_duplicate_check: 1,
        template_card: {
          card_type: 'text_notice',
          main_title: { title: action.title ?? '' },
          sub_title_text: action.text,
          card_action: { type: 1, url },
        },
      }
    : { touser, msgtype: 'text', enable_duplicate_check: 1, text: { content: action.text } };
}

/** What the follow-up task is created from: the action's settings (no personal data). */
function followUpPayload(action: Extract<Action, { type: 'follow_up' }>): Record<string, unknown> {
  return { title: action.title, talkTrack: action.talkTrack, sla: action.sla, escalation: action.escalation };
}

type Recorder = (
  status: 'done' | 'scheduled' | 'skipped',
  extra?: { reason?: string; refs?: Record<string, unknown> },
) => Promise<string>;

/**
 * Guards of docs/architecture.md §5 in order: opt-out, quiet hours (creating the advisor's task moves to the
 * next allowed time: a `rule_action` schedule for this action), the monthly cap (checked when
 * the task is created), then the message joins the advisor's batch.
 */
async function messageCustomer(
  deps: EngineDeps,
  run: ActionRun,
  index: number,
  action: Extract<Action, { type: 'message_customer' }>,
  record: Recorder,
): Promise<string> {
  const now = deps.clock.now();
  if (run.ctx.optOut) return record('skipped', { reason: 'opted_out' });
  const sender = run.ctx.responsibleUserid ?? run.ctx.advisor?.userid;
  if (!sender) return record('skipped', { reason: 'no_advisor' });
  const allowed = run.fromSchedule
    ? now
    : nextAllowedTime(now, effectiveQuietHours(run.rule.body.guards, deps.quietHours), deps.timeZone);
  if (allowed.getTime() > now.getTime()) {
    const planned = await planSchedule({
      corpId: deps.corpId,
      customerId: run.ctx.customerId,
      ruleId: run.rule.id,
      ruleVersion: run.rule.version,
      kind: 'rule_action',
      actionIndex: index,
      occurrenceId: run.occurrenceId,
      dueAt: allowed,
      advisorUserid: sender,
      payload: { reason: 'quiet_hours', triggerAt: run.triggerAt.toISOString() },
    });
    return record('scheduled', { reason: 'quiet_hours', refs: { scheduleId: planned.id } });
  }
  const month = monthKey(now, deps.timeZone);
  const cap = effectiveMonthlyCap(run.rule.body.guards, now, deps.timeZone);
  if ((await messagesThisMonth(deps.corpId, run.ctx.customerId, month)) >= cap)
    return record('skipped', { reason: 'monthly_cap' });
  const { batchId } = await queueCustomerMessage(deps, {
    customerId: run.ctx.customerId,
    externalUserId: run.ctx.externalUserId,
    sender,
    monthKey: month,
    ruleId: run.rule.id,
    ruleVersion: run.rule.version,
    occurrenceId: run.occurrenceId,
    executionId: run.executionId,
    actionIndex: index,
    content: { text: action.text, attachments: action.attachments },
  });
  return record('done', { refs: { batchId } });
}
