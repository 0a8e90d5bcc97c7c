import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

/**
 * One processed (or failing) callback: the inbox ledger (docs/architecture.md §4). Unique on the de-duplication
 * key, so a replayed job is a no-op. Stores the type and ids only, never the raw XML (personal
 * data lives in the job, which expires a day after completion).
 */
const inboundEventSchema = new Schema(
  {
    dedupKey: { type: String, required: true, unique: true },
    corpId: { type: String, required: true },
    type: { type: String, required: true },
    /** Ids that locate the subject: userId, externalUserId, chatId, tagId, msgId, taskId. */
    ids: { type: Schema.Types.Mixed, default: {} },
    createTime: { type: Date },
    receivedAt: { type: Date, required: true },
    processedAt: { type: Date },
    status: { type: String, enum: ['processing', 'processed', 'failed', 'unparseable', 'skipped'], required: true },
    attempts: { type: Number, default: 0 },
    error: { type: String },
  },
  { collection: 'inbound_events', timestamps: true, versionKey: false },
);
inboundEventSchema.index({ corpId: 1, receivedAt: -1 });
inboundEventSchema.index({ status: 1, receivedAt: -1 });

export type InboundEventDocument = InferSchemaType<typeof inboundEventSchema>;

export const InboundEventModel: Model<InboundEventDocument> =
  (mongoose.models.InboundEvent as Model<InboundEventDocument> | undefined) ??
  mongoose.model<InboundEventDocument>('InboundEvent', inboundEventSchema);
