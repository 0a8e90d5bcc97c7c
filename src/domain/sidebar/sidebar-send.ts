import { createHash, randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import { monthKey } from '../rules/engine/guards.js';
import { MessageBatchModel, MessageRecipientModel } from '../messages/message.model.js';

export const SIDEBAR_SEND_KINDS = ['talk_track', 'text', 'news', 'image', 'miniprogram'] as const;
export type SidebarSendKind = (typeof SIDEBAR_SEND_KINDS)[number];

export interface SidebarSendInput {
  corpId: string;
  customerId: Types.ObjectId;
  externalUserId: string;
  sender: string;
  kind: SidebarSendKind;
  /** The library item or task the content came from (ids only). */
  contentId?: string;
  taskId?: string;
  at: Date;
  timeZone: string;
}

/**
 * Records one message the advisor put into the chat from the sidebar (`sendChatMessage` answered
 * ok) as a touch in `message_recipients` with `source: 'sidebar'`, so attribution counts it like
 * any other message (docs/console.md, "Advisor sidebar"). It is a 1:1 message the advisor sent
 * themself, so it does not count toward the campaigns' monthly cap. The content itself is not
 * stored (it may carry the customer's name): only its kind and library id.
 */
export async function recordSidebarSend(input: SidebarSendInput): Promise<{ id: string }> {
  const content = {
    source: 'sidebar',
    kind: input.kind,
    ...(input.contentId ? { contentId: input.contentId } : {}),
    ...(input.taskId ? { taskId: input.taskId } : {}),
  };
  const batch = await MessageBatchModel.create({
    corpId: input.corpId,
    sender: input.sender,
    status: 'final',
    openedAt: input.at,
    createdTaskAt: input.at,
    contentHash: createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32),
    content,
  });
  const recipient = await MessageRecipientModel.create({
    key: `sidebar:${randomUUID()}`,
    batchId: batch._id,
    corpId: input.corpId,
    customerId: input.customerId,
    externalUserId: input.externalUserId,
    sender: input.sender,
    monthKey: monthKey(input.at, input.timeZone),
    status: 'sent',
    sentAt: input.at,
    source: 'sidebar',
  });
  return { id: String(recipient._id) };
}
