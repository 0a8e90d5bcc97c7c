import { Schema, model, type InferSchemaType } from 'mongoose';
import { forgetJobReadsOnWrite } from '../../infra/job-reads.js';

/**
 * A car from the dealer's DMS (docs/architecture.md §5), linked to a customer by external_userid, unionid or
 * remark mobile. Its dates are the anchors that date rules count from.
 */
const vehicleSchema = new Schema(
  {
    corpId: { type: String, required: true },
    vin: { type: String, required: true, uppercase: true, trim: true, match: /^[A-HJ-NPR-Z0-9]{17}$/ },
    model: { type: String },
    deliveryDate: { type: Date },
    mileageKm: { type: Number, min: 0 },
    mileageAt: { type: Date },
    lastServiceDate: { type: Date },
    insuranceExpiry: { type: Date },
    customerId: { type: Schema.Types.ObjectId, ref: 'Customer' },
    externalUserId: { type: String },
    /** The advisor who sold it; becomes the customer's responsible advisor (docs/architecture.md §4). */
    salesUserid: { type: String },
    source: { type: String, enum: ['api', 'import'], required: true },
    linkedAt: { type: Date },
    /**
     * Since when the daily outcomes run has found the owner unreachable on WeCom (no linked customer
     * with an active relationship); unset once reachable. Names the episode `owner.unreachable`
     * rules fire once for (docs/outcomes.md, "Add this owner on WeCom" tasks).
     */
    unreachableSince: { type: Date },
    /** When the linked owner's data was erased: no "add this owner on WeCom" work for this vehicle any more. */
    ownerErasedAt: { type: Date },
  },
  { timestamps: true, collection: 'vehicles' },
);
vehicleSchema.index({ corpId: 1, vin: 1 }, { unique: true });
vehicleSchema.index({ corpId: 1, customerId: 1 });

// Rows of this collection are kept per job (src/infra/job-reads.ts): a write forgets them.
forgetJobReadsOnWrite(vehicleSchema, 'vehicles/');

export type Vehicle = InferSchemaType<typeof vehicleSchema>;
export const VehicleModel = model('Vehicle', vehicleSchema);
