import mongoose, { Schema, type InferSchemaType, type Model, type Types } from 'mongoose';
import { OUTCOME_STATUSES, OUTCOME_TYPES, RO_TYPES } from './outcome-input.js';

/**
 * A business fact from the dealer's DMS (docs/outcomes.md): appointment, repair order, insurance
 * policy or vehicle sale. One document per (corp, source, externalId) holding the highest
 * version received; a cancellation is a version with status `cancelled`. `orderKey` orders
 * versions (version, then a content hash), so any delivery order ends in the same state. The
 * mobile is kept only as its keyed hash.
 */
const outcomeSchema = new Schema(
  {
    corpId: { type: String, required: true },
    source: { type: String, required: true },
    externalId: { type: String, required: true },
    version: { type: Number, required: true },
    /** `<version, 12 digits>.<content hash>`: the larger wins. */
    orderKey: { type: String, required: true },
    type: { type: String, enum: OUTCOME_TYPES, required: true },
    status: { type: String, enum: OUTCOME_STATUSES, required: true },
    occurredAt: { type: Date, required: true },
    vin: { type: String },
    mobileHash: { type: String },
    customerId: { type: Schema.Types.ObjectId },
    vehicleId: { type: Schema.Types.ObjectId },
    matchedBy: { type: String, enum: ['vin', 'mobile', 'none'], required: true },
    roNumber: { type: String },
    roType: { type: String, enum: RO_TYPES },
    closedAt: { type: Date },
    labourAmount: { type: Number },
    partsAmount: { type: Number },
    mileageKm: { type: Number },
    serviceAdvisor: { type: String },
    policyNumber: { type: String },
    insurer: { type: String },
    policyEnd: { type: Date },
    premium: { type: Number },
    policyKind: { type: String, enum: ['renewal', 'new'] },
    saleKind: { type: String, enum: ['order', 'delivery'] },
    model: { type: String },
    saleAmount: { type: Number },
    /** Labour + parts, the premium, or the sale amount (yuan). */
    revenue: { type: Number, required: true, default: 0 },
    receivedVia: { type: String, enum: ['api', 'import', 'webhook', 'simulator'], required: true },
    receivedAt: { type: Date, required: true },
  },
  { collection: 'outcomes', versionKey: false },
);
outcomeSchema.index({ corpId: 1, source: 1, externalId: 1 }, { unique: true });
outcomeSchema.index({ corpId: 1, customerId: 1, occurredAt: 1 });
outcomeSchema.index({ corpId: 1, matchedBy: 1, occurredAt: -1 });
outcomeSchema.index({ corpId: 1, occurredAt: 1 });
// The anchors of a vehicle follow its outcomes: looked up by VIN on every delivery.
outcomeSchema.index({ corpId: 1, vin: 1, type: 1, occurredAt: -1 });

export type OutcomeDocument = InferSchemaType<typeof outcomeSchema>;
export type OutcomeLean = OutcomeDocument & { _id: Types.ObjectId };
export const OutcomeModel: Model<OutcomeDocument> =
  (mongoose.models.Outcome as Model<OutcomeDocument> | undefined) ??
  mongoose.model<OutcomeDocument>('Outcome', outcomeSchema);
