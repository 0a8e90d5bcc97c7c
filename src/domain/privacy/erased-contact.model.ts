import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * Contacts erased on request or by retention, kept only as a keyed hash of their external_userid
 * (never the id itself), so a later callback or reconciliation does not collect them again. A new
 * add by the customer after the erasure is a new relationship and lifts the suppression.
 */
const erasedContactSchema = new Schema(
  {
    corpId: { type: String, required: true },
    contactHash: { type: String, required: true },
    erasedAt: { type: Date, required: true },
  },
  { collection: 'erased_contacts', versionKey: false },
);
erasedContactSchema.index({ corpId: 1, contactHash: 1 }, { unique: true });

export type ErasedContact = InferSchemaType<typeof erasedContactSchema>;
export const ErasedContactModel = model('ErasedContact', erasedContactSchema);
