import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

/**
 * A saved segment (docs/engagement.md, "Saved segments"): a corp's named audience written with
 * the rules' conditions, picked by a broadcast instead of writing the conditions again. Deleting
 * is soft (`deleted` + `deletedAt`), so a broadcast that named it still shows where its audience
 * came from; a name is unique among a corp's live segments (`deleted: false`, an equality a
 * partial index can hold).
 */
const segmentSchema = new Schema(
  {
    corpId: { type: String, required: true },
    name: { type: String, required: true },
    /** The rules' conditions (`conditionsSchema` in src/domain/rules/rule.schema.ts). */
    conditions: { type: Schema.Types.Mixed, required: true, default: {} },
    createdBy: { type: String, required: true },
    updatedBy: { type: String },
    deleted: { type: Boolean, required: true, default: false },
    deletedAt: { type: Date },
  },
  { collection: 'segments', timestamps: true, versionKey: false, minimize: false },
);
segmentSchema.index(
  { corpId: 1, name: 1 },
  { unique: true, partialFilterExpression: { deleted: false }, name: 'live_segment_name' },
);

export type SegmentDocument = InferSchemaType<typeof segmentSchema>;
export const SegmentModel: Model<SegmentDocument> =
  (mongoose.models.Segment as Model<SegmentDocument> | undefined) ??
  mongoose.model<SegmentDocument>('Segment', segmentSchema);
