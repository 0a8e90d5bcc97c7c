import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

/** One corp's WeCom media id for the image and when it was uploaded (valid 3 days). */
const corpUploadSchema = new Schema(
  {
    corpId: { type: String, required: true },
    mediaId: { type: String, required: true },
    uploadedAt: { type: Date, required: true },
  },
  { _id: false },
);

/**
 * An image marketing uploaded for welcomes and messages (POST /api/v1/media). WeCom temporary
 * media expire after 3 days (docs/wecom.md §3.12 media/upload), so each corp's `media_id` is kept
 * with its upload time and replaced before it expires.
 */
const mediaAssetSchema = new Schema(
  {
    filename: { type: String, required: true },
    contentType: { type: String, required: true },
    data: { type: Buffer, required: true },
    scope: { type: String, required: true },
    uploads: {
      type: [corpUploadSchema],
      default: [],
    },
    /**
     * The same image uploaded as a Moments attachment (`media/upload_attachment`, attachment_type 1),
     * per corp: a different media id from `uploads`, also valid 3 days (docs/wecom.md §12.3).
     */
    attachmentUploads: {
      type: [corpUploadSchema],
      default: [],
    },
  },
  { collection: 'media_assets', timestamps: true, versionKey: false },
);

export type MediaAssetDocument = InferSchemaType<typeof mediaAssetSchema>;
export const MediaAssetModel: Model<MediaAssetDocument> =
  (mongoose.models.MediaAsset as Model<MediaAssetDocument> | undefined) ??
  mongoose.model<MediaAssetDocument>('MediaAsset', mediaAssetSchema);

/**
 * The image bytes of an asset read with `lean()`: there the field is a BSON `Binary`, not a
 * `Buffer`, and `new Uint8Array(binary)` is empty (an upload of it was an empty file).
 */
export function assetBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  const inner = (data as { buffer?: unknown } | null)?.buffer;
  if (inner instanceof Uint8Array) return inner;
  throw new Error('media asset data is neither a Buffer nor a BSON Binary');
}
