import { Types } from 'mongoose';
import { BroadcastModel, type BroadcastStatus } from './broadcast.model.js';

export { BROADCAST_STATUSES } from './broadcast.model.js';
import {
  callsFor,
  EXCLUDE_REASONS,
  EXCLUDE_WORDS,
  MAX_MESSAGES_PER_ADVISOR,
  messagesOf,
  planBroadcast,
  type Audience,
  type BroadcastPlan,
  type ExcludeReason,
} from './broadcast-plan.js';
import type { PersonalData } from '../customers/personal-data.js';

/** A stored broadcast as the API answers it (no personal data: counts and advisor userids only). */
export type StoredBroadcast = NonNullable<Awaited<ReturnType<typeof findBroadcast>>>;

/** One broadcast by id, in whatever corp (the caller checks the principal may see that corp). */
export async function findBroadcast(id: string) {
  if (!Types.ObjectId.isValid(id) || !/^[a-f0-9]{24}$/i.test(id)) return null;
  return BroadcastModel.findById(new Types.ObjectId(id)).lean();
}

/** The newest broadcasts of some corps, optionally of one status or one car-maker parent. */
export async function listBroadcasts(
  corpFilter: Record<string, unknown>,
  opts: { status?: BroadcastStatus; parentId?: string; limit: number },
) {
  return BroadcastModel.find({
    ...corpFilter,
    ...(opts.status ? { status: opts.status } : {}),
    ...(opts.parentId ? { parentId: new Types.ObjectId(opts.parentId) } : {}),
  })
    .sort({ createdAt: -1 })
    .limit(opts.limit)
    .lean();
}

export interface BroadcastPreview {
  customers: number;
  groups: number;
  /** `add_msg_template` calls the send will make (one per advisor per content, the minimum). */
  calls: number;
  /**
   * Per advisor: customers, groups, excluded, and `messages`, the 群发助手 tasks they will confirm
   * (one per distinct rendered text; 1 without variables).
   */
  advisors: Array<{ userid: string; customers: number; groups: number; excluded: number; messages: number }>;
  /** The most distinct messages one advisor may get (docs/engagement.md, "Customer variables"). */
  maxMessagesPerAdvisor: number;
  excluded: Array<{ reason: ExcludeReason; words: string; count: number }>;
}

const excludedList = (counts: Record<ExcludeReason, number>) =>
  EXCLUDE_REASONS.filter((r) => counts[r] > 0).map((reason) => ({
    reason,
    words: EXCLUDE_WORDS[reason],
    count: counts[reason],
  }));

/**
 * What a broadcast would do if it were sent now (docs/engagement.md): per advisor how many
 * customers and groups they will be asked to send to, how many customers are excluded and why.
 * The same plan as the send, so the numbers change only with the data.
 */
export async function previewBroadcast(
  b: { id?: string; corpId: string; audience: Audience; holdoutPercent: number; monthlyCap: number; text?: string },
  opts: { now: Date; timeZone: string; pd?: PersonalData },
): Promise<BroadcastPreview> {
  return presentPlan(await planOf(b, opts));
}

/** The plan behind a preview (the routes check it against the message cap before presenting it). */
export function planOf(
  b: { id?: string; corpId: string; audience: Audience; holdoutPercent: number; monthlyCap: number; text?: string },
  opts: { now: Date; timeZone: string; pd?: PersonalData },
): Promise<BroadcastPlan> {
  return planBroadcast({ ...b, id: b.id ?? new Types.ObjectId().toHexString() }, opts);
}

/** A plan in the preview's words. */
export function presentPlan(plan: BroadcastPlan): BroadcastPreview {
  return {
    customers: plan.customers,
    groups: plan.groups,
    calls: callsFor(plan),
    advisors: plan.advisors.map((a) => ({
      userid: a.userid,
      customers: a.customers.length,
      groups: a.chatIds.length,
      excluded: EXCLUDE_REASONS.reduce((n, r) => n + a.excluded[r], 0),
      messages: (a.customers.length ? messagesOf(a).size : 0) + Math.min(a.chatIds.length, 1),
    })),
    maxMessagesPerAdvisor: MAX_MESSAGES_PER_ADVISOR,
    excluded: excludedList(plan.excluded),
  };
}

/** The exclusion counts a sent broadcast recorded, in words. */
export function summaryExclusions(summary: unknown): BroadcastPreview['excluded'] {
  const counts = (summary as { excluded?: Partial<Record<ExcludeReason, number>> } | undefined)?.excluded ?? {};
  return excludedList(
    Object.fromEntries(EXCLUDE_REASONS.map((r) => [r, counts[r] ?? 0])) as Record<ExcludeReason, number>,
  );
}
