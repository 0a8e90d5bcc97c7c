import { Schema, model, type InferSchemaType } from 'mongoose';
import { forgetJobReadsOnWrite } from '../../infra/job-reads.js';

/** `dormant`: an owner without a repair order for the corp's `outcomes.dormantMonths` (docs/outcomes.md, "Dormant owners"). */
export const LIFECYCLE_STAGES = ['prospect', 'owner', 'dormant', 'lost'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

const lifecycleChangeSchema = new Schema(
  {
    stage: { type: String, enum: LIFECYCLE_STAGES, required: true },
    /** Why, as a code: `vehicle_linked`, `delivery_channel`, `owner_tag`, `no_active_relationship`, `no_repair_order`, `arrival` ... */
    reason: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { _id: false },
);

/**
 * An external contact of one corp (docs/architecture.md §4–5). Direct identifiers are sealed with DataCipher
 * (`*Enc`) and searchable only through keyed hashes (`*Hash`, docs/architecture.md §7); nothing here is ever
 * logged or put into job data.
 */
const customerSchema = new Schema(
  {
    corpId: { type: String, required: true },
    externalUserId: { type: String, required: true },
    /** 1 = WeChat user, 2 = WeCom user (docs/wecom.md §6.5). */
    type: { type: Number, enum: [1, 2], default: 1 },
    nameEnc: { type: String },
    nameHash: { type: String },
    unionidEnc: { type: String },
    unionidHash: { type: String },
    birthdayEnc: { type: String },
    /** Dealer-supplied attributes; free text is sealed. */
    preferredContactTime: { type: String },
    dmsNotesEnc: { type: String },
    lifecycle: {
      stage: { type: String, enum: LIFECYCLE_STAGES, default: 'prospect' },
      reason: { type: String, default: 'added' },
      changedAt: { type: Date },
    },
    lifecycleHistory: { type: [lifecycleChangeSchema], default: [] },
    /** The advisor who follows up (docs/architecture.md §4): vehicle's sales advisor, else most recent active relationship. */
    responsibleUserid: { type: String },
    /** Opted out of automated marketing (PIPL Art. 24): checked when a message is sent. `source`: how it was recorded. */
    optOut: {
      value: { type: Boolean, default: false },
      at: { type: Date },
      source: { type: String },
    },
    /** The corp's privacy notice as last sent to this customer (docs/data-inventory.md): version, time, channel. */
    privacyNotice: {
      version: { type: String },
      sentAt: { type: Date },
      channel: { type: String },
    },
    /** Set when the customer's personal data was erased; the row stays, anonymised, for counts. */
    erasedAt: { type: Date },
    /** Last time WeCom's view of this contact was fetched (externalcontact/get). */
    fetchedAt: { type: Date },
  },
  { timestamps: true, collection: 'customers' },
);
customerSchema.index({ corpId: 1, externalUserId: 1 }, { unique: true });
customerSchema.index({ corpId: 1, nameHash: 1 }, { sparse: true });
customerSchema.index({ corpId: 1, unionidHash: 1 }, { sparse: true });
customerSchema.index({ corpId: 1, responsibleUserid: 1, 'lifecycle.stage': 1 });
// A job's kept customer row (src/domain/customers/customer-rows.ts) is forgotten on any write.
forgetJobReadsOnWrite(customerSchema, 'customers/');

export type Customer = InferSchemaType<typeof customerSchema>;
export const CustomerModel = model('Customer', customerSchema);
