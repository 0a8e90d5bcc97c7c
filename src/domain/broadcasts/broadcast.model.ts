import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

export const BROADCAST_STATUSES = ['pending_approval', 'approved', 'sending', 'sent', 'cancelled', 'rejected'] as const;
export type BroadcastStatus = (typeof BROADCAST_STATUSES)[number];

/**
 * A one-off promotion (docs/engagement.md): an audience (a segment with the rules' conditions, or
 * owner groups), marketing content, a schedule and an approval. Sent per advisor through WeCom's
 * advisor-confirmed mass send; each advisor's task is a `message_batches` row with
 * `source: broadcast`, each customer a `message_recipients` row. Marketing copy only.
 */
const broadcastSchema = new Schema(
  {
    corpId: { type: String, required: true },
    name: { type: String, required: true },
    status: { type: String, enum: BROADCAST_STATUSES, required: true, default: 'pending_approval' },
    /**
     * `segment`: `conditions` as in rules, or `segmentId` (a saved segment, resolved when planned)
     * with `conditions` its snapshot at creation; `groups`: live groups by purpose tag or chat ids.
     */
    audience: { type: Schema.Types.Mixed, required: true },
    /** The segment conditions the send was planned with (traceability when a saved segment changed). */
    plannedConditions: { type: Schema.Types.Mixed },
    content: { type: Schema.Types.Mixed, required: true },
    scheduledAt: { type: Date, required: true },
    /** When quiet hours moved the send. */
    postponedTo: { type: Date },
    /** Share of the audience held out (0–50 %), by a keyed hash of broadcast and customer. */
    holdoutPercent: { type: Number, default: 0 },
    /** Messages per customer per month, counted with the rules' messages. */
    monthlyCap: { type: Number, default: 4 },
    createdBy: { type: String, required: true },
    approvedBy: { type: String },
    approvedAt: { type: Date },
    /** A car-maker broadcast pushed to this dealer: the parent in the car maker's scope. */
    parentId: { type: Schema.Types.ObjectId },
    startedAt: { type: Date },
    cancelledAt: { type: Date },
    /** Counts at send time: planned, sent per advisor, excluded and why (no personal data). */
    summary: { type: Schema.Types.Mixed },
  },
  { collection: 'broadcasts', timestamps: true, versionKey: false, minimize: false },
);
broadcastSchema.index({ corpId: 1, status: 1, scheduledAt: 1 });
broadcastSchema.index({ parentId: 1 }, { sparse: true });

export type BroadcastDocument = InferSchemaType<typeof broadcastSchema>;
export const BroadcastModel: Model<BroadcastDocument> =
  (mongoose.models.Broadcast as Model<BroadcastDocument> | undefined) ??
  mongoose.model<BroadcastDocument>('Broadcast', broadcastSchema);
