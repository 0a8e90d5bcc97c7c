import { Schema, model, type InferSchemaType } from 'mongoose';
import { forgetJobReadsOnWrite } from '../../infra/job-reads.js';

export const RELATIONSHIP_STATUSES = ['active', 'deleted_by_customer', 'deleted_by_advisor', 'transferred'] as const;
export type RelationshipStatus = (typeof RELATIONSHIP_STATUSES)[number];

/**
 * One advisor ↔ one customer (WeCom's follow_user entry, docs/wecom.md §6.3). Remarks and remark
 * mobiles are sealed; their keyed hashes support exact-match search (docs/architecture.md §7).
 */
const relationshipSchema = new Schema(
  {
    corpId: { type: String, required: true },
    userid: { type: String, required: true },
    externalUserId: { type: String, required: true },
    customerId: { type: Schema.Types.ObjectId, ref: 'Customer', required: true },
    /** Channel: the `state` of the contact-me QR code the customer used. */
    state: { type: String },
    addWay: { type: Number },
    addedAt: { type: Date },
    remarkEnc: { type: String },
    remarkHash: { type: String },
    descriptionEnc: { type: String },
    /** The advisor's own note about the customer, written in the sidebar or on the task page (sealed; docs/console.md). */
    noteEnc: { type: String },
    noteUpdatedAt: { type: Date },
    remarkMobilesEnc: { type: [String], default: [] },
    remarkMobileHashes: { type: [String], default: [] },
    /** Corp tag ids currently on this relationship (personal tags have no ids and are ignored). */
    tagIds: { type: [String], default: [] },
    status: { type: String, enum: RELATIONSHIP_STATUSES, default: 'active' },
    statusChangedAt: { type: Date },
    /** What changed the status: a callback type, `reconciliation`, `transfer:<takeover userid>` ... */
    statusCause: { type: String },
    transferredTo: { type: String },
  },
  { timestamps: true, collection: 'relationships' },
);
relationshipSchema.index({ corpId: 1, userid: 1, externalUserId: 1 }, { unique: true });
relationshipSchema.index({ corpId: 1, externalUserId: 1, status: 1 });
relationshipSchema.index({ corpId: 1, remarkMobileHashes: 1 });
relationshipSchema.index({ corpId: 1, remarkHash: 1 }, { sparse: true });
// Batch loads of a page of customers' relationships (rule contexts, broadcast planning).
relationshipSchema.index({ corpId: 1, customerId: 1 });

// Rows of this collection are kept per job (src/infra/job-reads.ts): a write forgets them.
forgetJobReadsOnWrite(relationshipSchema, 'relationships/');

export type Relationship = InferSchemaType<typeof relationshipSchema>;
export const RelationshipModel = model('Relationship', relationshipSchema);
