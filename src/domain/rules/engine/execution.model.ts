import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

export const ACTION_STATUSES = ['pending', 'done', 'scheduled', 'skipped', 'failed'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

const actionRecordSchema = new Schema(
  {
    index: { type: Number, required: true },
    type: { type: String, required: true },
    status: { type: String, enum: ACTION_STATUSES, required: true, default: 'pending' },
    attempts: { type: Number, default: 0 },
    /** Why it was skipped or failed: `opted_out`, `monthly_cap`, an error message ... */
    reason: { type: String },
    /** WeCom / internal ids: message batch, schedule, WeCom msgid. */
    refs: { type: Schema.Types.Mixed },
    at: { type: Date },
  },
  { _id: false },
);

/**
 * One execution of a rule for one customer and occurrence (docs/architecture.md §5): unique on (rule,
 * subject, occurrence), so the same occurrence never runs twice, across retries and crashes. The
 * subject is the customer id, or `ext:<external_userid>` for welcomes (sent before the customer
 * is stored). Records the rule version that ran and each action's outcome.
 */
const executionSchema = new Schema(
  {
    ruleId: { type: Schema.Types.ObjectId, required: true },
    subject: { type: String, required: true },
    occurrenceId: { type: String, required: true },
    corpId: { type: String, required: true },
    ruleVersion: { type: Number, required: true },
    trigger: { type: String, required: true },
    /** When the occurrence happened (the event's time, a date rule's date): the campaign report's entry time. */
    triggerAt: { type: Date },
    status: { type: String, enum: ['running', 'done', 'skipped'], required: true, default: 'running' },
    reason: { type: String },
    actions: { type: [actionRecordSchema], default: [] },
  },
  { collection: 'rule_executions', timestamps: true, versionKey: false },
);
executionSchema.index({ ruleId: 1, subject: 1, occurrenceId: 1 }, { unique: true });
executionSchema.index({ corpId: 1, subject: 1 });

export type ExecutionDocument = InferSchemaType<typeof executionSchema>;
export const ExecutionModel: Model<ExecutionDocument> =
  (mongoose.models.RuleExecution as Model<ExecutionDocument> | undefined) ??
  mongoose.model<ExecutionDocument>('RuleExecution', executionSchema);
