import { Types } from 'mongoose';
import { z } from 'zod';
import type { Queues } from '../../queues/queue-factory.js';
import { CustomerModel } from '../customers/customer.model.js';
import { MessageRecipientModel } from '../messages/message.model.js';
import { requestPendingCancel } from './privacy-jobs.js';

/**
 * How an opt-out (or its withdrawal) was recorded. The customer's chat with the advisor does not
 * reach the bot, so a reply such as 退订 is recorded by the advisor (`advisor_reported`) through the
 * task card, the console or the API; `consent_withdrawn` is a withdrawal of consent (PIPL Art. 15),
 * which also stops automated marketing.
 */
export const OPT_OUT_SOURCES = ['advisor_reported', 'console', 'api', 'consent_withdrawn', 'erasure'] as const;
export type OptOutSource = (typeof OPT_OUT_SOURCES)[number];
export const optOutSourceSchema = z.enum(OPT_OUT_SOURCES);

export interface OptOutDeps {
  queues: Queues;
  now: () => Date;
}

export interface OptOutResult {
  changed: boolean;
  /** Queued customer messages cancelled at once. */
  cancelledQueued: number;
  /** Whether a WeCom task awaiting the advisor's confirmation is being cancelled by the worker. */
  pendingCancelRequested: boolean;
}

/**
 * Opts a customer out of automated marketing (PIPL Art. 24(2), GDPR Art. 21) or back in. Opting
 * out cancels queued customer messages at once and asks the worker to cancel WeCom mass-send tasks
 * still awaiting the advisor (`cancel_groupmsg_send`); every send path checks the flag again at
 * send time (the rules engine, the batch flush and the result poll). Idempotent.
 */
export async function setOptOut(
  deps: OptOutDeps,
  input: { corpId: string; customerId: string; optOut: boolean; source: OptOutSource },
): Promise<OptOutResult> {
  const at = deps.now();
  const customerId = new Types.ObjectId(input.customerId);
  const updated = await CustomerModel.updateOne(
    { _id: customerId, corpId: input.corpId, 'optOut.value': input.optOut ? { $ne: true } : true },
    { $set: { optOut: { value: input.optOut, at, source: input.source } } },
  );
  const result: OptOutResult = {
    changed: updated.modifiedCount > 0,
    cancelledQueued: 0,
    pendingCancelRequested: false,
  };
  if (!input.optOut) return result;
  const queued = await MessageRecipientModel.updateMany(
    { corpId: input.corpId, customerId, status: 'queued' },
    { $set: { status: 'cancelled', reason: 'opted_out' } },
  );
  result.cancelledQueued = queued.modifiedCount;
  if (await MessageRecipientModel.exists({ corpId: input.corpId, customerId, status: 'pending' })) {
    await requestPendingCancel(deps.queues, { corpId: input.corpId, customerId: input.customerId }, at.getTime());
    result.pendingCancelRequested = true;
  }
  return result;
}
