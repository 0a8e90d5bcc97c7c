import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

export const SCHEDULE_KINDS = ['rule_action', 'follow_up'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];
export const SCHEDULE_STATUSES = ['planned', 'enqueued', 'fired', 'cancelled'] as const;
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

/**
 * Work due later (docs/architecture.md §6): lives in MongoDB until the minute sweep moves it into the queue
 * that runs it. `key` is the business identity (rule, customer, occurrence, action), unique, so
 * planning twice is an upsert. `anchor` says which date it counts from, so a corrected date
 * moves it; `advisorUserid` is re-homed on transfer. `payload` holds ids and the rule action's
 * non-personal settings only.
 */
const scheduleSchema = new Schema(
  {
    key: { type: String, required: true, unique: true },
    corpId: { type: String, required: true },
    customerId: { type: Schema.Types.ObjectId, required: true },
    ruleId: { type: Schema.Types.ObjectId },
    ruleVersion: { type: Number },
    kind: { type: String, enum: SCHEDULE_KINDS, required: true },
    /** Index of the rule action this runs (rule_action), or the follow-up action's index. */
    actionIndex: { type: Number },
    occurrenceId: { type: String, required: true },
    dueAt: { type: Date, required: true },
    status: { type: String, enum: SCHEDULE_STATUSES, required: true, default: 'planned' },
    anchor: { field: { type: String }, vin: { type: String }, value: { type: String } },
    advisorUserid: { type: String },
    payload: { type: Schema.Types.Mixed },
    enqueuedAt: { type: Date },
    /** The job of a batch of follow-ups due together (docs/tasks.md); absent: the schedule's own job (`scheduleJobId`). */
    jobId: { type: String },
    firedAt: { type: Date },
    cancelledAt: { type: Date },
    cancelReason: { type: String },
  },
  { collection: 'schedules', timestamps: true, versionKey: false, minimize: false },
);
// The sweep reads due schedules in (dueAt, corpId) order, so one corp's follow-ups due together
// arrive side by side and fill the batches (src/domain/schedules/sweep.ts).
scheduleSchema.index({ status: 1, dueAt: 1, corpId: 1 });
scheduleSchema.index({ corpId: 1, customerId: 1, status: 1 });

export type ScheduleDocument = InferSchemaType<typeof scheduleSchema>;
export const ScheduleModel: Model<ScheduleDocument> =
  (mongoose.models.Schedule as Model<ScheduleDocument> | undefined) ??
  mongoose.model<ScheduleDocument>('Schedule', scheduleSchema);
