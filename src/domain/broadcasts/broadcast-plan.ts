import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { AdvisorModel } from '../customers/advisor.model.js';
import { CustomerModel } from '../customers/customer.model.js';
import { customerCtx, type PersonalData } from '../customers/personal-data.js';
import { GroupModel } from '../groups/group.model.js';
import { MessageRecipientModel } from '../messages/message.model.js';
import { conditionsHold } from '../rules/conditions.js';
import { loadCustomerContexts, type CustomerContext } from '../rules/customer-context.js';
import { monthKey, wecomMonthlyQuota } from '../rules/engine/guards.js';
import { customerFilterOf } from '../rules/preview.js';
import { attachmentSchema, conditionsSchema, type Conditions } from '../rules/rule.schema.js';
import { segmentConditionsNow } from '../segments/segment.service.js';
import { renderTalkTrack, talkTrackVariablesIn, type TalkTrackVariable } from '../tasks/task-card.js';

/**
 * A broadcast's audience: the rules' conditions, or live owner groups (docs/engagement.md). A
 * segment may name a saved segment (`segmentId`): its conditions are resolved when the broadcast
 * is planned (preview, send), and `conditions` keeps the snapshot taken at creation.
 */
export const audienceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('segment'),
    segmentId: z
      .string()
      .regex(/^[a-f0-9]{24}$/, { error: 'segmentId is a saved segment id (24 hex characters; GET /api/v1/segments)' })
      .optional(),
    conditions: conditionsSchema.default({}),
  }),
  z
    .object({
      kind: z.literal('groups'),
      purposeTag: z.string().min(1).max(40).optional(),
      chatIds: z.array(z.string().min(1)).max(2000).optional(),
    })
    .refine((a) => a.purposeTag !== undefined || (a.chatIds?.length ?? 0) > 0, {
      message: 'name a purposeTag or chatIds',
    }),
]);
export type Audience = z.output<typeof audienceSchema>;

export const contentSchema = z
  .object({
    text: z.string().min(1).max(1300).optional(),
    attachments: z.array(attachmentSchema).max(9).default([]),
  })
  .refine((c) => c.text !== undefined || c.attachments.length > 0, {
    message: 'give a text or at least one attachment',
  });
export type BroadcastContent = z.output<typeof contentSchema>;

export const EXCLUDE_REASONS = ['opted_out', 'erased', 'monthly_cap', 'holdout', 'no_advisor', 'no_name'] as const;
export type ExcludeReason = (typeof EXCLUDE_REASONS)[number];
export const EXCLUDE_WORDS: Record<ExcludeReason, string> = {
  opted_out: '客户已退订营销消息',
  erased: '客户个人信息已删除',
  monthly_cap: '客户本月接收消息已达上限（与规则消息合计）',
  holdout: '对照组（不发送，用于衡量效果）',
  no_advisor: '客户没有负责顾问',
  no_name: '文案使用了客户称呼变量 {客户}，但客户没有企业微信昵称',
};

export interface PlannedCustomer {
  customerId: string;
  externalUserId: string;
  /** The text rendered for this customer, when the broadcast's text uses talk-track variables. */
  text?: string;
}

export interface AdvisorPlan {
  userid: string;
  customers: PlannedCustomer[];
  chatIds: string[];
  excluded: Record<ExcludeReason, number>;
  holdout: PlannedCustomer[];
}

export interface BroadcastPlan {
  advisors: AdvisorPlan[];
  excluded: Record<ExcludeReason, number>;
  customers: number;
  groups: number;
  /** A segment audience: the conditions this plan used (the saved segment's as it was then). */
  conditions?: Conditions;
}

const zero = (): Record<ExcludeReason, number> => ({
  opted_out: 0,
  erased: 0,
  monthly_cap: 0,
  holdout: 0,
  no_advisor: 0,
  no_name: 0,
});

/**
 * Whether a customer is in the broadcast's holdout: a keyed hash (HMAC-SHA256, keyed by the
 * broadcast id) of the customer id, as a fraction below `percent`. Deterministic: the same
 * customer stays in or out however often the plan is made.
 */
export function inHoldout(broadcastId: string, customerId: string, percent: number): boolean {
  if (percent <= 0) return false;
  const x = createHmac('sha256', broadcastId).update(customerId).digest().readUInt32BE(0) / 0x1_0000_0000;
  return x < percent / 100;
}

/** WeCom's per-call limits (docs/wecom.md §3.10, §11.7). */
export const MAX_CUSTOMERS_PER_CALL = 10_000;
export const MAX_GROUPS_PER_CALL = 2_000;

/**
 * The most distinct texts one advisor may be given by a broadcast with variables (docs/engagement.md,
 * "Customer variables"): each is its own 群发助手 task the advisor opens and confirms by hand.
 */
export const MAX_MESSAGES_PER_ADVISOR = 5;

/** An advisor's customers by the text rendered for them (one entry, key `undefined`, without variables). */
export function messagesOf(a: Pick<AdvisorPlan, 'customers'>): Map<string | undefined, PlannedCustomer[]> {
  const out = new Map<string | undefined, PlannedCustomer[]>();
  for (const c of a.customers) {
    const list = out.get(c.text);
    if (list) list.push(c);
    else out.set(c.text, [c]);
  }
  return out;
}

/**
 * The `add_msg_template` calls a plan needs: per advisor, one per distinct rendered text, and one
 * per 10,000 customers of a text or 2,000 groups.
 */
export function callsFor(plan: BroadcastPlan): number {
  return plan.advisors.reduce((n, a) => {
    let calls = Math.ceil(a.chatIds.length / MAX_GROUPS_PER_CALL);
    for (const list of messagesOf(a).values()) calls += Math.ceil(list.length / MAX_CUSTOMERS_PER_CALL);
    return n + calls;
  }, 0);
}

/** How a variable is written in a broadcast text, for messages to the marketer. */
export const VARIABLE_SPELLING: Record<TalkTrackVariable, string> = {
  customer: '{客户}',
  model: '{车型}',
  advisor: '{顾问}',
};

/**
 * Why a plan cannot be sent as written: an advisor would be given more than
 * `MAX_MESSAGES_PER_ADVISOR` distinct texts. Names the advisor and the variables that vary.
 */
export function messageCapProblem(plan: BroadcastPlan, text: string | undefined): string | undefined {
  const worst = plan.advisors
    .map((a) => ({ userid: a.userid, messages: messagesOf(a).size }))
    .sort((x, y) => y.messages - x.messages)[0];
  if (!worst || worst.messages <= MAX_MESSAGES_PER_ADVISOR) return undefined;
  const vars = talkTrackVariablesIn(text ?? '').map((v) => VARIABLE_SPELLING[v]);
  const over = plan.advisors.filter((a) => messagesOf(a).size > MAX_MESSAGES_PER_ADVISOR).length;
  return (
    `with the variable ${vars.join(' and ')} advisor ${worst.userid} would get ${worst.messages} different messages ` +
    `to confirm one by one in 群发助手 (${over} advisor(s) over the limit of ${MAX_MESSAGES_PER_ADVISOR}); ` +
    `remove ${vars.includes('{客户}') ? '{客户} (a different text for every customer) ' : 'the variable '}` +
    `or narrow the audience (for example one vehicle model per broadcast)`
  );
}

/** The customer's latest delivered vehicle with a model, as task cards name it (docs/tasks.md). */
function modelOf(vehicles: CustomerContext['vehicles']): string | undefined {
  return [...vehicles]
    .filter((v) => v.model)
    .sort((x, y) => (y.deliveryDate?.getTime() ?? 0) - (x.deliveryDate?.getTime() ?? 0))[0]?.model;
}

/**
 * Who gets the broadcast now, per advisor, and who is excluded and why (docs/engagement.md).
 * All guards at plan time: erased customers, opt-outs, the monthly cap counted with the rules'
 * messages (queued, pending or sent this corp-local month; never beyond WeCom's quota), the
 * holdout. A customer goes to the responsible advisor. Group audiences go to each group's owner.
 * Reads only; the preview and the send use the same plan. A text with talk-track variables is
 * rendered per customer with the talk tracks' renderer (`PlannedCustomer.text`); `{客户}` needs
 * `pd` to open the customer's WeCom name, and a customer without one is excluded (`no_name`).
 */
export async function planBroadcast(
  b: { id: string; corpId: string; audience: Audience; holdoutPercent: number; monthlyCap: number; text?: string },
  opts: { now: Date; timeZone: string; batchSize?: number; pd?: PersonalData },
): Promise<BroadcastPlan> {
  const vars = b.audience.kind === 'segment' && b.text ? talkTrackVariablesIn(b.text) : [];
  const advisorNames = new Map<string, string>();
  if (vars.includes('advisor'))
    for (const a of await AdvisorModel.find({ corpId: b.corpId }, { userid: 1, name: 1 }).lean())
      advisorNames.set(a.userid, a.name || a.userid);
  const byAdvisor = new Map<string, AdvisorPlan>();
  const advisor = (userid: string) => {
    let a = byAdvisor.get(userid);
    if (!a) byAdvisor.set(userid, (a = { userid, customers: [], chatIds: [], excluded: zero(), holdout: [] }));
    return a;
  };
  const excluded = zero();
  let used: Conditions | undefined;
  if (b.audience.kind === 'groups') {
    const filter = {
      corpId: b.corpId,
      status: 'active' as const,
      ...(b.audience.purposeTag ? { purposeTags: b.audience.purposeTag } : {}),
      ...(b.audience.chatIds?.length ? { chatId: { $in: b.audience.chatIds } } : {}),
    };
    for (const g of await GroupModel.find(filter, { chatId: 1, ownerUserid: 1 }).sort({ chatId: 1 }).lean()) {
      if (g.ownerUserid) advisor(g.ownerUserid).chatIds.push(g.chatId);
    }
  } else {
    const conditions = (used = await segmentConditionsNow(b.corpId, b.audience));
    const base = { ...customerFilterOf(conditions), corpId: b.corpId };
    excluded.erased = await CustomerModel.countDocuments({ ...base, erasedAt: { $exists: true } });
    const month = monthKey(opts.now, opts.timeZone);
    const cap = Math.min(b.monthlyCap, wecomMonthlyQuota(opts.now, opts.timeZone));
    const counts = new Map<string, number>();
    for (const r of await MessageRecipientModel.find(
      { corpId: b.corpId, monthKey: month, status: { $in: ['queued', 'pending', 'sent'] }, broadcastId: { $ne: b.id } },
      { customerId: 1 },
    ).lean()) {
      const k = String(r.customerId);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const batch = opts.batchSize ?? 5000;
    let lastId: unknown;
    for (;;) {
      const ctxs = await loadCustomerContexts(
        b.corpId,
        { ...base, erasedAt: { $exists: false }, ...(lastId ? { _id: { $gt: lastId } } : {}) },
        batch,
      );
      if (ctxs.length === 0) break;
      lastId = ctxs[ctxs.length - 1]?.customerId;
      const names = new Map<string, string>();
      if (vars.includes('customer'))
        for (const c of await CustomerModel.find(
          { corpId: b.corpId, _id: { $in: ctxs.map((c) => c.customerId) } },
          { externalUserId: 1, nameEnc: 1 },
        ).lean()) {
          const name = opts.pd?.openFor(
            customerCtx({ corpId: b.corpId, externalUserId: c.externalUserId }, 'nameEnc'),
            c.nameEnc,
          );
          if (name) names.set(String(c._id), name);
        }
      for (const ctx of ctxs) {
        if (!conditionsHold(conditions, ctx, opts.now)) continue;
        const sender = ctx.responsibleUserid ?? ctx.relationships.find((r) => r.status === 'active')?.userid;
        const reason: ExcludeReason | undefined = ctx.optOut
          ? 'opted_out'
          : !sender
            ? 'no_advisor'
            : (counts.get(ctx.customerId) ?? 0) >= cap
              ? 'monthly_cap'
              : vars.includes('customer') && !names.has(ctx.customerId)
                ? 'no_name'
                : undefined;
        const target: PlannedCustomer = { customerId: ctx.customerId, externalUserId: ctx.externalUserId };
        if (vars.length && sender)
          target.text = renderTalkTrack(b.text, {
            customer: names.get(ctx.customerId) ?? '',
            model: modelOf(ctx.vehicles),
            advisorName: advisorNames.get(sender) ?? sender,
          });
        if (reason) {
          excluded[reason]++;
          if (sender) advisor(sender).excluded[reason]++;
          continue;
        }
        const a = advisor(sender as string);
        if (inHoldout(b.id, ctx.customerId, b.holdoutPercent)) {
          excluded.holdout++;
          a.excluded.holdout++;
          a.holdout.push(target);
          continue;
        }
        a.customers.push(target);
      }
      if (ctxs.length < batch) break;
    }
  }
  const advisors = [...byAdvisor.values()].sort((x, y) => x.userid.localeCompare(y.userid));
  return {
    advisors,
    excluded,
    customers: advisors.reduce((n, a) => n + a.customers.length, 0),
    groups: advisors.reduce((n, a) => n + a.chatIds.length, 0),
    ...(used ? { conditions: used } : {}),
  };
}
