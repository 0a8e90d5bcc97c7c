import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

/**
 * One audited action (docs/architecture.md §7): who (token id, role, bound userid), what (`rule.update`,
 * `customer.read_personal` ...), on which target (type, id, corp), when, and the request id.
 * Never personal data: targets are ids, never names, phones or message texts.
 */
const auditEntrySchema = new Schema(
  {
    at: { type: Date, required: true },
    actor: {
      tokenId: { type: String, required: true },
      role: { type: String, required: true },
      userid: { type: String },
    },
    action: { type: String, required: true },
    target: {
      type: { type: String, required: true },
      id: { type: String },
      corpId: { type: String },
    },
    requestId: { type: String },
    /** Small non-personal facts: a rule version, changed field names ... */
    detail: { type: Schema.Types.Mixed },
  },
  { collection: 'audit_entries', versionKey: false },
);
auditEntrySchema.index({ at: -1 });
auditEntrySchema.index({ 'target.corpId': 1, at: -1 });
auditEntrySchema.index({ 'actor.tokenId': 1, at: -1 });

export type AuditEntryDocument = InferSchemaType<typeof auditEntrySchema>;
export const AuditEntryModel: Model<AuditEntryDocument> =
  (mongoose.models.AuditEntry as Model<AuditEntryDocument> | undefined) ??
  mongoose.model<AuditEntryDocument>('AuditEntry', auditEntrySchema);
