import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

/**
 * A bearer API token (docs/security.md): only the SHA-256 of the token is stored; the token itself
 * is shown once by `npm run token -- create`. `tokenId` is the public part (also inside the
 * token) used in audit records and rate-limit keys.
 */
const apiTokenSchema = new Schema(
  {
    tokenId: { type: String, required: true, unique: true },
    hash: { type: String, required: true, unique: true },
    role: { type: String, required: true },
    /** Empty for all-corps roles (admin, oem). */
    corps: { type: [String], default: [] },
    userid: { type: String },
    label: { type: String },
    createdAt: { type: Date, required: true },
    revokedAt: { type: Date },
    /** Optional end of validity: the token resolves to nothing from then on. */
    expiresAt: { type: Date },
    /** Last successful use, written at most once a minute (TokenService.resolve). */
    lastUsedAt: { type: Date },
  },
  { collection: 'api_tokens', versionKey: false },
);

export type ApiTokenDocument = InferSchemaType<typeof apiTokenSchema>;
export const ApiTokenModel: Model<ApiTokenDocument> =
  (mongoose.models.ApiToken as Model<ApiTokenDocument> | undefined) ??
  mongoose.model<ApiTokenDocument>('ApiToken', apiTokenSchema);
