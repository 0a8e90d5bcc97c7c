import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

/**
 * One weekly cockpit digest per (corp, manager, week) (docs/cockpit.md): unique, so a retried job
 * never sends a manager the same week twice. Ids and counts only.
 */
const kpiDigestSchema = new Schema(
  {
    corpId: { type: String, required: true },
    /** The manager (a department leader) it went to. */
    userid: { type: String, required: true },
    /** Monday of the judged week, corp-local `YYYY-MM-DD`. */
    week: { type: String, required: true },
    status: { type: String, enum: ['sending', 'sent'], required: true },
    /** How many anomalies it listed. */
    flags: { type: Number, required: true },
    sentAt: { type: Date },
  },
  { collection: 'kpi_digests', timestamps: true, versionKey: false },
);
kpiDigestSchema.index({ corpId: 1, week: 1, userid: 1 }, { unique: true });

export type KpiDigestDocument = InferSchemaType<typeof kpiDigestSchema>;
export const KpiDigestModel: Model<KpiDigestDocument> =
  (mongoose.models.KpiDigest as Model<KpiDigestDocument> | undefined) ??
  mongoose.model<KpiDigestDocument>('KpiDigest', kpiDigestSchema);
