import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

/**
 * An "appointment booked" task not followed by an arrival within the corp's no-show window
 * (docs/outcomes.md, "No-shows"). One per booking task (unique `taskId`), so the detection can
 * run any number of times; `followUpTaskId` is the task created for the advisor.
 */
const noShowSchema = new Schema(
  {
    corpId: { type: String, required: true },
    taskId: { type: Schema.Types.ObjectId, required: true },
    customerId: { type: Schema.Types.ObjectId },
    advisorUserid: { type: String, required: true },
    bookedAt: { type: Date, required: true },
    windowEnd: { type: Date, required: true },
    followUpTaskId: { type: Schema.Types.ObjectId },
    detectedAt: { type: Date, required: true },
  },
  { collection: 'no_shows', versionKey: false },
);
noShowSchema.index({ taskId: 1 }, { unique: true });
noShowSchema.index({ corpId: 1, detectedAt: 1 });
noShowSchema.index({ corpId: 1, bookedAt: 1 });

export type NoShowDocument = InferSchemaType<typeof noShowSchema>;
export const NoShowModel: Model<NoShowDocument> =
  (mongoose.models.NoShow as Model<NoShowDocument> | undefined) ??
  mongoose.model<NoShowDocument>('NoShow', noShowSchema);
