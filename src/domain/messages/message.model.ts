import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

export const BATCH_STATUSES = ['open', 'sending', 'created', 'final', 'cancelled', 'uncertain', 'failed'] as const;

/**
 * One advisor-confirmed mass send (docs/wecom.md §3.10): the customer messages of one advisor with
 * the same content that fired together, sent as one `add_msg_template` task. `content` is the
 * rule's marketing copy (no personal data). `msgid` arrives once WeCom created the task.
 */
const batchSchema = new Schema(
  {
    corpId: { type: String, required: true },
    sender: { type: String, required: true },
    contentHash: { type: String, required: true },
    content: { type: Schema.Types.Mixed, required: true },
    status: { type: String, enum: BATCH_STATUSES, required: true, default: 'open' },
    msgid: { type: String },
    openedAt: { type: Date, required: true },
    createdTaskAt: { type: Date },
    polls: { type: Number, default: 0 },
    error: { type: String },
    /** What caused the batch: a rule (the default) or a broadcast (docs/engagement.md). */
    source: { type: String, enum: ['rule', 'broadcast'], default: 'rule' },
    broadcastId: { type: Schema.Types.ObjectId },
    /** `single` customers (the default) or `group` customer groups (docs/wecom.md §11.7). */
    chatType: { type: String, enum: ['single', 'group'], default: 'single' },
    chatIds: { type: [String], default: undefined },
    /** Broadcast batches: when the unconfirmed advisor was reminded (`remind_groupmsg_send`). */
    remindedAt: { type: Date },
    /** The advisor's `broadcast_confirm` task, opened with the reminder; the task ladder escalates it (docs/engagement.md). */
    confirmTaskId: { type: Schema.Types.ObjectId },
    /**
     * No longer written: when the leader card of earlier versions escalated the batch. Kept so the
     * progress of those broadcasts still shows it; escalation now comes from the task (docs/engagement.md).
     */
    escalatedAt: { type: Date },
    /** The advisor confirmed in WeCom (`get_groupmsg_task` status 2). */
    confirmedAt: { type: Date },
  },
  { collection: 'message_batches', timestamps: true, versionKey: false, minimize: false },
);
batchSchema.index({ corpId: 1, sender: 1, contentHash: 1, status: 1 });
batchSchema.index({ status: 1, createdTaskAt: 1 });

export type MessageBatchDocument = InferSchemaType<typeof batchSchema>;
export const MessageBatchModel: Model<MessageBatchDocument> =
  (mongoose.models.MessageBatch as Model<MessageBatchDocument> | undefined) ??
  mongoose.model<MessageBatchDocument>('MessageBatch', batchSchema);

export const MESSAGE_SOURCES = ['campaign', 'sidebar', 'broadcast'] as const;
export type MessageSource = (typeof MESSAGE_SOURCES)[number];

export const RECIPIENT_STATUSES = ['queued', 'pending', 'sent', 'failed', 'cancelled'] as const;
export type RecipientStatus = (typeof RECIPIENT_STATUSES)[number];

/**
 * One customer in a batch. Unique per (rule, customer, occurrence, action): an action adds its
 * customer once. `monthKey` (corp-local `YYYY-MM`) is what the monthly cap counts: messages
 * pending confirmation or reported sent by WeCom.
 */
const recipientSchema = new Schema(
  {
    key: { type: String, required: true, unique: true },
    batchId: { type: Schema.Types.ObjectId, required: true },
    corpId: { type: String, required: true },
    customerId: { type: Schema.Types.ObjectId, required: true },
    externalUserId: { type: String, required: true },
    sender: { type: String, required: true },
    ruleId: { type: Schema.Types.ObjectId },
    ruleVersion: { type: Number },
    executionId: { type: String },
    actionIndex: { type: Number },
    monthKey: { type: String, required: true },
    status: { type: String, enum: RECIPIENT_STATUSES, required: true, default: 'queued' },
    /** WeCom send_result status: 0 unsent, 1 sent, 2 not a friend, 3 over quota. */
    wecomStatus: { type: Number },
    reason: { type: String },
    sentAt: { type: Date },
    /**
     * Where the message came from: absent or `campaign` = a rule's mass send; `broadcast` = a one-off promotion's send (docs/engagement.md); `sidebar` = sent by
     * the advisor from the chat sidebar (docs/console.md, "Advisor sidebar"), counted as a touch.
     */
    source: { type: String, enum: MESSAGE_SOURCES },
    broadcastId: { type: Schema.Types.ObjectId },
  },
  { collection: 'message_recipients', timestamps: true, versionKey: false },
);
recipientSchema.index({ batchId: 1 });
recipientSchema.index({ broadcastId: 1 }, { sparse: true });
recipientSchema.index({ corpId: 1, customerId: 1, monthKey: 1, status: 1 });

export type MessageRecipientDocument = InferSchemaType<typeof recipientSchema>;
export const MessageRecipientModel: Model<MessageRecipientDocument> =
  (mongoose.models.MessageRecipient as Model<MessageRecipientDocument> | undefined) ??
  mongoose.model<MessageRecipientDocument>('MessageRecipient', recipientSchema);
