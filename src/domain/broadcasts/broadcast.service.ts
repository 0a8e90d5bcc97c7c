import { Types } from 'mongoose';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { CorpApi } from '../../wecom/corp-api.js';
import { WecomApiError } from '../../wecom/errors.js';
import { toWecomAttachments } from '../messages/media.service.js';
import { MessageBatchModel, MessageRecipientModel } from '../messages/message.model.js';
import { monthKey, nextAllowedTime } from '../rules/engine/guards.js';
import { broadcastConfirmTasks, closeBroadcastConfirmTasks } from '../tasks/broadcast-tasks.js';
import { talkTrackVariablesIn } from '../tasks/task-card.js';
import type { TaskDeps } from '../tasks/task-deps.js';
import type { QuietHours } from '../tasks/task-settings.js';
import { markBroadcastCancelled } from './broadcast-approval.js';
import { BroadcastModel } from './broadcast.model.js';
import {
  MAX_CUSTOMERS_PER_CALL,
  MAX_GROUPS_PER_CALL,
  messageCapProblem,
  messagesOf,
  planBroadcast,
  type Audience,
  type BroadcastContent,
} from './broadcast-plan.js';

/** What the broadcast services need for one dealer corp (the worker builds it). */
export interface BroadcastDeps {
  corpId: string;
  api: CorpApi;
  clock: Clock;
  logger: Logger;
  timeZone: string;
  quietHours: QuietHours | null;
  publicBaseUrl: string;
  /** The corp's task services: an unconfirmed advisor's follow-up task (docs/engagement.md). */
  tasks: TaskDeps;
}

/** WeCom's per-customer send results in words (docs/wecom.md §3.11). */
export const SEND_RESULT_WORDS: Record<number, string> = {
  0: '顾问尚未确认发送',
  1: '已发送',
  2: '发送失败：客户已不是该顾问的好友',
  3: '发送失败：客户本月接收群发已达上限',
};

/**
 * Fixed policy, not tuning (docs/engagement.md): an advisor still unconfirmed `remindAfterMs` after
 * the mass send was created is reminded and gets a follow-up task (the task ladder escalates it);
 * a send still unconfirmed `giveUpAfterMs` after creation is no longer tracked and its task is
 * cancelled (WeCom documents no expiry; rule batches give up after the same week).
 */
export const BROADCAST_TIMING = Object.freeze({ remindAfterMs: 4 * 3600_000, giveUpAfterMs: 7 * 86_400_000 });

const asId = (id: string) => new Types.ObjectId(id);

/**
 * Sends an approved broadcast whose time has come (docs/engagement.md): inside quiet hours it is
 * postponed to the next allowed time; otherwise it is claimed (`approved` → `sending`), planned
 * with every guard, and each advisor gets one `add_msg_template` per distinct text (one without
 * customer variables; the minimum; more only past WeCom's 10,000 customers or 2,000 groups per
 * call). A plan that would give an advisor more distinct texts than the cap (the data changed since
 * approval) is not sent: the broadcast is cancelled with the reason. Every customer is a message record
 * with `source: broadcast`; held-out customers are recorded as cancelled (`holdout`) so the
 * measurement can compare.
 */
export async function sendBroadcast(
  deps: BroadcastDeps,
  broadcastId: string,
): Promise<{ status: string; calls: number; postponedTo?: Date }> {
  const now = deps.clock.now();
  const b = await BroadcastModel.findOne({ _id: asId(broadcastId), corpId: deps.corpId }).lean();
  if (!b || b.status !== 'approved') return { status: b?.status ?? 'missing', calls: 0 };
  if (b.scheduledAt.getTime() > now.getTime() || (b.postponedTo && b.postponedTo.getTime() > now.getTime()))
    return { status: 'waiting', calls: 0 };
  const allowed = nextAllowedTime(now, deps.quietHours, deps.timeZone);
  if (allowed.getTime() > now.getTime()) {
    await BroadcastModel.updateOne({ _id: b._id }, { $set: { postponedTo: allowed } });
    return { status: 'postponed', calls: 0, postponedTo: allowed };
  }
  const claimed = await BroadcastModel.findOneAndUpdate(
    { _id: b._id, status: 'approved' },
    { $set: { status: 'sending', startedAt: now } },
    { returnDocument: 'after' },
  ).lean();
  if (!claimed) return { status: 'claimed_elsewhere', calls: 0 };
  const content = b.content as BroadcastContent;
  const plan = await planBroadcast(
    {
      id: broadcastId,
      corpId: deps.corpId,
      audience: b.audience as Audience,
      holdoutPercent: b.holdoutPercent ?? 0,
      monthlyCap: b.monthlyCap ?? 4,
      ...(content.text ? { text: content.text } : {}),
    },
    { now, timeZone: deps.timeZone, pd: deps.tasks.pd },
  );
  const refused = messageCapProblem(plan, content.text);
  if (refused) {
    await BroadcastModel.updateOne(
      { _id: b._id, corpId: deps.corpId },
      { $set: { status: 'cancelled', cancelledAt: now, summary: { refused, customers: plan.customers, calls: 0 } } },
    );
    deps.logger.warn({ corpId: deps.corpId, broadcastId }, 'broadcast not sent: too many distinct texts per advisor');
    return { status: 'refused', calls: 0 };
  }
  const attachments = await toWecomAttachments(deps.api, content.attachments, now);
  const bodyFor = (text: string | undefined) => ({
    ...(text ? { text: { content: text } } : {}),
    ...(attachments.length ? { attachments } : {}),
  });
  // A text holding the customer's name is not stored: the batch keeps the template (docs/engagement.md).
  const storable = !talkTrackVariablesIn(content.text ?? '').includes('customer');
  const month = monthKey(now, deps.timeZone);
  let calls = 0;
  const perAdvisor: Record<string, { customers: number; groups: number; failed: number }> = {};
  for (const a of plan.advisors) {
    const row = (perAdvisor[a.userid] = { customers: 0, groups: 0, failed: 0 });
    for (const h of a.holdout) {
      await MessageRecipientModel.updateOne(
        { key: `bc|${broadcastId}|${h.customerId}` },
        {
          $setOnInsert: {
            key: `bc|${broadcastId}|${h.customerId}`,
            batchId: new Types.ObjectId(),
            corpId: deps.corpId,
            customerId: asId(h.customerId),
            externalUserId: h.externalUserId,
            sender: a.userid,
            monthKey: month,
            status: 'cancelled',
            reason: 'holdout',
            source: 'broadcast',
            broadcastId: b._id,
          },
        },
        { upsert: true },
      );
    }
    for (const [rendered, customers] of messagesOf(a))
      for (let i = 0; i < customers.length; i += MAX_CUSTOMERS_PER_CALL) {
        const chunk = customers.slice(i, i + MAX_CUSTOMERS_PER_CALL);
        const text = rendered ?? content.text;
        const batch = await MessageBatchModel.create({
          corpId: deps.corpId,
          sender: a.userid,
          contentHash: `broadcast-${broadcastId}`,
          content: storable && text ? { ...content, text } : content,
          status: 'sending',
          openedAt: now,
          source: 'broadcast',
          broadcastId: b._id,
          chatType: 'single',
        });
        await MessageRecipientModel.bulkWrite(
          chunk.map((c) => ({
            updateOne: {
              filter: { key: `bc|${broadcastId}|${c.customerId}` },
              update: {
                $setOnInsert: {
                  key: `bc|${broadcastId}|${c.customerId}`,
                  batchId: batch._id,
                  corpId: deps.corpId,
                  customerId: asId(c.customerId),
                  externalUserId: c.externalUserId,
                  sender: a.userid,
                  monthKey: month,
                  status: 'queued',
                  source: 'broadcast',
                  broadcastId: b._id,
                },
              },
              upsert: true,
            },
          })),
        );
        calls++;
        try {
          const res = await deps.api.addMsgTemplate({
            chat_type: 'single',
            sender: a.userid,
            external_userid: chunk.map((c) => c.externalUserId),
            ...bodyFor(text),
          });
          const failed = new Set(res.fail_list ?? []);
          await MessageBatchModel.updateOne(
            { _id: batch._id },
            { $set: { status: 'created', msgid: res.msgid, createdTaskAt: now } },
          );
          await MessageRecipientModel.updateMany(
            { batchId: batch._id, status: 'queued', externalUserId: { $nin: [...failed] } },
            { $set: { status: 'pending' } },
          );
          if (failed.size)
            await MessageRecipientModel.updateMany(
              { batchId: batch._id, status: 'queued', externalUserId: { $in: [...failed] } },
              { $set: { status: 'failed', reason: 'fail_list' } },
            );
          row.customers += chunk.length - failed.size;
          row.failed += failed.size;
        } catch (err) {
          // Never re-sent when uncertain (docs/architecture.md §11): the batch says what happened.
          const reason =
            err instanceof WecomApiError
              ? `企业微信错误码 ${err.errcode}`
              : 'interrupted during add_msg_template; not re-sent to avoid a duplicate';
          await MessageBatchModel.updateOne(
            { _id: batch._id },
            {
              $set: { status: err instanceof WecomApiError && !err.retryable ? 'failed' : 'uncertain', error: reason },
            },
          );
          await MessageRecipientModel.updateMany(
            { batchId: batch._id, status: 'queued' },
            { $set: { status: 'failed', reason: err instanceof WecomApiError ? `wecom_${err.errcode}` : 'uncertain' } },
          );
          row.failed += chunk.length;
        }
      }
    for (let i = 0; i < a.chatIds.length; i += MAX_GROUPS_PER_CALL) {
      const chunk = a.chatIds.slice(i, i + MAX_GROUPS_PER_CALL);
      const batch = await MessageBatchModel.create({
        corpId: deps.corpId,
        sender: a.userid,
        contentHash: `broadcast-${broadcastId}`,
        content,
        status: 'sending',
        openedAt: now,
        source: 'broadcast',
        broadcastId: b._id,
        chatType: 'group',
        chatIds: chunk,
      });
      calls++;
      try {
        const res = await deps.api.addMsgTemplate({
          chat_type: 'group',
          sender: a.userid,
          chat_id_list: chunk,
          ...bodyFor(content.text),
        });
        await MessageBatchModel.updateOne(
          { _id: batch._id },
          { $set: { status: 'created', msgid: res.msgid, createdTaskAt: now } },
        );
        row.groups += chunk.length - (res.fail_list?.length ?? 0);
      } catch (err) {
        await MessageBatchModel.updateOne(
          { _id: batch._id },
          {
            $set: {
              status: 'failed',
              error: err instanceof WecomApiError ? `企业微信错误码 ${err.errcode}` : 'uncertain',
            },
          },
        );
        row.failed += chunk.length;
      }
    }
    if (row.customers + row.groups > 0) await notifyAdvisor(deps, a.userid, row.customers, row.groups, broadcastId);
  }
  const summary = {
    customers: plan.customers,
    groups: plan.groups,
    excluded: plan.excluded,
    advisors: perAdvisor,
    calls,
  };
  await BroadcastModel.updateOne(
    { _id: b._id, corpId: deps.corpId },
    { $set: { status: 'sent', summary, ...(plan.conditions ? { plannedConditions: plan.conditions } : {}) } },
  );
  deps.logger.info(
    {
      corpId: deps.corpId,
      broadcastId,
      advisors: plan.advisors.length,
      customers: plan.customers,
      groups: plan.groups,
      calls,
    },
    'broadcast handed to advisors',
  );
  return { status: 'sent', calls };
}

async function notifyAdvisor(
  deps: BroadcastDeps,
  userid: string,
  customers: number,
  groups: number,
  broadcastId: string,
): Promise<void> {
  await deps.api.sendMessage({
    touser: userid,
    msgtype: 'template_card',
    enable_duplicate_check: 1,
    duplicate_check_interval: 1800,
    template_card: {
      card_type: 'text_notice',
      task_id: `bc-${broadcastId}-${userid}`.slice(0, 128).replace(/[^A-Za-z0-9_@-]/g, '_'),
      main_title: { title: '有营销群发待您确认', desc: '活动推广' },
      sub_title_text: `${customers ? `${customers} 位客户` : ''}${customers && groups ? '、' : ''}${groups ? `${groups} 个客户群` : ''}。请打开企业微信「客户联系 → 群发助手」确认发送。`,
      card_action: { type: 1, url: `${deps.publicBaseUrl}/console/` },
    },
  });
}

export interface AdvisorProgress {
  userid: string;
  /** sent: the advisor confirmed; unconfirmed: not yet; failed: WeCom refused the task. */
  state: 'sent' | 'unconfirmed' | 'failed' | 'cancelled';
  customers: { sent: number; pending: number; failed: number };
  groups: { sent: number; planned: number };
  failures: Array<{ reason: string; count: number }>;
  remindedAt?: Date;
  /** The advisor's confirmation task (opened with the reminder) and when the ladder escalated it to the manager. */
  taskId?: string;
  escalatedAt?: Date;
}

/**
 * Reads WeCom's progress for every advisor task of a broadcast (`get_groupmsg_task`,
 * `get_groupmsg_send_result`; docs/wecom.md §3.11) and records it: per customer sent or failed
 * with WeCom's reason, per advisor confirmed or not. A confirmed send closes the advisor's
 * confirmation task as done; a send unconfirmed after `giveUpAfterMs` is no longer tracked
 * (`final`) and its task is cancelled.
 */
export async function pollBroadcast(deps: BroadcastDeps, broadcastId: string): Promise<AdvisorProgress[]> {
  const batches = await MessageBatchModel.find({
    corpId: deps.corpId,
    broadcastId: asId(broadcastId),
    status: 'created',
    msgid: { $exists: true },
  }).lean();
  for (const batch of batches) {
    const msgid = batch.msgid as string;
    const task = await deps.api.getGroupmsgTask({ msgid, limit: 1000 });
    const mine = task.task_list.find((t) => t.userid.toLowerCase() === batch.sender.toLowerCase());
    let confirmedAt = batch.confirmedAt ?? undefined;
    if (mine?.status === 2 && !confirmedAt) {
      confirmedAt = mine.send_time ? new Date(mine.send_time * 1000) : deps.clock.now();
      await MessageBatchModel.updateOne({ _id: batch._id }, { $set: { confirmedAt } });
    }
    if (confirmedAt)
      await closeBroadcastConfirmTasks(
        deps.corpId,
        [batch._id],
        { status: 'done', reason: 'broadcast_confirmed' },
        deps.clock.now(),
      );
    else if (
      deps.clock.nowMs() - (batch.createdTaskAt?.getTime() ?? deps.clock.nowMs()) >
      BROADCAST_TIMING.giveUpAfterMs
    ) {
      await giveUp(deps, batch._id);
      continue;
    }
    if (batch.chatType === 'group') continue;
    let cursor: string | undefined;
    do {
      const page = await deps.api.getGroupmsgSendResult({
        msgid,
        userid: batch.sender,
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      for (const row of page.send_list) {
        if (!row.external_userid || row.status === 0) continue;
        const sent = row.status === 1;
        await MessageRecipientModel.updateOne(
          { batchId: batch._id, externalUserId: row.external_userid, status: 'pending' },
          {
            $set: {
              status: sent ? 'sent' : 'failed',
              wecomStatus: row.status,
              // A send is a touch at its time (docs/outcomes.md, "Touches"): WeCom's send time,
              // else the advisor's confirmation, else this poll (a sent row means it was confirmed).
              ...(row.send_time
                ? { sentAt: new Date(row.send_time * 1000) }
                : sent
                  ? { sentAt: confirmedAt ?? deps.clock.now() }
                  : {}),
              ...(sent ? {} : { reason: row.status === 3 ? 'wecom_quota' : 'not_a_friend' }),
            },
          },
        );
      }
      cursor = page.next_cursor || undefined;
    } while (cursor);
    if (mine?.status === 2) await MessageBatchModel.updateOne({ _id: batch._id }, { $set: { status: 'final' } });
  }
  return broadcastProgress(deps.corpId, broadcastId);
}

/** A send unconfirmed for too long: no longer tracked (`final`, unconfirmed), its confirmation task cancelled. */
async function giveUp(deps: BroadcastDeps, batchId: Types.ObjectId): Promise<void> {
  // The task first: a crash in between leaves the batch tracked, and the next poll repeats both.
  await closeBroadcastConfirmTasks(
    deps.corpId,
    [batchId],
    { status: 'cancelled', reason: 'mass_send_ended' },
    deps.clock.now(),
  );
  await MessageBatchModel.updateOne(
    { _id: batchId, corpId: deps.corpId, status: 'created' },
    { $set: { status: 'final', error: 'not confirmed within a week; no longer tracked' } },
  );
}

const REASON_WORDS: Record<string, string> = {
  not_a_friend: SEND_RESULT_WORDS[2] as string,
  wecom_quota: SEND_RESULT_WORDS[3] as string,
  fail_list: '企业微信拒收：客户无效或不可发送',
  uncertain: '创建群发时中断，为免重复未再发送',
  cancelled: '群发已取消',
};

/** Per-advisor progress from what is stored (no WeCom call). */
export async function broadcastProgress(corpId: string, broadcastId: string): Promise<AdvisorProgress[]> {
  const batches = await MessageBatchModel.find({ corpId, broadcastId: asId(broadcastId) }).lean();
  const tasks = await broadcastConfirmTasks(corpId, asId(broadcastId));
  const recipients = await MessageRecipientModel.find(
    { corpId, broadcastId: asId(broadcastId), reason: { $ne: 'holdout' } },
    { batchId: 1, status: 1, reason: 1 },
  ).lean();
  const out = new Map<string, AdvisorProgress>();
  for (const batch of batches) {
    const p = out.get(batch.sender) ?? {
      userid: batch.sender,
      state: 'sent' as AdvisorProgress['state'],
      customers: { sent: 0, pending: 0, failed: 0 },
      groups: { sent: 0, planned: 0 },
      failures: [],
    };
    out.set(batch.sender, p);
    const state: AdvisorProgress['state'] =
      batch.status === 'cancelled'
        ? 'cancelled'
        : batch.status === 'failed' || batch.status === 'uncertain'
          ? 'failed'
          : batch.confirmedAt
            ? 'sent'
            : 'unconfirmed';
    if (state !== 'sent' && p.state === 'sent') p.state = state;
    if (batch.chatType === 'group') {
      p.groups.planned += batch.chatIds?.length ?? 0;
      if (batch.confirmedAt) p.groups.sent += batch.chatIds?.length ?? 0;
    }
    if (batch.remindedAt) p.remindedAt = batch.remindedAt;
    const task = tasks.get(String(batch._id));
    if (task) p.taskId = task.taskId;
    // A batch escalated by the leader card of earlier versions keeps its own `escalatedAt`.
    const escalatedAt = task?.escalatedAt ?? batch.escalatedAt;
    if (escalatedAt) p.escalatedAt = escalatedAt;
    const reasons = new Map<string, number>();
    for (const r of recipients.filter((x) => String(x.batchId) === String(batch._id))) {
      if (r.status === 'sent') p.customers.sent++;
      else if (r.status === 'pending' || r.status === 'queued') p.customers.pending++;
      else {
        p.customers.failed++;
        const words = REASON_WORDS[r.reason ?? ''] ?? r.reason ?? '未知原因';
        reasons.set(words, (reasons.get(words) ?? 0) + 1);
      }
    }
    for (const [reason, count] of reasons) p.failures.push({ reason, count });
  }
  return [...out.values()].sort((a, b) => a.userid.localeCompare(b.userid));
}

/**
 * Cancels a broadcast: not yet sent, it just stops; sent to advisors, every unconfirmed task is
 * cancelled in WeCom (`cancel_groupmsg_send`; what was sent stays sent) and pending customers are
 * marked cancelled.
 */
export async function cancelBroadcast(deps: BroadcastDeps, broadcastId: string): Promise<{ cancelledTasks: number }> {
  if (!(await markBroadcastCancelled(deps.corpId, broadcastId, deps.clock.now()))) return { cancelledTasks: 0 };
  return cancelOpenTasks(deps, broadcastId);
}

/**
 * The WeCom half of a cancellation (the API marks the broadcast cancelled, the worker runs this):
 * every advisor task not yet confirmed is cancelled in WeCom, its pending customers marked
 * cancelled and the advisor's confirmation task cancelled. A broadcast that is not cancelled is left alone.
 */
export async function cancelOpenTasks(deps: BroadcastDeps, broadcastId: string): Promise<{ cancelledTasks: number }> {
  const b = await BroadcastModel.findOne({ _id: asId(broadcastId), corpId: deps.corpId, status: 'cancelled' }).lean();
  if (!b) return { cancelledTasks: 0 };
  let cancelledTasks = 0;
  for (const batch of await MessageBatchModel.find({
    corpId: deps.corpId,
    broadcastId: b._id,
    status: 'created',
    confirmedAt: { $exists: false },
  }).lean()) {
    await deps.api.cancelGroupmsgSend(batch.msgid as string);
    await MessageBatchModel.updateOne(
      { _id: batch._id },
      { $set: { status: 'cancelled', error: 'broadcast cancelled' } },
    );
    await MessageRecipientModel.updateMany(
      { batchId: batch._id, status: { $in: ['pending', 'queued'] } },
      { $set: { status: 'cancelled', reason: 'cancelled' } },
    );
    cancelledTasks++;
  }
  // Every batch, not only those cancelled in this run: a retried job settles what a crash left open.
  const all = await MessageBatchModel.find({ corpId: deps.corpId, broadcastId: b._id }, { confirmedAt: 1 }).lean();
  const now = deps.clock.now();
  const confirmed = all.filter((x) => x.confirmedAt).map((x) => x._id);
  const unconfirmed = all.filter((x) => !x.confirmedAt).map((x) => x._id);
  await closeBroadcastConfirmTasks(deps.corpId, confirmed, { status: 'done', reason: 'broadcast_confirmed' }, now);
  await closeBroadcastConfirmTasks(
    deps.corpId,
    unconfirmed,
    { status: 'cancelled', reason: 'broadcast_cancelled' },
    now,
  );
  return { cancelledTasks };
}
