import mongoose, { Schema, type InferSchemaType, type Model, type Types } from 'mongoose';
import { TASK_CATEGORIES } from '../kpis/task-category.js';

export const TASK_STATUSES = ['open', 'done', 'unreachable', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
/**
 * What the task is about: a `follow_up` on a customer (the default, also when absent),
 * `add_on_wecom`: a DMS vehicle whose owner the dealer cannot reach on WeCom (docs/outcomes.md,
 * "Add this owner on WeCom" tasks), whose subject is the vehicle and which may have no customer, or
 * `broadcast_confirm`: an advisor reminded to confirm a broadcast's mass send in WeCom (群发助手;
 * docs/engagement.md), no customer, closed by itself when the send is confirmed or ends.
 */
export const TASK_KINDS = ['follow_up', 'add_on_wecom', 'broadcast_confirm'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
export const TASK_OUTCOMES = ['contacted', 'appointment_booked', 'customer_declined'] as const;
export type TaskOutcome = (typeof TASK_OUTCOMES)[number];

/** Escalation levels (docs/tasks.md): 0 none, 1 advisor reminded, 2 manager escalated, 3 flagged/reassigned. */
export const ESCALATION_LEVELS = [0, 1, 2, 3] as const;

const historySchema = new Schema(
  {
    at: { type: Date, required: true },
    /** `system`, `advisor:<userid>`, `wecom:<userid>` (a card click or a text command), `api:<tokenId>`. */
    actor: { type: String, required: true },
    action: { type: String, required: true },
    /** Ids and codes only (status, outcome, userids, levels), never customer data. */
    detail: { type: Schema.Types.Mixed },
  },
  { _id: false },
);

/**
 * A follow-up task (docs/architecture.md §6, docs/tasks.md): one per fired `follow_up` schedule (unique
 * `scheduleId`), an "add this owner on WeCom" task on a vehicle (`kind: add_on_wecom`, no schedule), or
 * a broadcast confirmation (`kind: broadcast_confirm`, one per message batch). The talk track is stored as the rule's template and rendered with the customer's
 * data only when shown, so no customer personal data is stored here. `dueAt` never changes;
 * snoozing moves `remindAt`. On time means done no later than `dueAt + slaMs`.
 */
const taskSchema = new Schema(
  {
    corpId: { type: String, required: true },
    scheduleId: { type: Schema.Types.ObjectId },
    ruleId: { type: Schema.Types.ObjectId },
    ruleVersion: { type: Number },
    /** The rule's name when the task was created ("why this task"). */
    reason: { type: String },
    /** What the task is for (delivery care, maintenance/insurance invitation ...), from the firing occurrence; see kpis/task-category.ts. */
    category: { type: String, enum: TASK_CATEGORIES },
    /** The customer the task is about; absent for an `add_on_wecom` task whose vehicle has no reachable customer. */
    customerId: { type: Schema.Types.ObjectId },
    /** `add_on_wecom` tasks: the DMS vehicle whose owner is to be added (docs/outcomes.md). */
    vehicleId: { type: Schema.Types.ObjectId },
    /** `broadcast_confirm` tasks: the broadcast and the advisor's mass send (message batch) to confirm. */
    broadcastId: { type: Schema.Types.ObjectId },
    messageBatchId: { type: Schema.Types.ObjectId },
    /** Absent = `follow_up`. */
    kind: { type: String, enum: TASK_KINDS },
    advisorUserid: { type: String, required: true },
    title: { type: String, required: true },
    /** Template with `{客户}` / `{车型}` / `{顾问}` placeholders; rendered at send time. */
    talkTrack: { type: String },
    dueAt: { type: Date, required: true },
    slaMs: { type: Number, required: true },
    /** Ladder thresholds after `dueAt` (ms) and settings, copied from the rule with corp defaults. */
    ladder: {
      escalateAfterMs: { type: Number, required: true },
      flagAfterMs: { type: Number, required: true },
      to: { type: String, enum: ['manager', 'direct_leader'], default: 'direct_leader' },
      reassign: { type: Boolean, default: false },
    },
    status: { type: String, enum: TASK_STATUSES, required: true, default: 'open' },
    /** When the advisor is (next) told about the task; snoozing moves it. */
    remindAt: { type: Date, required: true },
    /** A card (or digest line) is owed for `remindAt`. */
    notifyPending: { type: Boolean, default: true },
    escalationLevel: { type: Number, min: 0, max: 3, default: 0 },
    /** When the next ladder step is due (open tasks only); unset after level 3. */
    nextCheckpointAt: { type: Date },
    flagged: { type: Boolean, default: false },
    outcome: { type: String, enum: TASK_OUTCOMES },
    completedAt: { type: Date },
    /** Cards sent to the advisor: WeCom task_id `tk-<id>-<seq>` (unique per app), the last one's response code. */
    cardSeq: { type: Number, default: 0 },
    card: { wecomTaskId: { type: String }, responseCode: { type: String }, sentAt: { type: Date } },
    history: { type: [historySchema], default: [] },
  },
  { collection: 'tasks', timestamps: true, versionKey: false },
);
taskSchema.index({ scheduleId: 1 }, { unique: true, sparse: true });
taskSchema.index({ corpId: 1, advisorUserid: 1, status: 1, dueAt: 1 });
taskSchema.index({ status: 1, notifyPending: 1, remindAt: 1 });
taskSchema.index({ status: 1, nextCheckpointAt: 1 });
taskSchema.index({ corpId: 1, customerId: 1, status: 1 });
taskSchema.index({ corpId: 1, dueAt: 1 });
/** At most one open "add this owner on WeCom" task per vehicle (docs/outcomes.md); closed ones are history. */
taskSchema.index(
  { corpId: 1, vehicleId: 1, kind: 1 },
  { unique: true, partialFilterExpression: { status: 'open', kind: 'add_on_wecom' }, name: 'open_vehicle_task' },
);
/** One confirmation task per broadcast mass send, ever (docs/engagement.md): a retried tick finds the one it opened. */
taskSchema.index(
  { corpId: 1, messageBatchId: 1 },
  { unique: true, partialFilterExpression: { kind: 'broadcast_confirm' }, name: 'broadcast_batch_task' },
);
/** A broadcast's confirmation tasks (its progress, closing them when it is cancelled). */
taskSchema.index({ corpId: 1, broadcastId: 1 }, { partialFilterExpression: { kind: 'broadcast_confirm' } });
/** A vehicle's tasks (auto-close when the owner becomes reachable, erasure, export). */
taskSchema.index({ corpId: 1, vehicleId: 1, status: 1 }, { partialFilterExpression: { vehicleId: { $exists: true } } });
/** Bookings by completion time: the no-show detection and the no-show rate flags (docs/cockpit.md "Result anomalies"). */
taskSchema.index({ corpId: 1, outcome: 1, completedAt: 1 });

export type TaskDocument = InferSchemaType<typeof taskSchema>;
export type TaskLean = TaskDocument & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };
export const TaskModel: Model<TaskDocument> =
  (mongoose.models.Task as Model<TaskDocument> | undefined) ?? mongoose.model<TaskDocument>('Task', taskSchema);
