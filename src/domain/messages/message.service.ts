import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { messageBatchJob, messagePollJob } from '../../queues/jobs/messages.jobs.js';
import { CustomerModel } from '../customers/customer.model.js';
import type { EngineDeps } from '../rules/engine/engine-deps.js';
import type { Attachment } from '../rules/rule.schema.js';
import { toWecomAttachments } from './media.service.js';
import { MessageBatchModel, MessageRecipientModel } from './message.model.js';

/** Stop polling a task nobody confirmed after this long; it stays visible as unsent. */
const POLL_GIVE_UP_MS = 7 * 24 * 3600 * 1000;

export interface MessageContent {
  text?: string;
  attachments: Attachment[];
}

export interface QueueMessageInput {
  customerId: string;
  externalUserId: string;
  sender: string;
  monthKey: string;
  ruleId: string;
  ruleVersion: number;
  occurrenceId: string;
  executionId: string;
  actionIndex: number;
  content: MessageContent;
}

const contentHashOf = (c: MessageContent): string =>
  createHash('sha256').update(JSON.stringify(c)).digest('base64url').slice(0, 24);

/**
 * Queues one customer message: joins the open batch of this advisor and content, or
 * opens one and schedules its flush after the batch window, so messages that fire together
 * become one `add_msg_template` task. Idempotent per (rule, customer, occurrence, action).
 * A batch claimed for sending meanwhile is never joined late: the recipient moves to a new one.
 */
export async function queueCustomerMessage(deps: EngineDeps, input: QueueMessageInput): Promise<{ batchId: string }> {
  const key = `${input.ruleId}|${input.customerId}|${input.occurrenceId}|${input.actionIndex}`;
  const existing = await MessageRecipientModel.findOne({ key }, { batchId: 1 }).lean();
  if (existing) return { batchId: String(existing.batchId) };
  const contentHash = contentHashOf(input.content);
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = deps.clock.now();
    const batch = await MessageBatchModel.findOneAndUpdate(
      { corpId: deps.corpId, sender: input.sender, contentHash, status: 'open' },
      {
        $setOnInsert: {
          corpId: deps.corpId,
          sender: input.sender,
          contentHash,
          content: input.content,
          status: 'open',
          openedAt: now,
        },
      },
      { upsert: true, returnDocument: 'after' },
    ).lean();
    if (!batch) continue;
    const batchId = String(batch._id);
    await MessageRecipientModel.updateOne(
      { key },
      {
        $set: { batchId: batch._id, status: 'queued' },
        $setOnInsert: {
          key,
          corpId: deps.corpId,
          customerId: new Types.ObjectId(input.customerId),
          externalUserId: input.externalUserId,
          sender: input.sender,
          ruleId: new Types.ObjectId(input.ruleId),
          ruleVersion: input.ruleVersion,
          executionId: input.executionId,
          actionIndex: input.actionIndex,
          monthKey: input.monthKey,
        },
      },
      { upsert: true },
    );
    const still = await MessageBatchModel.findById(batch._id, { status: 1 }).lean();
    if (still?.status !== 'open') continue; // claimed between our join and now: join a fresh batch
    await messageBatchJob.enqueue(
      deps.queues,
      { batchId, corpId: deps.corpId },
      { delay: deps.batchWindowMs ?? 10_000 },
    );
    return { batchId };
  }
  throw new Error('could not join a message batch after 5 attempts');
}

/**
 * Sends a batch: claims it (`open` → `sending`), drops recipients who opted out meanwhile,
 * calls `add_msg_template` once, records the msgid, tells the advisor with a card, and schedules
 * the first result poll. A batch found in `sending` without a msgid (a crash mid-call) is marked
 * `uncertain` and never re-sent: a car owner must not get the same message twice (docs/architecture.md §11).
 */
export async function flushBatch(deps: EngineDeps, batchId: string): Promise<{ status: string; recipients: number }> {
  const id = new Types.ObjectId(batchId);
  const claimed = await MessageBatchModel.findOneAndUpdate(
    { _id: id, status: 'open' },
    { $set: { status: 'sending' } },
    { returnDocument: 'after' },
  ).lean();
  if (!claimed) {
    const current = await MessageBatchModel.findById(id).lean();
    if (current?.status === 'sending' && !current.msgid) {
      await MessageBatchModel.updateOne(
        { _id: id, status: 'sending' },
        {
          $set: { status: 'uncertain', error: 'interrupted during add_msg_template; not re-sent to avoid a duplicate' },
        },
      );
      await MessageRecipientModel.updateMany(
        { batchId: id, status: 'queued' },
        { $set: { status: 'failed', reason: 'uncertain' } },
      );
      deps.logger.warn(
        { corpId: deps.corpId, batchId, alert: true },
        'message batch interrupted mid-send; marked uncertain',
      );
    }
    return { status: current?.status ?? 'missing', recipients: 0 };
  }
  const recipients = await MessageRecipientModel.find({ batchId: id, status: 'queued' }).lean();
  const optedOut = new Set(
    (
      await CustomerModel.find(
        { _id: { $in: recipients.map((r) => r.customerId) }, 'optOut.value': true },
        { _id: 1 },
      ).lean()
    ).map((c) => String(c._id)),
  );
  if (optedOut.size)
    await MessageRecipientModel.updateMany(
      { batchId: id, customerId: { $in: [...optedOut].map((c) => new Types.ObjectId(c)) } },
      { $set: { status: 'cancelled', reason: 'opted_out' } },
    );
  const sendable = recipients.filter((r) => !optedOut.has(String(r.customerId)));
  if (sendable.length === 0) {
    await MessageBatchModel.updateOne({ _id: id }, { $set: { status: 'cancelled', error: 'no sendable recipients' } });
    return { status: 'cancelled', recipients: 0 };
  }
  const content = claimed.content as MessageContent;
  const attachments = await toWecomAttachments(deps.api, content.attachments, deps.clock.now());
  const res = await deps.api.addMsgTemplate({
    chat_type: 'single',
    sender: claimed.sender,
    external_userid: sendable.map((r) => r.externalUserId),
    ...(content.text ? { text: { content: content.text } } : {}),
    ...(attachments.length ? { attachments } : {}),
  });
  const now = deps.clock.now();
  await MessageBatchModel.updateOne({ _id: id }, { $set: { status: 'created', msgid: res.msgid, createdTaskAt: now } });
  const failed = new Set(res.fail_list ?? []);
  await MessageRecipientModel.updateMany(
    { batchId: id, status: 'queued', externalUserId: { $nin: [...failed] } },
    { $set: { status: 'pending' } },
  );
  if (failed.size)
    await MessageRecipientModel.updateMany(
      { batchId: id, status: 'queued', externalUserId: { $in: [...failed] } },
      { $set: { status: 'failed', reason: 'fail_list' } },
    );
  await notifySender(deps, claimed.sender, sendable.length - failed.size, batchId);
  await messagePollJob.enqueue(
    deps.queues,
    { batchId, corpId: deps.corpId, attempt: 1 },
    { delay: deps.pollDelayMs ?? 600_000 },
  );
  return { status: 'created', recipients: sendable.length - failed.size };
}

/** The advisor's card: there are customer messages to confirm in 群发助手 (docs/wecom.md §3.10). */
async function notifySender(deps: EngineDeps, sender: string, count: number, batchId: string): Promise<void> {
  if (count <= 0) return;
  await deps.api.sendMessage({
    touser: sender,
    msgtype: 'template_card',
    enable_duplicate_check: 1,
    duplicate_check_interval: 1800,
    template_card: {
      card_type: 'text_notice',
      task_id: `msg-${batchId}`,
      main_title: { title: '有客户消息待您确认发送', desc: '营销活动' },
      sub_title_text: `共 ${count} 位客户。请打开企业微信「客户联系 → 群发助手」确认发送。`,
      card_action: { type: 1, url: `${deps.publicBaseUrl}/console/` },
    },
  });
}

/**
 * Polls `get_groupmsg_send_result` for a batch: records what WeCom reports (sent, not a friend,
 * over quota), cancels the task when a still-pending recipient opted out (the others are queued
 * again into a new task), and polls again until nothing is pending or a week passed.
 */
export async function pollBatch(deps: EngineDeps, batchId: string, attempt: number): Promise<{ pending: number }> {
  const id = new Types.ObjectId(batchId);
  const batch = await MessageBatchModel.findById(id).lean();
  if (!batch?.msgid || batch.status !== 'created') return { pending: 0 };
  const rows = [];
  let cursor: string | undefined;
  do {
    const page = await deps.api.getGroupmsgSendResult({
      msgid: batch.msgid,
      userid: batch.sender,
      limit: 1000,
      ...(cursor ? { cursor } : {}),
    });
    rows.push(...page.send_list);
    cursor = page.next_cursor || undefined;
  } while (cursor);
  for (const row of rows) {
    if (!row.external_userid || row.status === 0) continue;
    const status = row.status === 1 ? 'sent' : 'failed';
    await MessageRecipientModel.updateOne(
      { batchId: id, externalUserId: row.external_userid, status: 'pending' },
      {
        $set: {
          status,
          wecomStatus: row.status,
          ...(row.send_time ? { sentAt: new Date(row.send_time * 1000) } : {}),
          ...(status === 'failed' ? { reason: row.status === 3 ? 'wecom_quota' : 'not_a_friend' } : {}),
        },
      },
    );
  }
  await cancelIfOptedOut(deps, batchId);
  const pending = await MessageRecipientModel.countDocuments({ batchId: id, status: 'pending' });
  const fresh = await MessageBatchModel.findById(id, { status: 1, createdTaskAt: 1 }).lean();
  const age = deps.clock.nowMs() - (fresh?.createdTaskAt?.getTime() ?? 0);
  if (pending === 0 || fresh?.status !== 'created' || age > POLL_GIVE_UP_MS) {
    if (fresh?.status === 'created') await MessageBatchModel.updateOne({ _id: id }, { $set: { status: 'final' } });
    return { pending };
  }
  await messagePollJob.enqueue(
    deps.queues,
    { batchId, corpId: deps.corpId, attempt: attempt + 1 },
    { delay: deps.pollDelayMs ?? 600_000 },
  );
  return { pending };
}

/**
 * Opt-out checked again before the advisor confirms: if a pending recipient of this
 * task opted out, the whole task is cancelled with `cancel_groupmsg_send` (WeCom cannot drop one
 * recipient) and the other pending recipients are queued again into a new task.
 */
export async function cancelIfOptedOut(deps: EngineDeps, batchId: string): Promise<boolean> {
  const id = new Types.ObjectId(batchId);
  const batch = await MessageBatchModel.findById(id).lean();
  if (!batch?.msgid || batch.status !== 'created') return false;
  const pending = await MessageRecipientModel.find({ batchId: id, status: 'pending' }).lean();
  const optedOut = new Set(
    (
      await CustomerModel.find(
        { _id: { $in: pending.map((r) => r.customerId) }, 'optOut.value': true },
        { _id: 1 },
      ).lean()
    ).map((c) => String(c._id)),
  );
  if (optedOut.size === 0) return false;
  await deps.api.cancelGroupmsgSend(batch.msgid);
  await MessageBatchModel.updateOne(
    { _id: id },
    { $set: { status: 'cancelled', error: 'a recipient opted out before confirmation' } },
  );
  for (const r of pending) {
    await MessageRecipientModel.updateOne(
      { _id: r._id },
      { $set: { status: 'cancelled', reason: optedOut.has(String(r.customerId)) ? 'opted_out' : 'requeued' } },
    );
    if (optedOut.has(String(r.customerId)) || r.ruleId == null || r.executionId == null || r.actionIndex == null)
      continue;
    await MessageRecipientModel.updateOne({ _id: r._id }, { $set: { key: `${r.key}|requeued-${batchId}` } });
    await queueCustomerMessage(deps, {
      customerId: String(r.customerId),
      externalUserId: r.externalUserId,
      sender: r.sender,
      monthKey: r.monthKey,
      ruleId: String(r.ruleId),
      ruleVersion: r.ruleVersion ?? 0,
      occurrenceId: r.key.split('|')[2] ?? '',
      executionId: r.executionId,
      actionIndex: r.actionIndex,
      content: batch.content as MessageContent,
    });
  }
  return true;
}

/** Cancels what is pending for a customer who just opted out (callable by whoever records the opt-out). */
export async function cancelPendingMessagesFor(deps: EngineDeps, customerId: string): Promise<number> {
  const pending = await MessageRecipientModel.find(
    { corpId: deps.corpId, customerId: new Types.ObjectId(customerId), status: { $in: ['queued', 'pending'] } },
    { batchId: 1, status: 1 },
  ).lean();
  let cancelled = 0;
  for (const r of pending) {
    if (r.status === 'queued') {
      await MessageRecipientModel.updateOne(
        { _id: r._id, status: 'queued' },
        { $set: { status: 'cancelled', reason: 'opted_out' } },
      );
      cancelled++;
    } else if (await cancelIfOptedOut(deps, String(r.batchId))) cancelled++;
  }
  return cancelled;
}

/** Customer messages counted against the monthly cap: pending confirmation or reported sent. */
export async function messagesThisMonth(corpId: string, customerId: string, monthKey: string): Promise<number> {
  // Messages the advisor sent from the chat sidebar are 1:1, not campaign sends: not capped.
  return MessageRecipientModel.countDocuments({
    corpId,
    customerId: new Types.ObjectId(customerId),
    monthKey,
    status: { $in: ['queued', 'pending', 'sent'] },
    source: { $ne: 'sidebar' },
  });
}
