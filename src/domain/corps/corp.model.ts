import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

/**
 * One WeCom corp (tenant): a dealer's corp or the car maker's own (`oem`, no customers; docs/architecture.md §5).
 * Secrets (app secret, callback Token and EncodingAESKey, contact-sync credentials) are stored
 * sealed with DataCipher (AES-256-GCM with a key id), never in clear text.
 */
const corpSchema = new Schema(
  {
    corpId: { type: String, required: true, unique: true },
    kind: { type: String, enum: ['dealer', 'oem'], required: true },
    displayName: { type: String, required: true },
    agentId: { type: Number, required: true },
    secretSealed: { type: String, required: true },
    callbackTokenSealed: { type: String, required: true },
    callbackAesKeySealed: { type: String, required: true },
    contactSyncTokenSealed: { type: String },
    contactSyncAesKeySealed: { type: String },
    timezone: { type: String, required: true },
    enabled: { type: Boolean, required: true, default: true },
    /** How this corp recognises and tags retained customers (RetentionSettings; defaults when absent). */
    retention: { type: Schema.Types.Mixed },
    /** Privacy notice and data retention (PrivacySettings; defaults when absent). */
    privacy: { type: Schema.Types.Mixed },
    /** Follow-up task settings (TaskSettings; defaults when absent). */
    tasks: { type: Schema.Types.Mixed },
    /** Console roles by userid (ConsoleRoles; defaults when absent). */
    consoleRoles: { type: Schema.Types.Mixed },
    /** Attribution windows, no-show and dormancy thresholds (OutcomeSettings; defaults when absent). */
    outcomes: { type: Schema.Types.Mixed },
  },
  { collection: 'corps', timestamps: true, versionKey: false },
);

export type CorpDocument = InferSchemaType<typeof corpSchema>;

export const CorpModel: Model<CorpDocument> =
  (mongoose.models.Corp as Model<CorpDocument> | undefined) ?? mongoose.model<CorpDocument>('Corp', corpSchema);
