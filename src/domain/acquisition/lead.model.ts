import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

import { LEAD_STAGES } from './lead.types.js';

export { LEAD_SOURCES, LEAD_STAGES, OPEN_LEAD_STAGES, type LeadSource, type LeadStage } from './lead.types.js';

const historySchema = new Schema(
  {
    at: { type: Date, required: true },
    /** `system`, `api:<tokenId>`, `wecom:<userid>`, `import:<file>` ... */
    actor: { type: String, required: true },
    action: { type: String, required: true },
    /** Codes and ids only, never the person's data. */
    detail: { type: Schema.Types.Mixed },
  },
  { _id: false },
);

/**
 * A sales lead (docs/acquisition.md): who the person is (name and mobile sealed, the mobile's keyed
 * hash for de-duplication and matching, docs/architecture.md §7), what they want, where it came
 * from, who has it, and how far it got. The SLA ladder state lives here, driven by the minute tick.
 */
const leadSchema = new Schema(
  {
    corpId: { type: String, required: true },
    source: { type: String, required: true },
    /** The platform's own id (de-duplication). */
    sourceId: { type: String },
    /** `<corpId>|<source>|<sourceId>` when the platform gave an id: unique, so a replayed push merges. */
    sourceKey: { type: String },
    model: { type: String },
    budget: { type: String },
    preferredTime: { type: String },
    nameEnc: { type: String },
    mobileEnc: { type: String },
    mobileHash: { type: String },
    /** Keyed hash of the name: tells apart two open leads of one advisor when a lead-code add comes in. */
    nameHash: { type: String },
    consentRef: { type: String },
    stage: { type: String, enum: LEAD_STAGES, default: 'new' },
    outcome: { type: String, enum: ['won', 'lost'] },
    lostReason: { type: String },
    closedAt: { type: Date },
    advisorUserid: { type: String },
    /** How many times the lead was (re)assigned; cards carry it in their id. */
    assignment: { type: Number, default: 0 },
    assignedAt: { type: Date },
    /** Outside working hours with nobody on duty: routed at this time. */
    routeAt: { type: Date },
    firstContactAt: { type: Date },
    /** `card`, `sidebar`, `api`, `wecom_add`. */
    contactedVia: { type: String },
    addedAt: { type: Date },
    customerId: { type: Schema.Types.ObjectId },
    externalUserId: { type: String },
    /** Repeat interest: duplicates merged into this lead. */
    repeatCount: { type: Number, default: 0 },
    lastInterestAt: { type: Date, required: true },
    /** SLA: first contact due by; ladder level (1 reminded, 2 escalated, 3 reassigned) and next step. */
    slaDueAt: { type: Date },
    slaLevel: { type: Number, default: 0 },
    slaCheckpointAt: { type: Date },
    history: { type: [historySchema], default: [] },
  },
  { timestamps: true, collection: 'leads', versionKey: false },
);
leadSchema.index({ sourceKey: 1 }, { unique: true, sparse: true });
leadSchema.index({ corpId: 1, mobileHash: 1, lastInterestAt: -1 });
leadSchema.index({ corpId: 1, advisorUserid: 1, stage: 1 });
leadSchema.index({ corpId: 1, stage: 1, createdAt: -1 });
leadSchema.index({ slaCheckpointAt: 1 }, { sparse: true });
leadSchema.index({ routeAt: 1 }, { sparse: true });
leadSchema.index({ corpId: 1, customerId: 1 }, { sparse: true });

export type Lead = InferSchemaType<typeof leadSchema>;
export type LeadLean = Lead & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };
export const LeadModel = model('Lead', leadSchema);
