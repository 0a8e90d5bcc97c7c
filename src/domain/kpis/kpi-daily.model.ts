import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

/**
 * One corp × corp-local day × advisor of cockpit counters (docs/cockpit.md), written only by the rollup
 * (rollup.service.ts), which recomputes a whole day and replaces these documents, so a re-run
 * yields the same documents. Every counter is additive across days and advisors; rates are
 * stored as numerator and denominator; the median due → done as a log-scale histogram.
 * Ids and counts only: no customer data.
 */
/** The counters every rollup document carries (daily, weekly, monthly): all additive. */
export const rollupCounterFields = {
  /** The advisor the counts belong to; `-` for customers without a responsible advisor. */
  advisorUserid: { type: String, required: true },
  /** The advisor's departments when the day was (last) rolled up. */
  departments: { type: [Number], default: [] },
  /** Counter name → count (see kpi-counters.ts). */
  counters: { type: Schema.Types.Mixed, required: true },
  /** Done tasks' completedAt − dueAt: bucket index → count (duration-histogram.ts). */
  dueToDone: { type: Schema.Types.Mixed, default: {} },
  /** Relationships added by channel state: state (or `-`) → count. */
  addedByState: { type: Schema.Types.Mixed, default: {} },
  /** The instant point-in-time metrics (overdue) were judged at. */
  asOf: { type: Date, required: true },
} as const;

const kpiDailySchema = new Schema(
  {
    corpId: { type: String, required: true },
    /** Corp-local calendar day `YYYY-MM-DD`. */
    day: { type: String, required: true },
    ...rollupCounterFields,
  },
  { collection: 'kpi_daily', versionKey: false, minimize: false },
);
kpiDailySchema.index({ corpId: 1, advisorUserid: 1, day: 1 }, { unique: true });
kpiDailySchema.index({ corpId: 1, day: 1 });
kpiDailySchema.index({ corpId: 1, departments: 1, day: 1 });

export type KpiDailyDocument = InferSchemaType<typeof kpiDailySchema>;
export const KpiDailyModel: Model<KpiDailyDocument> =
  (mongoose.models.KpiDaily as Model<KpiDailyDocument> | undefined) ??
  mongoose.model<KpiDailyDocument>('KpiDaily', kpiDailySchema);
