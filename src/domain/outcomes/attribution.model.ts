import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

const touchSchema = new Schema(
  {
    kind: { type: String, enum: ['task', 'message', 'broadcast', 'welcome'], required: true },
    /** The task, message recipient (also for a broadcast) or rule execution id. */
    refId: { type: String, required: true },
    at: { type: Date, required: true },
    ruleId: { type: Schema.Types.ObjectId },
    ruleVersion: { type: Number },
    taskId: { type: Schema.Types.ObjectId },
    advisorUserid: { type: String },
    /** The task's category and reported outcome (appointment_booked ...), for tasks. */
    category: { type: String },
    taskOutcome: { type: String },
    /** The broadcast of a `broadcast` touch (docs/engagement.md). */
    broadcastId: { type: Schema.Types.ObjectId },
  },
  { _id: false },
);

/**
 * The credit of one outcome (docs/outcomes.md, "Attribution"): exactly one record per outcome
 * (unique `outcomeId`), replaced when the outcome or a touch is corrected, removed when the
 * outcome is cancelled, so nothing is counted twice. `touch` is the last qualifying touch in the
 * window (the credit), `firstTouch` the first; an outcome without one is `organic`.
 */
const attributionSchema = new Schema(
  {
    corpId: { type: String, required: true },
    outcomeId: { type: Schema.Types.ObjectId, required: true },
    outcomeType: { type: String, required: true },
    roType: { type: String },
    /** Unset when the customer is erased (the record keeps counting, anonymised). */
    customerId: { type: Schema.Types.ObjectId },
    occurredAt: { type: Date, required: true },
    revenue: { type: Number, required: true },
    model: { type: String, required: true, default: 'last_touch' },
    modelVersion: { type: Number, required: true, default: 1 },
    windowDays: { type: Number, required: true },
    organic: { type: Boolean, required: true },
    /** An "appointment booked" task preceded it in the window. */
    predicted: { type: Boolean, required: true },
    touch: { type: touchSchema },
    firstTouch: { type: touchSchema },
    touches: { type: Number, required: true },
    lagMs: { type: Number },
    computedAt: { type: Date, required: true },
  },
  { collection: 'attributions', versionKey: false },
);
attributionSchema.index({ outcomeId: 1 }, { unique: true });
attributionSchema.index({ corpId: 1, occurredAt: 1 });
attributionSchema.index({ corpId: 1, customerId: 1 });
attributionSchema.index({ 'touch.taskId': 1 }, { sparse: true });

export type AttributionDocument = InferSchemaType<typeof attributionSchema>;
export const AttributionModel: Model<AttributionDocument> =
  (mongoose.models.Attribution as Model<AttributionDocument> | undefined) ??
  mongoose.model<AttributionDocument>('Attribution', attributionSchema);
