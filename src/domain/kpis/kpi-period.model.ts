import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';
import { rollupCounterFields } from './kpi-daily.model.js';

/**
 * One corp × week or month × advisor of cockpit counters: the sum of that period's kpi_daily
 * documents, recomputed from them after the days are rolled up (period-rollup.service.ts). Long
 * ranges read these instead of one document per advisor and day: a year by month is 12 documents
 * per advisor, a week's anomalies with 8 weeks of history 9. Same counters as kpi_daily; ids and
 * counts only.
 */
const kpiPeriodSchema = new Schema(
  {
    corpId: { type: String, required: true },
    granularity: { type: String, enum: ['week', 'month'], required: true },
    /** First corp-local day of the period `YYYY-MM-DD` (a Monday, or the 1st); named like kpi_daily's so both sum alike. */
    day: { type: String, required: true },
    /** Departments as on the period's latest rolled-up day; `asOf` the latest among its days. */
    ...rollupCounterFields,
  },
  { collection: 'kpi_periods', versionKey: false, minimize: false },
);
kpiPeriodSchema.index({ corpId: 1, granularity: 1, advisorUserid: 1, day: 1 }, { unique: true });
kpiPeriodSchema.index({ corpId: 1, granularity: 1, day: 1 });
kpiPeriodSchema.index({ corpId: 1, granularity: 1, departments: 1, day: 1 });

export type KpiPeriodDocument = InferSchemaType<typeof kpiPeriodSchema>;
export const KpiPeriodModel: Model<KpiPeriodDocument> =
  (mongoose.models.KpiPeriod as Model<KpiPeriodDocument> | undefined) ??
  mongoose.model<KpiPeriodDocument>('KpiPeriod', kpiPeriodSchema);
