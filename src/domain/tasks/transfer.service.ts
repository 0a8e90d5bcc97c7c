import { Types } from 'mongoose';
import type { Queues } from '../../queues/queue-factory.js';
import { transferStartJob } from '../../queues/jobs/tasks.jobs.js';
import { WecomApiError } from '../../wecom/errors.js';
import type { TransferCustomerResponse, TransferResultResponse } from '../../wecom/endpoints/transfer.js';
import { leadersOf } from '../customers/advisor-directory.service.js';
import { CustomerModel } from '../customers/customer.model.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { endRelationship } from '../customers/relationship-status.service.js';
import { moveGroupsWithOwner } from '../groups/group-transfer.service.js';
import type { TaskDeps } from './task-deps.js';
import { countSent } from './task-notify.js';
import { TransferModel, type TransferLean, type TransferResult } from './transfer.model.js';

/** WeCom's transfer error codes in words (docs/wecom.md §3.15–§3.17, §4). */
export const TRANSFER_ERRORS: Record<number, string> = {
  0: '已发起，客户将在 24 小时后自动接替（客户可拒绝）',
  40003: '成员 userid 无效（可能已离职：请使用离职继承）',
  40096: '客户 external_userid 无效或不在可见范围',
  40097: '原跟进成员尚未离职：请使用在职继承',
  40098: '接替成员尚未实名认证',
  40099: '接替成员的客户数已达上限',
  40100: '客户已在转接流程中',
  40128: '该客户 90 天内已被转接 2 次，不能再转接',
  40129: '该客户的转接正在进行中',
  40130: '原跟进成员与接替成员不能相同',
  40131: '原成员不是该客户的跟进人',
};
export const explainTransferError = (code: number): string => TRANSFER_ERRORS[code] ?? `企业微信错误码 ${code}`;

/** How often `transfer_result` is polled, and for how long (takeover happens 24 h after the start). */

export interface StartTransferInput {
  kind: 'in_service' | 'resigned';
  handoverUserid: string;
  takeoverUserid: string;
  externalUserIds: string[];
  transferSuccessMsg?: string;
}

/**
 * Starts a transfer in chunks of 100 (WeCom's limit) and records each customer's start result
 * with its error explained. A refusal of the whole call (40097, 40130 ...) is recorded on every
 * customer. Customers that started are polled until final.
 */
export async function startTransfer(
  deps: TaskDeps,
  input: StartTransferInput,
  requestedBy: string,
  id?: string,
): Promise<TransferLean> {
  const now = deps.clock.now();
  if (id) {
    // A retried start job: the transfer was recorded already, do not call WeCom twice.
    const existing = (await TransferModel.findById(id).lean()) as TransferLean | null;
    if (existing) return existing;
  }
  const rows: Array<{
    externalUserId: string;
    customerId?: Types.ObjectId;
    startErrcode: number;
    explanation: string;
    result: TransferResult;
  }> = [];
  const unique = [...new Set(input.externalUserIds)];
  for (let i = 0; i < unique.length; i += 100) {
    const chunk = unique.slice(i, i + 100);
    let res: TransferCustomerResponse | undefined;
    let whole: number | undefined;
    try {
      const req = {
        handover_userid: input.handoverUserid,
        takeover_userid: input.takeoverUserid,
        external_userid: chunk,
      };
      res =
        input.kind === 'resigned'
          ? await deps.api.resignedTransferCustomer(req)
          : await deps.api.transferCustomer({ ...req, transfer_success_msg: input.transferSuccessMsg });
    } catch (err) {
      if (!(err instanceof WecomApiError) || err.retryable) throw err;
      whole = err.errcode;
    }
    const codes = new Map((res?.customer ?? []).map((c) => [c.external_userid, c.errcode]));
    for (const ext of chunk) {
      const code = whole ?? codes.get(ext) ?? 40096;
      rows.push({
        externalUserId: ext,
        startErrcode: code,
        explanation: explainTransferError(code),
        result: code === 0 ? 'waiting' : 'failed_to_start',
      });
    }
  }
  const customers = await CustomerModel.find(
    { corpId: deps.corpId, externalUserId: { $in: unique } },
    { externalUserId: 1 },
  ).lean();
  const ids = new Map(customers.map((c) => [c.externalUserId, c._id]));
  for (const row of rows) row.customerId = ids.get(row.externalUserId);
  const waiting = rows.some((r) => r.result === 'waiting');
  // Owner groups move with the owner advisor, whatever the customers' individual results.
  const groups = await moveGroupsWithOwner(deps, {
    kind: input.kind,
    from: input.handoverUserid,
    to: input.takeoverUserid,
  });
  const doc = await TransferModel.create({
    ...(id ? { _id: new Types.ObjectId(id) } : {}),
    corpId: deps.corpId,
    kind: input.kind,
    handoverUserid: input.handoverUserid,
    takeoverUserid: input.takeoverUserid,
    requestedBy,
    status: waiting ? 'polling' : 'finished',
    customers: rows,
    groups,
    ...(waiting ? { nextPollAt: new Date(now.getTime() + deps.tuning.transferPollEveryMs) } : { finishedAt: now }),
  });
  deps.logger.info(
    {
      corpId: deps.corpId,
      transferId: String(doc._id),
      kind: input.kind,
      started: rows.filter((r) => r.result === 'waiting').length,
      refused: rows.filter((r) => r.result !== 'waiting').length,
    },
    'customer transfer started',
  );
  return doc.toObject() as TransferLean;
}

const RESULT_OF_STATUS: Record<number, TransferResult> = {
  1: 'succeeded',
  2: 'waiting',
  3: 'refused',
  4: 'taker_full',
};

/**
 * Polls `transfer_result` for one transfer and applies what became final (docs/wecom.md §3.15):
 * success moves the customer (taker's relationship active, handover's `transferred`, so the
 * `relationship.transferred` path moves open tasks, schedules and the responsible advisor);
 * refusal or a full taker keeps everything with the original advisor. When nothing waits any
 * more, the manager (the handover's leaders) gets a summary.
 */
export async function pollTransfer(
  deps: TaskDeps,
  transferId: string,
): Promise<{ status: string; succeeded: number; failed: number; waiting: number }> {
  const transfer = (await TransferModel.findOne({
    _id: new Types.ObjectId(transferId),
    corpId: deps.corpId,
  }).lean()) as TransferLean | null;
  if (!transfer) return { status: 'not_found', succeeded: 0, failed: 0, waiting: 0 };
  const now = deps.clock.now();
  const statuses = new Map<string, { status: number; takeover_time: number }>();
  if (transfer.status === 'polling') {
    let cursor: string | undefined;
    do {
      const req = {
        handover_userid: transfer.handoverUserid,
        takeover_userid: transfer.takeoverUserid,
        ...(cursor ? { cursor } : {}),
      };
      const page: TransferResultResponse =
        transfer.kind === 'resigned' ? await deps.api.resignedTransferResult(req) : await deps.api.transferResult(req);
      for (const c of page.customer) statuses.set(c.external_userid, c);
      cursor = page.next_cursor || undefined;
    } while (cursor);
  }
  for (const row of transfer.customers) {
    if (row.result !== 'waiting') continue;
    const s = statuses.get(row.externalUserId);
    const result = s ? (RESULT_OF_STATUS[s.status] ?? 'waiting') : 'waiting';
    if (result === 'waiting') {
      if (now.getTime() - transfer.createdAt.getTime() > deps.tuning.transferGiveUpAfterMs)
        await setResult(transfer._id, row.externalUserId, { result: 'expired' });
      continue;
    }
    const takeoverAt = s?.takeover_time ? new Date(s.takeover_time * 1000) : now;
    if (result === 'succeeded') await applyTakeover(deps, transfer, row.externalUserId, takeoverAt);
    await setResult(transfer._id, row.externalUserId, {
      result,
      takeoverAt,
      ...(result === 'succeeded' ? { appliedAt: now } : {}),
    });
  }
  const after = (await TransferModel.findById(transfer._id).lean()) as TransferLean;
  const waiting = after.customers.filter((c) => c.result === 'waiting').length;
  const succeeded = after.customers.filter((c) => c.result === 'succeeded').length;
  const failed = after.customers.length - waiting - succeeded;
  if (waiting === 0 && after.status === 'polling') {
    const done = await TransferModel.updateOne(
      { _id: after._id, status: 'polling' },
      { $set: { status: 'finished', finishedAt: now }, $unset: { nextPollAt: 1 }, $inc: { polls: 1 } },
    );
    if (done.modifiedCount > 0) await notifyManager(deps, after, succeeded, failed);
  } else if (waiting > 0) {
    await TransferModel.updateOne(
      { _id: after._id },
      { $set: { nextPollAt: new Date(now.getTime() + deps.tuning.transferPollEveryMs) }, $inc: { polls: 1 } },
    );
  }
  return { status: waiting === 0 ? 'finished' : 'polling', succeeded, failed, waiting };
}

async function setResult(
  id: Types.ObjectId,
  externalUserId: string,
  set: { result: TransferResult; takeoverAt?: Date; appliedAt?: Date },
): Promise<void> {
  // Read-modify-write of the small array (one poller at a time: the tick holds its lock).
  const doc = await TransferModel.findById(id, { customers: 1 }).lean();
  if (!doc) return;
  const customers = doc.customers.map((c) => (c.externalUserId === externalUserId ? { ...c, ...set } : c));
  await TransferModel.updateOne({ _id: id }, { $set: { customers } });
}

/** The customer now follows the taker: relationships, then the `relationship.transferred` path. */
async function applyTakeover(
  deps: TaskDeps,
  transfer: TransferLean,
  externalUserId: string,
  takeoverAt: Date,
): Promise<void> {
  const customer = await CustomerModel.findOne(
    { corpId: deps.corpId, externalUserId },
    { _id: 1, responsibleUserid: 1 },
  ).lean();
  if (!customer) return;
  await RelationshipModel.updateOne(
    { corpId: deps.corpId, userid: transfer.takeoverUserid, externalUserId },
    {
      $set: { status: 'active', statusChangedAt: takeoverAt, statusCause: `transfer_from:${transfer.handoverUserid}` },
      $setOnInsert: { customerId: customer._id, addedAt: takeoverAt, addWay: 202 },
    },
    { upsert: true },
  );
  await RelationshipModel.updateOne(
    { corpId: deps.corpId, userid: transfer.handoverUserid, externalUserId },
    { $set: { transferredTo: transfer.takeoverUserid } },
  );
  await endRelationship(deps, {
    externalUserId,
    userid: transfer.handoverUserid,
    status: 'transferred',
    eventAt: takeoverAt,
    sourceId: `transfer-${String(transfer._id)}-${externalUserId}`,
    cause: `transfer:${transfer.takeoverUserid}`,
  });
}

async function notifyManager(deps: TaskDeps, transfer: TransferLean, succeeded: number, failed: number): Promise<void> {
  const leaders = await leadersOf(deps, transfer.handoverUserid).catch(() => []);
  const to =
    leaders.length > 0 ? leaders : transfer.requestedBy.startsWith('user:') ? [transfer.requestedBy.slice(5)] : [];
  if (to.length === 0) return;
  const kind = transfer.kind === 'resigned' ? '离职继承' : '在职继承';
  const content = `客户转接结果（${kind}）：${transfer.handoverUserid} → ${transfer.takeoverUserid}，成功 ${succeeded} 位，未成功 ${failed} 位。未成功的客户仍由原顾问跟进，任务保持不变。`;
  await deps.api.sendMessage({
    touser: to.join('|'),
    msgtype: 'text',
    text: { content },
    enable_duplicate_check: 1,
    duplicate_check_interval: 1800,
  });
  for (const u of to) await countSent(deps, u);
}

/** Transfers whose next poll is due (the tasks' minute tick polls them). */
export async function pollDueTransfers(deps: TaskDeps, limit = 50): Promise<number> {
  const due = await TransferModel.find(
    { corpId: deps.corpId, status: 'polling', nextPollAt: { $lte: deps.clock.now() } },
    { _id: 1 },
  )
    .limit(limit)
    .lean();
  for (const t of due) await pollTransfer(deps, String(t._id));
  return due.length;
}

export const TRANSFER_START_JOB = transferStartJob.name;

/** The API enqueues the start (WeCom is never called inside an HTTP request, docs/architecture.md §2); the id is chosen up front. */
export async function requestTransferStart(
  queues: Queues,
  corpId: string,
  input: StartTransferInput,
  requestedBy: string,
): Promise<string> {
  const id = new Types.ObjectId().toHexString();
  await transferStartJob.enqueue(queues, { corpId, transferId: id, input, requestedBy });
  return id;
}
