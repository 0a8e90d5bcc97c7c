import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

/**
 * Signing secrets of one pusher (source: `dms`, `leads` ...) of one corp (docs/outcomes.md,
 * "Webhook secrets"): at most two are valid at once, so a rotation never drops a delivery. Each
 * secret is sealed (DataCipher, bound to corp, source and secret id); never stored in clear.
 */
const secretSchema = new Schema(
  {
    id: { type: String, required: true },
    sealed: { type: String, required: true },
    createdAt: { type: Date, required: true },
    /** When set, the secret stops verifying then (the previous one after a rotation). */
    expiresAt: { type: Date },
  },
  { _id: false },
);

const webhookSecretSchema = new Schema(
  {
    corpId: { type: String, required: true },
    source: { type: String, required: true },
    secrets: { type: [secretSchema], default: [] },
  },
  { collection: 'webhook_secrets', timestamps: true, versionKey: false },
);
webhookSecretSchema.index({ corpId: 1, source: 1 }, { unique: true });

export type WebhookSecretDocument = InferSchemaType<typeof webhookSecretSchema>;
export const WebhookSecretModel: Model<WebhookSecretDocument> =
  (mongoose.models.WebhookSecret as Model<WebhookSecretDocument> | undefined) ??
  mongoose.model<WebhookSecretDocument>('WebhookSecret', webhookSecretSchema);
