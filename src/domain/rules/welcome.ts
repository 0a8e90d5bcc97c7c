import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import { withTimeout } from '../../infra/timeout.js';
import type { CorpApi } from '../../wecom/corp-api.js';
import { WecomApiError } from '../../wecom/errors.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import type { Corp } from '../corps/corp.types.js';
import { recordNoticeSent, welcomeNotice, withNotice } from '../privacy/consent.service.js';
import { toWecomAttachments } from '../messages/media.service.js';
import { stateMatches } from './conditions.js';
import { findActiveRules, type ActiveRule } from './engine/rule-finder.js';
import type { Action } from './rule.schema.js';
import { findWelcomeDone, recordWelcomeOutcome } from './welcome-ledger.js';

export interface WelcomeEvent {
  userid: string;
  externalUserId: string;
  state?: string;
  welcomeCode: string;
}

export type WelcomeResult =
  | { sent: true; ruleId: string; ruleVersion: number }
  | { sent: false; reason: 'no_rule' | 'already_sent' | 'code_used' | 'chat_started' | 'deadline'; ruleId?: string };

/**
 * The welcome code's deadline for one send (docs/reliability.md, "Welcome deadline"): the call
 * must start by `sendByMs` (clock ms) for WeCom to still accept the code when it gets it, and
 * each MongoDB read is given at most `readBudgetMs` (never past `sendByMs`), so a stalled
 * database costs the job an attempt, not the window.
 */
export interface WelcomeDeadline {
  sendByMs: number;
  readBudgetMs: number;
}

/** 41050: code expired or used; 41051: the customer already chatted (docs/wecom.md §3.9): final. */
const FINAL_CODES = new Set([41050, 41051]);

/** Where the welcome lane reads a corp's welcome rules (the worker passes a WelcomeRuleCache). */
export type WelcomeRuleSource = (corpId: string, now: Date) => Promise<ActiveRule[]>;
const uncachedWelcomeRules: WelcomeRuleSource = (corpId, now) =>
  findActiveRules(corpId, 'customer.added', now, { welcomeOnly: true });

/** Bounds one MongoDB read of the welcome lane (identity when there is no deadline). */
type ReadBudget = <T>(read: Promise<T>) => Promise<T>;

/** Server-side bound of the welcome lane's reads; the client-side budget of WelcomeDeadline is the tighter one. */
const READ_MAX_TIME_MS = 5000;

/**
 * The welcome rule for an add: the highest-priority enabled welcome rule whose conditions hold
 * for what the add event and the advisor directory tell (channel state, advisor, department).
 */
export async function pickWelcomeRule(
  corpId: string,
  event: Pick<WelcomeEvent, 'userid' | 'state'>,
  now: Date,
  source: WelcomeRuleSource = uncachedWelcomeRules,
  read: ReadBudget = (p) => p,
): Promise<ActiveRule | undefined> {
  const rules = await read(source(corpId, now));
  if (rules.length === 0) return undefined;
  let departments: number[] | undefined;
  for (const rule of rules) {
    const { trigger, conditions } = rule.body;
    if (trigger.type === 'customer.added' && trigger.state && !stateMatches(trigger.state, event.state)) continue;
    if (conditions.channel && !stateMatches(conditions.channel, event.state)) continue;
    if (conditions.advisors && !conditions.advisors.includes(event.userid)) continue;
    if (conditions.departments) {
      departments ??=
        (
          await read(
            AdvisorModel.findOne({ corpId, userid: event.userid }, { departments: 1 })
              .maxTimeMS(READ_MAX_TIME_MS)
              .lean()
              .exec(),
          )
        )?.departments ?? [];
      if (!departments.some((d) => conditions.departments?.includes(d))) continue;
    }
    return rule;
  }
  return undefined;
}

/**
 * Completes the `wecom-welcome` job (docs/architecture.md §4–5): picks the welcome rule and calls
 * `send_welcome_msg` with its text and attachments (images uploaded on demand). One welcome per
 * add: the job id comes from the single-use welcome code and WeCom refuses a used code (41050,
 * final), so a retry after a crash cannot welcome twice; a relationship already welcomed (its
 * occurrence `add:<userid>` recorded done by any welcome rule) is not welcomed again. The
 * execution record is written once, after the call, so the window is spent on one read, not on
 * bookkeeping. Welcome rules ignore quiet hours and caps (the customer just added the advisor).
 * When the corp enables its privacy notice, the text carries the notice line and the customer
 * record keeps the version and time it was sent (docs/data-inventory.md).
 */
export async function sendWelcomeForAdd(input: {
  corp: Corp;
  api: CorpApi;
  event: WelcomeEvent;
  clock: Clock;
  logger: Logger;
  rules?: WelcomeRuleSource;
  deadline?: WelcomeDeadline;
}): Promise<WelcomeResult> {
  const { corp, clock, logger, deadline } = input;
  const now = clock.now();
  const read: ReadBudget = deadline
    ? (p) => {
        const left = deadline.sendByMs - clock.nowMs();
        if (left <= 0) throw new WelcomeDeadlinePassed();
        return withTimeout(p, Math.min(deadline.readBudgetMs, left), 'welcome lane: MongoDB read over its time budget');
      }
    : (p) => p;
  try {
    return await pickAndSend(input, now, read);
  } catch (err) {
    if (!(err instanceof WelcomeDeadlinePassed)) throw err;
    logger.warn({ corpId: corp.corpId }, 'welcome not sent: the code would expire before WeCom gets it');
    return { sent: false, reason: 'deadline' };
  }
}

/** The window ran out between two steps of one welcome (not an error: counted as a missed welcome). */
class WelcomeDeadlinePassed extends Error {
  constructor() {
    super('the welcome code would expire before WeCom gets it');
    this.name = 'WelcomeDeadlinePassed';
  }
}

async function pickAndSend(
  input: Parameters<typeof sendWelcomeForAdd>[0],
  now: Date,
  read: ReadBudget,
): Promise<WelcomeResult> {
  const { corp, api, event, clock, logger, deadline } = input;
  const rule = await pickWelcomeRule(corp.corpId, event, now, input.rules, read);
  if (!rule) return { sent: false, reason: 'no_rule' };
  const subject = `ext:${event.externalUserId}`;
  const occurrenceId = `add:${event.userid}`;
  const other = await read(findWelcomeDone(corp.corpId, subject, occurrenceId, READ_MAX_TIME_MS));
  if (other) return { sent: false, reason: 'already_sent', ruleId: String(other.ruleId) };
  const welcomeActions = rule.body.actions
    .map((a, index) => ({ a, index }))
    .filter((x): x is { a: Extract<Action, { type: 'welcome' }>; index: number } => x.a.type === 'welcome');
  const first = welcomeActions[0];
  if (!first) return { sent: false, reason: 'no_rule' };
  const record = (status: 'done' | 'skipped', detail: { reason?: string; refs?: Record<string, unknown> }) =>
    recordWelcomeOutcome({
      key: { ruleId: rule.id, subject, occurrenceId },
      corpId: corp.corpId,
      ruleVersion: rule.version,
      actionCount: welcomeActions.length,
      status,
      at: clock.now(),
      ...detail,
    });
  const notice = welcomeNotice(corp.privacy);
  const text = withNotice(first.a.text, notice);
  try {
    const attachments = await toWecomAttachments(api, first.a.attachments, now);
    // Checked right before the call: reads, uploads or a stall since the job started may have
    // spent the window, and a late send would reach WeCom with an expired code.
    if (deadline && clock.nowMs() > deadline.sendByMs) throw new WelcomeDeadlinePassed();
    await api.sendWelcomeMsg({
      welcome_code: event.welcomeCode,
      ...(text ? { text: { content: text } } : {}),
      ...(attachments.length ? { attachments } : {}),
    });
  } catch (err) {
    if (err instanceof WecomApiError && FINAL_CODES.has(err.errcode)) {
      const reason = err.errcode === 41050 ? 'code_used' : 'chat_started';
      await record('skipped', { reason: `errcode_${err.errcode}` });
      logger.info({ corpId: corp.corpId, ruleId: rule.id, errcode: err.errcode }, 'welcome not sent (final)');
      return { sent: false, reason, ruleId: rule.id };
    }
    throw err;
  }
  await Promise.all([
    record('done', { refs: { ruleActionIndex: first.index, ...(notice ? { noticeVersion: notice.version } : {}) } }),
    notice
      ? recordNoticeSent({
          corpId: corp.corpId,
          externalUserId: event.externalUserId,
          version: notice.version,
          at: clock.now(),
          channel: 'welcome',
        })
      : undefined,
  ]);
  return { sent: true, ruleId: rule.id, ruleVersion: rule.version };
}
