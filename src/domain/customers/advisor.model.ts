import { Schema, model, type InferSchemaType } from 'mongoose';
import { announceWrites } from '../../infra/change-notices.js';

/**
 * A WeCom member who follows customers (a sales advisor, a manager ...). Directory data kept
 * in sync from `change_contact` callbacks or the periodic directory refresh (docs/architecture.md §4).
 * Member names are employees' work names, needed to address cards and KPIs; they are not
 * car owners' personal data and are stored in clear.
 */
const advisorSchema = new Schema(
  {
    corpId: { type: String, required: true },
    userid: { type: String, required: true },
    name: { type: String, default: '' },
    departments: { type: [Number], default: [] },
    /** Departments this member leads (WeCom `is_leader_in_dept`). */
    leadsDepartments: { type: [Number], default: [] },
    /** Direct leaders' userids (WeCom `direct_leader`). */
    directLeaders: { type: [String], default: [] },
    status: { type: String, enum: ['active', 'disabled', 'left'], default: 'active' },
    statusChangedAt: { type: Date },
    /** Set when the member left and their open work waits for a transfer. */
    needsTransfer: { type: Boolean, default: false },
    syncedAt: { type: Date },
  },
  { timestamps: true, collection: 'advisors' },
);
advisorSchema.index({ corpId: 1, userid: 1 }, { unique: true });
advisorSchema.index({ corpId: 1, departments: 1 });
// The worker keeps advisors' departments for rule conditions (src/domain/corps/corp-read-cache.ts):
// every write through the model tells it, here and in the other processes.
announceWrites(advisorSchema, 'advisors');

export type Advisor = InferSchemaType<typeof advisorSchema>;
export const AdvisorModel = model('Advisor', advisorSchema);
